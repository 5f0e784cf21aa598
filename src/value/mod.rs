//! Values: the owned data a request and `data` are made of, and the borrowed
//! view the evaluator computes with.
//!
//! Invariant: `Val<'a>` borrows strings, lists and records from the request,
//! the data and the compiled policy, so reading a path or slicing a string
//! never allocates; only values built at decision time (templates, upper-case
//! strings, comprehensions) own their storage, behind an `Rc`.

use std::cmp::Ordering;
use std::fmt;
use std::rc::Rc;

mod glob;
pub(crate) mod graph;
mod patterns;
pub(crate) mod scalar;
mod val;

pub(crate) use glob::glob_match;
pub(crate) use patterns::{compile as compile_pattern, path_match, PatternCache};
pub(crate) use scalar::Scalar;
pub(crate) use val::*;

/// An owned value: what requests, data and policy constants hold.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// `null`. An absent field is not null: reading one is an error unless
    /// the policy tests for it (`??`, `has`).
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer, exact.
    Int(i64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string, compared byte for byte.
    Str(Box<str>),
    /// A list.
    List(List),
    /// A record.
    Record(Record),
}

/// A list of values. Lists held as `Data` carry what loading the data
/// learned about them (`ListIndex`): a hash set of the members of a long
/// string list, so `x in list` is a lookup rather than a scan on every
/// decision, and the items of a principal descriptor read as principals.
/// The items cannot be changed in place, so the index always agrees with
/// them.
#[derive(Clone, Debug)]
pub struct List {
    items: Box<[Value]>,
    index: Option<Box<ListIndex>>,
    /// Nesting depth (see [`Value::depth`]), known when the list is made.
    depth: u32,
}

/// The members of a string list, exactly as written, so a lookup agrees
/// with `==`. Hashed with std's keyed
/// SipHash: the strings come from callers, so the hash must resist chosen
/// collisions.
type MemberSet = std::collections::HashSet<Box<str>>;

/// What loading data learned about one list.
#[derive(Clone, Debug, Default)]
struct ListIndex {
    /// The members of a long list of strings.
    members: Option<MemberSet>,
    /// The list read as a principal descriptor, for one policy set.
    descriptor: Option<Descriptor>,
}

/// A list held as data read as a principal descriptor when the data was
/// loaded for a policy set, so a decision neither re-parses its
/// `kind:value` texts nor re-checks its shape. Kinds are numbered per
/// policy set, so the reading is only used by the set it was made for.
#[derive(Clone, Debug)]
pub(crate) struct Descriptor {
    /// The policy set (`PolicySet` id) whose kinds the items name.
    pub set: u64,
    /// One reading per item, in order.
    pub items: Box<[DescriptorItem]>,
}

/// One item of a descriptor list, read at load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DescriptorItem {
    /// Null, or text that names no principal kind of the set: matches
    /// nobody.
    Nobody,
    /// `kind:value` text: the kind, and where the value starts in the text.
    Principal { kind: u32, at: u32 },
    /// A nested list, an AND tuple: its own `Descriptor` reads its members
    /// (principals and nobodies only).
    Tuple,
}

/// Lists shorter than this are scanned; hashing does not pay below it.
const MEMBER_SET_MIN: usize = 16;

impl Default for List {
    fn default() -> Self {
        List::new(Box::new([]))
    }
}

impl List {
    fn new(items: Box<[Value]>) -> List {
        let depth = container_depth(items.iter());
        List {
            items,
            index: None,
            depth,
        }
    }

    /// The items.
    pub fn items(&self) -> &[Value] {
        &self.items
    }

    /// Nesting depth: 1 plus the deepest item's.
    #[inline]
    pub(crate) fn depth(&self) -> u32 {
        self.depth
    }

    /// Whether `text` is a member, by the member set; `None` when the list
    /// has none (the caller scans instead).
    #[inline]
    pub(crate) fn has_member(&self, text: &str) -> Option<bool> {
        let set = self.index.as_ref()?.members.as_ref()?;
        Some(set.contains(text))
    }

