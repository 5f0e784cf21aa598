//! What a decision costs: the budget every operation spends from, and the
//! operations that would otherwise do unbounded work for one step.
//!
//! Input: the values the evaluator computes with. Output: answers, and the
//! steps they cost charged to a [`Meter`]. Invariants:
//! - one step is one expression node evaluated, one element, field or
//!   candidate visited, or [`BYTES_PER_STEP`] bytes built, compared or
//!   scanned; work is charged before it is done (or as it is done, for
//!   text being written), so a decision ends within a step of its budget;
//! - a lookup that a scan would make quadratic (`distinct`, membership in
//!   a long list the decision searches more than once, a principal's
//!   member field) goes through a hash of a key at least as coarse as the
//!   comparison it replaces, and every hit is confirmed with that very
//!   comparison, so hashing never changes an answer;
//! - hashes are std's keyed SipHash, seeded per decision: keys come from
//!   callers, who must not be able to choose collisions.

use crate::value::{is_uuid_text, val_eq, ListView, Val, Value};
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Bytes built, compared or scanned per step.
pub(crate) const BYTES_PER_STEP: u64 = 64;

/// Lists shorter than this are scanned; longer ones searched twice in one
/// decision get a hashed index.
pub(crate) const LONG_LIST: usize = 64;

/// The budget ran out.
#[derive(Debug)]
pub(crate) struct Exhausted;

pub(crate) type Charged<T> = Result<T, Exhausted>;

/// The steps left in one decision.
#[derive(Debug)]
pub(crate) struct Meter {
    left: u64,
    limit: u64,
}

impl Meter {
    pub fn new(limit: u64) -> Meter {
        Meter { left: limit, limit }
    }

    /// Takes `n` steps; when fewer are left, takes them all and fails.
    #[inline]
    pub fn charge(&mut self, n: u64) -> Charged<()> {
        if n > self.left {
            self.left = 0;
            return Err(Exhausted);
        }
        self.left -= n;
        Ok(())
    }

    /// Charges for touching `n` bytes (a step per [`BYTES_PER_STEP`]; short
    /// texts ride on the step of the node that reads them).
    #[inline]
    pub fn bytes(&mut self, n: usize) -> Charged<()> {
        self.charge(n as u64 / BYTES_PER_STEP)
    }

    /// Charges for sorting or hashing `n` items.
    pub fn items(&mut self, n: usize) -> Charged<()> {
        self.charge(n as u64)
    }

    /// Steps left.
    pub fn left(&self) -> u64 {
        self.left
    }

    /// Steps taken so far.
    pub fn spent(&self) -> u64 {
        self.limit - self.left
    }
}

// ------------------------------------------------------------ walks