    /// This list read as a principal descriptor for policy set `set`, if
    /// the data was loaded for that set and the list is a well-formed
    /// descriptor.
    #[inline]
    pub(crate) fn descriptor(&self, set: u64) -> Option<&[DescriptorItem]> {
        let d = self.index.as_ref()?.descriptor.as_ref()?;
        (d.set == set).then_some(&*d.items)
    }

    /// Records (or, with `None`, forgets) this list's reading as a
    /// descriptor.
    pub(crate) fn set_descriptor(&mut self, descriptor: Option<Descriptor>) {
        match (&mut self.index, descriptor) {
            (Some(index), d) => index.descriptor = d,
            (None, None) => {}
            (None, Some(d)) => {
                self.index = Some(Box::new(ListIndex {
                    members: None,
                    descriptor: Some(d),
                }))
            }
        }
    }

    /// The items, to be read as descriptors by loading (`set_descriptor`).
    pub(crate) fn items_mut(&mut self) -> &mut [Value] {
        &mut self.items
    }

    /// Builds member sets for this list (if it qualifies) and every list
    /// nested in it.
    fn index(&mut self) {
        for item in self.items.iter_mut() {
            item.index_lists();
        }
        let indexed = self.index.as_ref().is_some_and(|i| i.members.is_some());
        if self.items.len() < MEMBER_SET_MIN || indexed {
            return;
        }
        let mut set = MemberSet::with_capacity(self.items.len());
        for item in self.items.iter() {
            let Value::Str(text) = item else { return };
            set.insert(text.clone());
        }
        self.index.get_or_insert_with(Default::default).members = Some(set);
    }
}

impl std::ops::Deref for List {
    type Target = [Value];
    fn deref(&self) -> &[Value] {
        &self.items
    }
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl From<Vec<Value>> for List {
    fn from(items: Vec<Value>) -> Self {
        List::new(items.into())
    }
}

impl From<Box<[Value]>> for List {
    fn from(items: Box<[Value]>) -> Self {
        List::new(items)
    }
}

impl From<&[Value]> for List {
    fn from(items: &[Value]) -> Self {
        List::new(items.into())
    }
}

impl FromIterator<Value> for List {
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Self {
        List::new(iter.into_iter().collect())
    }
}

/// The depth of a list or record holding these values.
fn container_depth<'v>(items: impl Iterator<Item = &'v Value>) -> u32 {
    items.map(Value::depth).max().unwrap_or(0).saturating_add(1)
}

/// A record: fields in insertion order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Record {
    fields: Fields,
}

/// Records with at least this many fields keep their positions sorted by
/// key, so a lookup is a binary search; smaller ones are scanned.
const RECORD_INDEX_MIN: usize = 32;

/// The fields of a record in insertion order, with what a lookup needs:
/// records of many fields also keep their positions sorted by key, built
/// once when the record is made (from JSON, from a policy constant or by
/// collecting pairs), the way [`List`] keeps its member set. Keys are
/// unique: a later pair of the same key replaces the earlier value and
/// keeps its position.
#[derive(Clone, Debug)]
struct Fields {
    items: Vec<(Box<str>, Value)>,
    /// Positions in `items` in key order; `None` below [`RECORD_INDEX_MIN`].
    sorted: Option<Box<[u32]>>,
    /// Nesting depth (see [`Value::depth`]).
    depth: u32,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            items: Vec::new(),
            sorted: None,
            depth: 1,
        }
    }
}

impl PartialEq for Fields {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
    }
}

impl FromIterator<(Box<str>, Value)> for Fields {
    fn from_iter<T: IntoIterator<Item = (Box<str>, Value)>>(iter: T) -> Self {
        Fields::new(iter.into_iter().collect())
    }
}

impl Fields {
    /// Takes pairs in order; of repeated keys the last value wins, at the
    /// first one's position. Sorting costs O(n log n), once.
    fn new(items: Vec<(Box<str>, Value)>) -> Fields {
        let mut f = Fields {
            items,
            sorted: None,
            depth: 1,
        };
        if f.items.len() < RECORD_INDEX_MIN {
            f.dedup_small();
        } else {
            let order = f.sorted_positions();
            let repeated = order
                .windows(2)
                .any(|w| f.key(w.first()) == f.key(w.get(1)));
            if repeated {
                f.dedup_runs(&order);
                f.sorted = Some(f.sorted_positions().into());
            } else {
                f.sorted = Some(order.into());
            }
        }
        f.depth = container_depth(f.items.iter().map(|(_, v)| v));
        f
    }

    fn key(&self, pos: Option<&u32>) -> Option<&str> {
        pos.and_then(|p| self.items.get(*p as usize))
            .map(|(k, _)| k.as_ref())
    }

    /// Positions ordered by key, then by position.
    fn sorted_positions(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.items.len() as u32).collect();
        order.sort_by(|a, b| self.key(Some(a)).cmp(&self.key(Some(b))).then(a.cmp(b)));
        order
    }

    fn dedup_small(&mut self) {
        let repeated = self.items.iter().enumerate().any(|(i, (k, _))| {
            self.items
                .get(..i)
                .is_some_and(|before| before.iter().any(|(j, _)| j == k))
        });
        if !repeated {
            return;
        }
        let mut out: Vec<(Box<str>, Value)> = Vec::with_capacity(self.items.len());
        for (k, v) in std::mem::take(&mut self.items) {
            match out.iter_mut().find(|(j, _)| *j == k) {
                Some((_, slot)) => *slot = v,
                None => out.push((k, v)),
            }
        }
        self.items = out;
    }

    /// Collapses each run of one key in `order` (positions ascending within
    /// the run) to its first position holding its last value.
    fn dedup_runs(&mut self, order: &[u32]) {
        let mut slots: Vec<Option<(Box<str>, Value)>> = std::mem::take(&mut self.items)
            .into_iter()
            .map(Some)
            .collect();
        let key_at = |slots: &[Option<(Box<str>, Value)>], p: u32| -> Option<Box<str>> {
            slots
                .get(p as usize)
                .and_then(|s| s.as_ref().map(|(k, _)| k.clone()))
        };
        let mut i = 0;
        while i < order.len() {
            let first = order.get(i).copied().unwrap_or(0);
            let key = key_at(&slots, first);
            let mut j = i + 1;
            while j < order.len() && key_at(&slots, order.get(j).copied().unwrap_or(0)) == key {
                j += 1;
            }
            if j - i > 1 {
                let last = order.get(j - 1).copied().unwrap_or(first);
                let value = slots.get_mut(last as usize).and_then(Option::take);
                for p in order.get(i + 1..j - 1).unwrap_or(&[]) {
                    if let Some(s) = slots.get_mut(*p as usize) {
                        *s = None;
                    }
                }
                if let (Some(Some(slot)), Some((_, v))) = (slots.get_mut(first as usize), value) {
                    slot.1 = v;
                }
            }
            i = j;
        }
        self.items = slots.into_iter().flatten().collect();
    }

    /// The position of `key`, by binary search or scan.
    #[inline]
    fn position(&self, key: &str) -> Result<usize, usize> {
        match &self.sorted {
            None => self
                .items
                .iter()
                .position(|(k, _)| k.as_ref() == key)
                .ok_or(self.items.len()),
            Some(order) => {
                let at = order.binary_search_by(|p| self.key(Some(p)).unwrap_or("").cmp(key));
                match at {
                    Ok(i) => order.get(i).map(|p| *p as usize).ok_or(i),
                    Err(i) => Err(i),
                }
            }
        }
    }
}

impl Record {
    /// An empty record.
    pub fn new() -> Self {
        Record::default()
    }

    /// Sets a field, replacing an earlier one of the same name.
    pub fn insert(&mut self, key: impl Into<Box<str>>, value: Value) {
        let key = key.into();
        let f = &mut self.fields;
        let deeper = value.depth().saturating_add(1);
        match f.position(&key) {
            Ok(p) => {
                let old = f.items.get_mut(p).map(|(_, v)| std::mem::replace(v, value));
                if old.is_some_and(|o| o.depth().saturating_add(1) >= f.depth) {
                    f.depth = container_depth(f.items.iter().map(|(_, v)| v));
                }
            }
            Err(at) => {
                let p = f.items.len() as u32;
                f.items.push((key, value));
                f.depth = f.depth.max(deeper);
                match &mut f.sorted {
                    Some(order) => {
                        let mut v = std::mem::take(order).into_vec();
                        v.insert(at.min(v.len()), p);
                        *order = v.into();
                    }
                    None if f.items.len() >= RECORD_INDEX_MIN => {
                        f.sorted = Some(f.sorted_positions().into());
                    }
                    None => {}
                }
            }
        }
    }