/// Structural equality as [`val_eq`] decides it, charged: a step per list
/// item or record field compared and per [`BYTES_PER_STEP`] bytes of
/// equal-length text. Containers are walked here; every other pair is
/// decided by `val_eq` itself, so the two agree (`tests::eq_agrees`).
pub(crate) fn eq(a: &Val, b: &Val, m: &mut Meter) -> Charged<bool> {
    if let (Val::Principal(x), Val::Principal(y)) = (a, b) {
        m.charge(1)?;
        return Ok(x.kind == y.kind && eq(&x.value, &y.value, m)?);
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        if x.len() == y.len() {
            m.bytes(x.len())?;
        }
        return Ok(val_eq(a, b));
    }
    // A tuple is not a list: `(a, b)` is AND, `[a, b]` is OR.
    if matches!(a, Val::Tuple(_)) != matches!(b, Val::Tuple(_)) {
        return Ok(false);
    }
    if let (Some(x), Some(y)) = (a.as_list(), b.as_list()) {
        if x.len() != y.len() {
            return Ok(false);
        }
        for (p, q) in x.iter().zip(y.iter()) {
            m.charge(1)?;
            if !eq(&p, &q, m)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if a.is_record() && b.is_record() {
        return record_eq(a, b, m);
    }
    Ok(val_eq(a, b))
}

fn record_len(v: &Val) -> usize {
    match v {
        Val::Record(r) => r.len(),
        Val::OwnedRecord(f) => f.len(),
        _ => 0,
    }
}

/// Records are equal when they have the same keys with equal values.
fn record_eq(a: &Val, b: &Val, m: &mut Meter) -> Charged<bool> {
    if record_len(a) != record_len(b) {
        return Ok(false);
    }
    // Fields of `b` by key: a record read from JSON looks its keys up
    // itself; a long one built during the decision is hashed here once.
    let built: Option<HashMap<&str, &Val>> = match b {
        Val::OwnedRecord(f) if f.len() > LONG_LIST => {
            m.items(f.len())?;
            Some(f.iter().map(|(k, v)| (k.as_ref(), v)).collect())
        }
        _ => None,
    };
    let mut same = |key: &str, v: &Val| -> Charged<bool> {
        m.charge(1)?;
        m.bytes(key.len())?;
        let w = match (&built, b) {
            (Some(map), _) => map.get(key).map(|w| (*w).clone()),
            (None, Val::Record(r)) => {
                m.charge(r.lookup_cost())?;
                r.get(key).map(Val::from)
            }
            (None, Val::OwnedRecord(f)) => {
                m.items(f.len())?;
                f.iter()
                    .find(|(k, _)| k.as_ref() == key)
                    .map(|(_, w)| w.clone())
            }
            _ => None,
        };
        match w {
            Some(w) => eq(v, &w, m),
            None => Ok(false),
        }
    };
    match a {
        Val::Record(r) => {
            for (k, v) in r.iter() {
                if !same(k, &Val::from(v))? {
                    return Ok(false);
                }
            }
        }
        Val::OwnedRecord(f) => {
            for (k, v) in f.iter() {
                if !same(k, v)? {
                    return Ok(false);
                }
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Charges for everything a copy or rendering of the value touches: a step
/// per item and field, and the bytes of its text. A value built from
/// shared parts (`let b = [a, a]`) is charged for each time a part is
/// reached, which is what copying it costs.
pub(crate) fn size(v: &Val, m: &mut Meter) -> Charged<()> {
    match v {
        Val::Str(s) => m.bytes(s.len()),
        Val::OwnedStr(s) => m.bytes(s.len()),
        Val::List(l) => {
            m.items(l.len())?;
            for item in l.iter() {
                size(&Val::from(item), m)?;
            }
            Ok(())
        }
        Val::OwnedList(items) | Val::Tuple(items) => {
            m.items(items.len())?;
            items.iter().try_for_each(|item| size(item, m))
        }
        Val::Record(r) => {
            m.items(r.len())?;
            for (k, item) in r.iter() {
                m.bytes(k.len())?;
                size(&Val::from(item), m)?;
            }
            Ok(())
        }
        Val::OwnedRecord(fields) => {
            m.items(fields.len())?;
            for (k, item) in fields.iter() {
                m.bytes(k.len())?;
                size(item, m)?;
            }
            Ok(())
        }
        Val::Principal(p) => {
            m.charge(1)?;
            size(&p.value, m)
        }
        _ => Ok(()),
    }
}

/// Nesting depth of a value, as [`crate::value::Value::depth`] counts it
/// (a principal counts as a level around its value). Lists and records
/// read from JSON know theirs; values built during the decision are walked,
/// a step per item. Built values are kept within the depth limit when they
/// are made, so the walk never recurses past it.
pub(crate) fn depth(v: &Val, m: &mut Meter) -> Charged<u32> {
    depth_in(v, m, &mut HashMap::new(), true)
}

/// [`depth`], remembering the depth of each built part by its address, so
/// a part shared many times (`let b = [a, a]`) is walked once.
fn depth_in(v: &Val, m: &mut Meter, known: &mut HashMap<usize, u32>, top: bool) -> Charged<u32> {
    let at = match v {
        Val::List(l) => return Ok(l.depth()),
        Val::Record(r) => return Ok(r.depth()),
        Val::OwnedList(items) | Val::Tuple(items) => items.as_ptr() as usize,
        Val::OwnedRecord(fields) => fields.as_ptr() as usize,
        Val::Principal(p) => std::rc::Rc::as_ptr(p) as usize,
        _ => return Ok(0),
    };
    if let Some(d) = known.get(&at) {
        return Ok(*d);
    }
    let mut deepest = 0;
    let mut visit = |item: &Val, m: &mut Meter| -> Charged<()> {
        m.charge(1)?;
        deepest = deepest.max(depth_in(item, m, known, false)?);
        Ok(())
    };
    match v {
        Val::OwnedList(items) | Val::Tuple(items) => {
            items.iter().try_for_each(|item| visit(item, m))?
        }
        Val::OwnedRecord(fields) => fields.iter().try_for_each(|(_, item)| visit(item, m))?,
        Val::Principal(p) => visit(&p.value, m)?,
        _ => {}
    }
    let d = deepest.saturating_add(1);
    // The value being built is walked once; only its parts may recur.
    if !top {
        known.insert(at, d);
    }
    Ok(d)
}

// ------------------------------------------------------------ keys

/// What a hashed lookup compares by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sem {
    /// `x in list` for a string `x`: strings only, keyed with UUIDs folded
    /// (coarser than `==`, which confirms every hit exactly); the comparison
    /// given must be exact string equality, and text read from JSON is
    /// compared in place.
    Text,
    /// A principal's member field: keyed no finer than any kind's
    /// comparison (`as int` reads digit text as numbers, `as uuid` ignores
    /// UUID case), each hit confirmed by the kind's own comparison.
    Id,
}

fn hash_text(h: &mut impl Hasher, s: &str) {
    if is_uuid_text(s) {
        let mut buf = [0u8; 36];
        for (slot, b) in buf.iter_mut().zip(s.bytes()) {
            *slot = b.to_ascii_lowercase();
        }
        h.write(&buf);
    } else {
        h.write(s.as_bytes());
    }
    h.write_u8(0xff);
}

/// A key no finer than the comparison: values the comparison may find equal
/// always hash alike. `None` for a value this kind of lookup does not key
/// (it is compared with every unkeyed item instead).
fn key(sem: Sem, v: &Val, state: &RandomState) -> Option<u64> {
    let mut h = state.build_hasher();
    match (sem, v) {
        (Sem::Text, _) => {
            h.write_u8(4);
            hash_text(&mut h, v.as_str()?);
        }
        (Sem::Id, Val::Int(n)) if *n >= 0 => {
            h.write_u8(1);
            h.write_u64(*n as u64);
        }
        (Sem::Id, Val::Int(n)) => {
            h.write_u8(3);
            h.write_i64(*n);
        }
        // An integral float equals the integer it holds: key it as one.
        (Sem::Id, Val::Float(f)) if f.fract() == 0.0 && (-9.2e18..9.2e18).contains(f) => {
            let n = *f as i64;
            if n >= 0 {
                h.write_u8(1);
                h.write_u64(n as u64);
            } else {
                h.write_u8(3);
                h.write_i64(n);
            }
        }
        (Sem::Id, _) => {
            let s = v.as_str()?;
            if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                let t = s.trim_start_matches('0');
                match t.parse::<u64>() {
                    Ok(n) => {
                        h.write_u8(1);
                        h.write_u64(n);
                    }
                    Err(_) if t.is_empty() => {
                        h.write_u8(1);
                        h.write_u64(0);
                    }
                    Err(_) => {
                        h.write_u8(2);
                        h.write(t.as_bytes());
                    }
                }
            } else {
                h.write_u8(4);
                hash_text(&mut h, s);
            }
        }
    }
    Some(h.finish())
}

/// Numbers keyed by their value as a float (equal numbers, integer or not,
/// share a key), for `distinct`.
fn number_key(v: &Val, state: &RandomState) -> Option<u64> {
    let x = match v {
        Val::Int(i) => *i as f64,
        Val::Float(f) => *f,
        // Equal to the JSON number of its own text.
        Val::Scalar(crate::value::Scalar::Decimal(d)) => {
            crate::value::scalar::decimal_to_float(d.get())
        }
        _ => return None,
    };
    let x = if x == 0.0 { 0.0 } else { x };
    let mut h = state.build_hasher();
    h.write_u8(5);
    h.write_u64(x.to_bits());
    Some(h.finish())
}

/// Positions grouped by the hash of their key: sorted, so the positions of
/// one key are adjacent and ascending. Built in one pass and one sort,
/// which beats a hash table for lists of many thousands (no random
/// writes while building).
#[derive(Debug, Default)]
struct Buckets {
    entries: Vec<(u64, u32)>,
}

impl Buckets {
    fn new(mut entries: Vec<(u64, u32)>) -> Buckets {
        entries.sort_unstable();
        Buckets { entries }
    }

    fn candidates(&self, key: u64) -> impl Iterator<Item = u32> + '_ {
        let start = self.entries.partition_point(|(k, _)| *k < key);
        self.entries
            .get(start..)
            .unwrap_or(&[])
            .iter()
            .take_while(move |(k, _)| *k == key)
            .map(|(_, p)| *p)
    }
}

// ------------------------------------------------------------ lookups

/// A hashed index of one list, for one kind of lookup.
struct ListIndex<'a> {
    /// The list itself: held so that an owned list outlives its entry and
    /// its address cannot be reused by another list.
    list: Val<'a>,
    id: (usize, usize, Sem),
    keyed: Buckets,
    /// Items with no key, compared one by one.
    unkeyed: Vec<u32>,
}

/// Membership lookups of one decision. The first search of a long list
/// scans it; a second search of the same list builds its index, so a
/// decision that searches a list many times pays about once for it.
#[derive(Default)]
pub(crate) struct Lookups<'a> {
    state: Option<RandomState>,
    /// Long lists searched once so far (address, length, kind; 0 is free).
    seen: [(usize, usize, Option<Sem>); 4],
    next_seen: usize,
    indexes: Vec<ListIndex<'a>>,
}

fn identity(list: &Val) -> Option<(usize, usize)> {
    match list {
        Val::List(l) => Some((l.items().as_ptr() as usize, l.len())),
        Val::OwnedList(items) | Val::Tuple(items) => Some((items.as_ptr() as usize, items.len())),
        _ => None,
    }
}

impl<'a> Lookups<'a> {
    fn state(&mut self) -> &RandomState {
        self.state.get_or_insert_with(RandomState::new)
    }

    /// Whether `probe` is in `list`, by `same`: a scan, or for a long list
    /// searched before in this decision, its index. Charged a step per item
    /// compared (and per item indexed).
    pub fn contains(
        &mut self,
        list: &Val<'a>,
        probe: &Val,
        sem: Sem,
        same: impl Fn(&Val, &Val) -> bool,
        m: &mut Meter,
    ) -> Charged<bool> {
        let Some(items) = list.as_list() else {
            return Ok(false);
        };
        let Some((addr, len)) = identity(list).filter(|(_, len)| *len >= LONG_LIST) else {
            return scan(&items, probe, sem, &same, m);
        };
        let id = (addr, len, sem);
        let at = match self.indexes.iter().position(|x| x.id == id) {
            Some(at) => at,
            None => {
                let seen = self
                    .seen
                    .iter()
                    .any(|(a, l, s)| (*a, *l, *s) == (addr, len, Some(sem)));
                if !seen {
                    if let Some(slot) = self.seen.get_mut(self.next_seen % 4) {
                        *slot = (addr, len, Some(sem));
                    }
                    self.next_seen += 1;
                    return scan(&items, probe, sem, &same, m);
                }
                self.build(list, &items, id, m)?;
                self.indexes.len() - 1
            }
        };
        let state = self.state().clone();
        let Some(index) = self.indexes.get(at) else {
            return scan(&items, probe, sem, &same, m);
        };
        let Some(items) = index.list.as_list() else {
            return Ok(false);
        };
        let hit = |pos: u32, m: &mut Meter| -> Charged<bool> {
            m.charge(1)?;
            Ok(items
                .get(pos as usize)
                .is_some_and(|item| same(&item, probe)))
        };
        if let Some(k) = key(sem, probe, &state) {
            for pos in index.keyed.candidates(k) {
                if hit(pos, m)? {
                    return Ok(true);
                }
            }
            for &pos in &index.unkeyed {
                if hit(pos, m)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        scan(&items, probe, sem, &same, m)
    }

    fn build(
        &mut self,
        list: &Val<'a>,
        items: &ListView<'_, 'a>,
        id: (usize, usize, Sem),
        m: &mut Meter,
    ) -> Charged<()> {
        m.items(items.len())?;
        let state = self.state().clone();
        let mut keyed = Vec::with_capacity(items.len());
        let mut unkeyed = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = item.as_str() {
                m.bytes(s.len())?;
            }
            match key(id.2, &item, &state) {
                Some(k) => keyed.push((k, i as u32)),
                None => unkeyed.push(i as u32),
            }
        }
        self.indexes.push(ListIndex {
            list: list.clone(),
            id,
            keyed: Buckets::new(keyed),
            unkeyed,
        });
        Ok(())
    }
}

/// A scan for `probe`, charged a step per item compared (and, for a long
/// probe, its bytes for each). When the budget covers the whole list the
/// items compared are counted and charged at the end, which keeps the loop
/// tight; otherwise each is charged before it is compared.
fn scan(
    items: &ListView<'_, '_>,
    probe: &Val,
    sem: Sem,
    same: &impl Fn(&Val, &Val) -> bool,
    m: &mut Meter,
) -> Charged<bool> {
    let per_item = 1 + probe.as_str().map_or(0, str::len) as u64 / BYTES_PER_STEP;
    let whole = per_item.saturating_mul(items.len() as u64);
    if whole <= m.left {
        let hit = match (items, probe.as_str()) {
            (ListView::Data(values), Some(text)) if sem == Sem::Text => values
                .iter()
                .position(|v| matches!(v, Value::Str(s) if s.as_ref() == text)),
            (ListView::Data(values), _) => values.iter().position(|v| same(&Val::from(v), probe)),
            (ListView::Owned(values), _) => values.iter().position(|v| same(v, probe)),
        };
        let compared = hit.map_or(items.len(), |i| i + 1) as u64;
        m.charge(per_item * compared)?;
        return Ok(hit.is_some());
    }
    for item in items.iter() {
        m.charge(per_item)?;
        if same(&item, probe) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `distinct(list)`: the items in order without repeats (by `==`): an item
/// is dropped when it equals an earlier item kept. Strings and numbers are
/// grouped by a hash of their key and compared within their group; other
/// items are compared with the other items kept.
pub(crate) fn distinct<'a>(items: &ListView<'_, 'a>, m: &mut Meter) -> Charged<Vec<Val<'a>>> {
    let state = RandomState::new();
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(items.len());
    let mut unkeyed: Vec<u32> = Vec::new();
    for (i, v) in items.iter().enumerate() {
        m.charge(1)?;
        let k = match v.as_str() {
            Some(s) => {
                m.bytes(s.len())?;
                key(Sem::Text, &v, &state)
            }
            None => number_key(&v, &state),
        };
        match k {
            Some(k) => keyed.push((k, i as u32)),
            None => unkeyed.push(i as u32),
        }
    }
    let keyed = Buckets::new(keyed);
    let mut repeated = vec![false; items.len()];
    // Within one group, in order: each item against the group's kept ones.
    let mut judge = |group: &mut dyn Iterator<Item = u32>, m: &mut Meter| -> Charged<()> {
        let mut kept: Vec<Val<'a>> = Vec::new();
        for pos in group {
            let Some(v) = items.get(pos as usize) else {
                continue;
            };
            let mut seen = false;
            for w in &kept {
                m.charge(1)?;
                if eq(w, &v, m)? {
                    seen = true;
                    break;
                }
            }
            if seen {
                if let Some(r) = repeated.get_mut(pos as usize) {
                    *r = true;
                }
            } else {
                kept.push(v);
            }
        }
        Ok(())
    };
    for group in keyed.entries.chunk_by(|a, b| a.0 == b.0) {
        if group.len() > 1 {
            judge(&mut group.iter().map(|(_, p)| *p), m)?;
        }
    }
    judge(&mut unkeyed.into_iter(), m)?;
    Ok(items
        .iter()
        .zip(repeated)
        .filter_map(|(v, r)| (!r).then_some(v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples() -> Vec<Value> {
        let j = serde_json::json!([
            null, true, false, 0, 1, 7, -1, 1.0, 1.5, "", "a", "A", "7", "007",
            "b0000000-0000-4000-8000-00000000000a", "B0000000-0000-4000-8000-00000000000A",
            [], [1], [1.0], ["a", 1], {}, {"a": 1}, {"a": 1.0}, {"b": 1}, {"a": 1, "b": [2]},
            {"b": [2], "a": 1}
        ]);
        match Value::from_json(&j, 128).unwrap() {
            Value::List(l) => l.items().to_vec(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn eq_agrees_with_val_eq() {
        let values = samples();
        for a in &values {
            for b in &values {
                let (x, y) = (Val::from(a), Val::from(b));
                let mut m = Meter::new(1_000);
                assert_eq!(eq(&x, &y, &mut m).unwrap(), val_eq(&x, &y), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn keys_are_no_finer_than_the_comparisons() {
        let state = RandomState::new();
        let values = samples();
        use crate::ir::Compare;
        let exact = |a: &Val, b: &Val| crate::eval::kind_eq(a, b, Compare::Exact);
        let int = |a: &Val, b: &Val| crate::eval::kind_eq(a, b, Compare::Int);
        let uuid = |a: &Val, b: &Val| crate::eval::kind_eq(a, b, Compare::Uuid);
        for a in &values {
            for b in &values {
                let (x, y) = (Val::from(a), Val::from(b));
                for (sem, same) in [
                    (Sem::Text, &val_eq as &dyn Fn(&Val, &Val) -> bool),
                    (Sem::Id, &exact),
                    (Sem::Id, &int),
                    (Sem::Id, &uuid),
                ] {
                    if same(&x, &y) {
                        if let (Some(p), Some(q)) = (key(sem, &x, &state), key(sem, &y, &state)) {
                            assert_eq!(p, q, "{sem:?}: {a:?} {b:?}");
                        }
                        assert_eq!(
                            key(sem, &x, &state).is_some(),
                            key(sem, &y, &state).is_some(),
                            "{sem:?}: {a:?} {b:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn distinct_keeps_first_occurrences() {
        let list = Value::from_json(
            &serde_json::json!([
                "a",
                "b",
                "a",
                1,
                1.0,
                2,
                [1],
                [1],
                "B0000000-0000-4000-8000-00000000000A",
                "b0000000-0000-4000-8000-00000000000a"
            ]),
            128,
        )
        .unwrap();
        let v = Val::from(&list);
        let mut m = Meter::new(1_000);
        let out = distinct(&v.as_list().unwrap(), &mut m).unwrap();
        let shown: Vec<Value> = out.iter().map(|v| v.to_value(&[])).collect();
        assert_eq!(
            Value::List(shown.into()).to_json(),
            serde_json::json!([
                "a",
                "b",
                1,
                2,
                [1],
                "B0000000-0000-4000-8000-00000000000A",
                "b0000000-0000-4000-8000-00000000000a"
            ])
        );
    }

    #[test]
    fn a_long_list_searched_twice_is_indexed_and_answers_alike() {
        let items: Vec<Value> = (0..1000).map(|i| Value::str(format!("r{i}"))).collect();
        let list = Value::List(items.into());
        let v = Val::from(&list);
        let mut lookups = Lookups::default();
        let mut m = Meter::new(1_000_000);
        for round in 0..3 {
            for probe in ["r0", "r999", "r1000", "R0"] {
                let want = probe != "r1000" && probe != "R0";
                let got = lookups
                    .contains(&v, &Val::Str(probe), Sem::Text, val_eq, &mut m)
                    .unwrap();
                assert_eq!(got, want, "round {round} {probe}");
            }
        }
        assert_eq!(lookups.indexes.len(), 1);
        // One scan (at most 1,000 steps), one build (1,000), then lookups.
        assert!(m.spent() < 3_500, "{}", m.spent());
    }

    #[test]
    fn the_meter_stops_at_its_limit() {
        let mut m = Meter::new(10);
        assert!(m.charge(4).is_ok());
        assert!(m.charge(7).is_err());
        assert_eq!(m.spent(), 10);
    }
}