    /// The field named `key`.
    #[inline(always)]
    pub fn get(&self, key: &str) -> Option<&Value> {
        if self.fields.sorted.is_none() {
            return self
                .fields
                .items
                .iter()
                .find(|(k, _)| k.as_ref() == key)
                .map(|(_, v)| v);
        }
        let p = self.fields.position(key).ok()?;
        self.fields.items.get(p).map(|(_, v)| v)
    }

    /// Whether the field is present (even if null).
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Fields in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.items.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.items.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.items.is_empty()
    }

    /// Nesting depth: 1 plus the deepest field's.
    #[inline]
    pub(crate) fn depth(&self) -> u32 {
        self.fields.depth
    }

    /// At most how many keys a lookup compares: a binary search's probes,
    /// or every field for a record small enough to be scanned.
    #[inline]
    pub(crate) fn lookup_cost(&self) -> u64 {
        let n = self.fields.items.len();
        match self.fields.sorted {
            Some(_) => u64::from(usize::BITS - n.leading_zeros()),
            None => n as u64,
        }
    }
}

impl FromIterator<(String, Value)> for Record {
    fn from_iter<T: IntoIterator<Item = (String, Value)>>(iter: T) -> Self {
        Record {
            fields: iter.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        }
    }
}

impl FromIterator<(Box<str>, Value)> for Record {
    fn from_iter<T: IntoIterator<Item = (Box<str>, Value)>>(iter: T) -> Self {
        Record {
            fields: iter.into_iter().collect(),
        }
    }
}

impl Value {
    /// A string value.
    pub fn str(s: impl Into<Box<str>>) -> Value {
        Value::Str(s.into())
    }

    /// Builds the member sets of long string lists anywhere in this value
    /// (see `List`). Worth it for values decided against many times,
    /// such as `Data`; a request decided once is better scanned.
    pub fn index_lists(&mut self) {
        match self {
            Value::List(list) => list.index(),
            Value::Record(r) => {
                for (_, v) in r.fields.items.iter_mut() {
                    v.index_lists();
                }
            }
            _ => {}
        }
    }

    /// Calls `f` on every list in this value, inner lists first.
    pub(crate) fn visit_lists(&mut self, f: &mut impl FnMut(&mut List)) {
        match self {
            Value::List(list) => {
                for item in list.items_mut() {
                    item.visit_lists(f);
                }
                f(list);
            }
            Value::Record(r) => {
                for (_, v) in r.fields.items.iter_mut() {
                    v.visit_lists(f);
                }
            }
            _ => {}
        }
    }

    /// Nesting depth: 0 for a scalar, 1 plus the deepest item's for a list
    /// or record (so `[]` is 1 and `{"a": [1]}` is 2). Known without a walk:
    /// lists and records record it when they are made.
    #[inline]
    pub fn depth(&self) -> u32 {
        match self {
            Value::List(l) => l.depth,
            Value::Record(r) => r.fields.depth,
            _ => 0,
        }
    }

    /// Converts JSON, nested at most `max_depth` deep. Integers stay
    /// exact; a number that cannot be held exactly (an integer outside the
    /// 64-bit signed range, or an integral number written with a fraction or
    /// exponent beyond 2^53, where a double no longer holds every integer)
    /// is refused rather than rounded, so two different numbers never
    /// compare equal.
    pub fn from_json(json: &serde_json::Value, max_depth: usize) -> Result<Value, ValueError> {
        Value::from_json_at(json, max_depth).map_err(|mut e| {
            e.path.reverse();
            e
        })
    }

    fn from_json_at(json: &serde_json::Value, depth_left: usize) -> Result<Value, ValueError> {
        let nested = |json: &serde_json::Value| {
            if depth_left == 0 {
                return Err(ValueError::new("nested deeper than the value depth limit"));
            }
            Value::from_json_at(json, depth_left - 1)
        };
        Ok(match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => number(n)?,
            serde_json::Value::String(s) => Value::Str(s.as_str().into()),
            serde_json::Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(nested(item).map_err(|e| e.at(format!("[{i}]")))?);
                }
                Value::List(out.into())
            }
            serde_json::Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (k, v) in map {
                    fields.push((
                        k.as_str().into(),
                        nested(v).map_err(|e| e.at(format!(".{k}")))?,
                    ));
                }
                Value::Record(Record {
                    fields: Fields::new(fields),
                })
            }
        })
    }

    /// Converts to JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => (*b).into(),
            Value::Int(i) => (*i).into(),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            Value::Str(s) => s.as_ref().into(),
            Value::List(items) => items.iter().map(Value::to_json).collect(),
            Value::Record(r) => serde_json::Value::Object(
                r.iter()
                    .map(|(k, v)| (k.to_string(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// The field `key` of a record; `None` otherwise.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Record(r) => r.get(key),
            _ => None,
        }
    }

    /// The type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Record(_) => "a record",
        }
    }
}

/// A JSON value that cannot become a [`Value`]: where (a path below the
/// value's root, such as `.roles[2]`) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueError {
    /// Path segments from the root (`.key`, `[3]`).
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

impl ValueError {
    #[cold]
    fn new(message: impl Into<String>) -> Self {
        ValueError {
            path: Vec::new(),
            message: message.into(),
        }
    }

    #[cold]
    fn at(mut self, segment: String) -> Self {
        self.path.push(segment);
        self
    }

    /// The path as one string.
    pub fn path_text(&self) -> String {
        self.path.concat()
    }
}

/// 2^53: from here on a double does not hold every integer.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// A JSON number as an exact value (see [`Value::from_json`]).
fn number(n: &serde_json::Number) -> Result<Value, ValueError> {
    if let Some(i) = n.as_i64() {
        return Ok(Value::Int(i));
    }
    if n.is_u64() {
        return Err(ValueError::new(
            "integer out of range: integers must fit in 64 bits, signed",
        ));
    }
    match n.as_f64() {
        Some(f) if f.is_finite() && !(f.fract() == 0.0 && f.abs() >= EXACT_DOUBLE) => {
            Ok(Value::Float(f))
        }
        _ => Err(ValueError::new(
            "number cannot be represented exactly (integers must fit in 64 bits, signed; \
             integral numbers written with a fraction or exponent must be below 2^53)",
        )),
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s.into())
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl From<Record> for Value {
    fn from(r: Record) -> Self {
        Value::Record(r)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_string_lists_get_a_member_set_only_when_indexed() {
        let strings: Vec<Value> = (0..MEMBER_SET_MIN)
            .map(|i| Value::str(format!("B0000000-0000-4000-8000-{i:012}")))
            .collect();
        let mut v = Value::Record(Record::new());
        if let Value::Record(r) = &mut v {
            r.insert("long", Value::List(strings.clone().into()));
            r.insert("short", Value::List(strings[..3].to_vec().into()));
            let mut mixed = strings.clone();
            mixed.push(Value::Int(1));
            r.insert("mixed", Value::List(mixed.into()));
        }
        let list = |v: &Value, k: &str| match v {
            Value::Record(r) => match r.get(k) {
                Some(Value::List(l)) => l.clone(),
                _ => panic!("no list {k}"),
            },
            _ => panic!("not a record"),
        };
        assert_eq!(list(&v, "long").has_member("x"), None);
        v.index_lists();
        let long = list(&v, "long");
        assert_eq!(
            long.has_member("B0000000-0000-4000-8000-000000000003"),
            Some(true)
        );
        // Members are exact, as `==` is.
        assert_eq!(
            long.has_member("b0000000-0000-4000-8000-000000000003"),
            Some(false)
        );
        assert_eq!(
            long.has_member("b0000000-0000-4000-8000-0000000000ff"),
            Some(false)
        );
        assert_eq!(list(&v, "short").has_member("x"), None);
        assert_eq!(list(&v, "mixed").has_member("x"), None);
    }

    fn val(j: serde_json::Value) -> Value {
        Value::from_json(&j, 128).unwrap()
    }

    #[test]
    fn strings_compare_exactly_uuids_included() {
        let (a, b) = (
            Val::Str("b0000000-0000-4000-8000-00000000000a"),
            Val::Str("B0000000-0000-4000-8000-00000000000A"),
        );
        assert!(!val_eq(&a, &b));
        assert!(val_eq(&a, &a.clone()));
        assert!(!val_eq(&Val::Str("7"), &Val::Int(7)));
    }

    #[test]
    fn numbers_are_exact() {
        assert!(Value::from_json(&serde_json::json!(18446744073709551615u64), 128).is_err());
        let big: serde_json::Value = serde_json::from_str("9007199254740993.0").unwrap();
        assert!(Value::from_json(&big, 128).is_err());
        // An integral double past 2^53 (serde_json itself refuses 1e400).
        let huge: serde_json::Value = serde_json::from_str("1e300").unwrap();
        assert!(Value::from_json(&huge, 128).is_err());
        assert!(serde_json::from_str::<serde_json::Value>("1e400").is_err());
        assert_eq!(
            val(serde_json::json!(9007199254740993i64)),
            Value::Int(9007199254740993)
        );
        let (i, f) = (Val::Int(9007199254740993), Val::Float(9007199254740992.0));
        assert!(!val_eq(&i, &f));
        assert_eq!(val_cmp(&i, &f), Some(Ordering::Greater));
        assert_eq!(val_cmp(&f, &i), Some(Ordering::Less));
        assert!(val_eq(&Val::Int(7), &Val::Float(7.0)));
        assert_eq!(
            val_cmp(&Val::Int(7), &Val::Float(7.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            val_cmp(&Val::Int(-8), &Val::Float(-7.5)),
            Some(Ordering::Less)
        );
        assert_eq!(
            val_cmp(&Val::Int(i64::MAX), &Val::Float(9.3e18)),
            Some(Ordering::Less)
        );
        assert_eq!(val(serde_json::json!(0.5)), Value::Float(0.5));
    }

    #[test]
    fn json_depth_is_bounded_and_errors_name_the_path() {
        let mut deep = serde_json::json!(1);
        for _ in 0..10_000 {
            deep = serde_json::Value::Array(vec![deep]);
        }
        let e = Value::from_json(&deep, 128).unwrap_err();
        assert!(e.message.contains("depth"));
        assert_eq!(e.path.len(), 129);
        // serde_json drops deep values recursively too: unwind it by hand.
        while let serde_json::Value::Array(mut items) = deep {
            deep = items.pop().unwrap_or_default();
        }
        let e = Value::from_json(
            &serde_json::json!({"a": [1, {"b": 18446744073709551615u64}]}),
            128,
        )
        .unwrap_err();
        assert_eq!(e.path_text(), ".a[1].b");
    }

    #[test]
    fn json_round_trips() {
        let j: serde_json::Value =
            serde_json::json!({"a": [1, 2.5, "x", null, true], "b": {"c": {}}});
        assert_eq!(val(j.clone()).to_json(), j);
    }

    #[test]
    fn absent_fields_are_not_null_and_records_compare_by_content() {
        let v = val(serde_json::json!({"a": 1, "b": [1, 2], "n": null}));
        let w = val(serde_json::json!({"b": [1, 2], "a": 1, "n": null}));
        let (x, y) = (Val::from(&v), Val::from(&w));
        assert!(matches!(x.field("zzz"), FieldRead::Absent));
        assert!(matches!(x.field("n"), FieldRead::Present(Val::Null)));
        assert!(val_eq(&x, &y));
        let z = val(serde_json::json!({"b": [1, 2], "a": 1, "m": null}));
        assert!(!val_eq(&x, &Val::from(&z)));
        assert!(val_cmp(&Val::Int(1), &Val::Str("a")).is_none());
    }
}
