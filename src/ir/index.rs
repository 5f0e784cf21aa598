//! The discriminating-key index of a block: which statements can apply to a
//! request, found by one hash lookup instead of a scan.
//!
//! Input: the statements of a lowered block. Output: an optional
//! [`StatementIndex`] that `eval.rs` asks for the candidates of a request.
//!
//! A statement is indexed when its condition *starts* with an equality
//! between a request path and a constant: `resource.id == "d42" and ...`
//! (or `"d42" == resource.id`). When that first conjunct is false, `and`
//! stops there: the statement does not apply, evaluates nothing else and
//! raises no error. So a statement whose constant differs from the
//! request's value can be skipped without changing anything a decision
//! reports: outcome, reason, deciding statements or errors. Only the cost
//! (`Decision::cost`) is lower: the skipped statements' first comparisons
//! are not evaluated (so a budget a scan would just exhaust may still see
//! the indexed decision through).
//!
//! Invariants:
//! - candidates come out in statement order (indexed and non-indexed ones
//!   merged), so `in order` blocks and the deny-before-allow passes of
//!   unordered blocks see the same statements in the same order as a scan;
//! - keys follow `==` exactly: strings as written (UUIDs included),
//!   integers and booleans by value; any other constant is not indexed;
//! - when the path cannot be read (a field of a non-record or an absent
//!   field: an error) or
//!   reads a number with a fraction (which `==` compares with integers),
//!   the decision falls back to the scan, which meets the same error in the
//!   same statement.

use crate::ir::{CmpOp, Expr, Name, Root, Statement};
use crate::value::{Val, Value};
use std::collections::HashMap;

/// A multiply-rotate hash (after FxHash): keys are short ids, and the
/// index is built from policy text, not from request data, so SipHash's
/// flood resistance buys nothing here while costing most of a lookup.
#[derive(Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

impl KeyHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type KeyMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<KeyHasher>>;

/// Fewer statements than this on one path are not worth a hash lookup.
const MIN_INDEXED: usize = 8;

/// Statements grouped by the constant their first conjunct compares a
/// request path with.
#[derive(Debug)]
pub(crate) struct StatementIndex {
    /// The path read once per decision: a root and its fields.
    pub root: Root,
    pub fields: Box<[Name]>,
    /// Positions in the block, ascending, per key.
    strings: KeyMap<Box<str>, Box<[u32]>>,
    ints: KeyMap<i64, Box<[u32]>>,
    bools: [Box<[u32]>; 2],
    /// Positions of statements that are not indexed, ascending.
    rest: Box<[u32]>,
}

impl StatementIndex {
    /// Every key with the block positions it selects, sorted (strings as
    /// `"text"`, integers and booleans as written), then the positions no
    /// key selects as `*`: what a dump of the program shows.
    pub(crate) fn entries(&self) -> Vec<(String, &[u32])> {
        let mut out: Vec<(String, &[u32])> = self
            .strings
            .iter()
            .map(|(k, v)| (format!("{k:?}"), &**v))
            .chain(self.ints.iter().map(|(k, v)| (k.to_string(), &**v)))
            .collect();
        out.sort();
        for (b, v) in [false, true].iter().zip(self.bools.iter()) {
            if !v.is_empty() {
                out.push((b.to_string(), v));
            }
        }
        out.push(("*".to_string(), &self.rest));
        out
    }
}

/// A request path: a root and its fields.
type Path = (Root, Vec<Name>);

enum Key {
    Str(Box<str>),
    Int(i64),
    Bool(bool),
}

/// The first conjunct of a condition, if it is `path == constant`.
fn key_of(when: &Expr) -> Option<(Path, Key)> {
    let mut first = when;
    while let Expr::And(l, _, _) = first {
        first = l;
    }
    let Expr::Cmp(CmpOp::Eq, l, r, _) = first else {
        return None;
    };
    let (path, constant) = match (path_of(l), path_of(r)) {
        (Some(p), None) => (p, &**r),
        (None, Some(p)) => (p, &**l),
        _ => return None,
    };
    let Expr::Const(c) = constant else {
        return None;
    };
    let key = match c {
        Value::Str(s) => Key::Str(s.clone()),
        Value::Int(i) => Key::Int(*i),
        Value::Bool(b) => Key::Bool(*b),
        _ => return None,
    };
    Some((path, key))
}

/// `root.field.field...`, with at least one field.
fn path_of(e: &Expr) -> Option<Path> {
    match e {
        Expr::Root(r) => Some((*r, Vec::new())),
        Expr::Field(base, name, _) => {
            let (root, mut fields) = path_of(base)?;
            fields.push(name.clone());
            Some((root, fields))
        }
        _ => None,
    }
}

/// Builds the index of a block, or `None` when too few statements share a
/// path for it to pay.
pub(crate) fn build(statements: &[Statement]) -> Option<StatementIndex> {
    let keys: Vec<Option<(Path, Key)>> = statements
        .iter()
        .map(|s| s.when.as_ref().and_then(key_of))
        .collect();
    // The path most statements are keyed on.
    let mut counts: Vec<((Root, &[Name]), usize)> = Vec::new();
    for ((root, fields), _) in keys.iter().flatten() {
        match counts
            .iter_mut()
            .find(|((r, f), _)| r == root && *f == fields.as_slice())
        {
            Some((_, n)) => *n += 1,
            None => counts.push(((*root, fields), 1)),
        }
    }
    let ((root, fields), n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    if n < MIN_INDEXED || fields.is_empty() {
        return None;
    }
    let mut strings: HashMap<Box<str>, Vec<u32>> = HashMap::new();
    let mut ints: HashMap<i64, Vec<u32>> = HashMap::new();
    let mut bools: [Vec<u32>; 2] = [Vec::new(), Vec::new()];
    let mut rest = Vec::new();
    for (pos, key) in keys.iter().enumerate() {
        let pos = pos as u32;
        match key {
            Some(((r, f), key)) if *r == root && f.as_slice() == fields => match key {
                Key::Str(s) => strings.entry(s.clone()).or_default().push(pos),
                Key::Int(i) => ints.entry(*i).or_default().push(pos),
                Key::Bool(b) => {
                    if let Some(list) = bools.get_mut(usize::from(*b)) {
                        list.push(pos);
                    }
                }
            },
            _ => rest.push(pos),
        }
    }
    let [f, t] = bools;
    Some(StatementIndex {
        root,
        fields: fields.into(),
        strings: strings.into_iter().map(|(k, v)| (k, v.into())).collect(),
        ints: ints.into_iter().map(|(k, v)| (k, v.into())).collect(),
        bools: [f.into(), t.into()],
        rest: rest.into(),
    })
}

impl StatementIndex {
    /// The candidates for the value the path reads, or `None` when the
    /// decision must scan (a number with a fraction).
    pub fn candidates(&self, value: &Val<'_>) -> Option<Candidates<'_>> {
        let keyed: &[u32] = match value {
            Val::Str(s) => self.string(s),
            Val::OwnedStr(s) => self.string(s),
            Val::Int(i) => self.ints.get(i).map_or(&[], |v| v),
            Val::Bool(b) => self.bools.get(usize::from(*b)).map_or(&[], |v| v),
            Val::Float(_) => return None,
            // Null, lists, records never equal a string, integer or boolean.
            _ => &[],
        };
        Some(Candidates::Merged {
            a: keyed,
            b: &self.rest,
        })
    }

    fn string(&self, s: &str) -> &[u32] {
        self.strings.get(s).map_or(&[], |v| v)
    }
}

/// Positions of the statements to try, in statement order.
#[derive(Clone)]
pub(crate) enum Candidates<'p> {
    /// Every statement: `0..n`.
    All(std::ops::Range<u32>),
    /// Two ascending lists merged.
    Merged { a: &'p [u32], b: &'p [u32] },
}

impl Iterator for Candidates<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            Candidates::All(range) => range.next(),
            Candidates::Merged { a, b } => {
                let take_a = match (a.first(), b.first()) {
                    (Some(x), Some(y)) => x < y,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => return None,
                };
                let list = if take_a { a } else { b };
                let (first, tail) = list.split_first()?;
                *list = tail;
                Some(*first)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{eval, Data, Decision, PolicySet, Request};
    use serde_json::json;

    /// A policy whose blocks mix indexed statements (strings, UUIDs,
    /// integers, booleans; both sides of `==`), statements on another path,
    /// unconditional ones, refusals that must beat allows, computed reasons
    /// and conditions that fail.
    fn policy(ordered: bool) -> PolicySet {
        let order = if ordered { " in order" } else { "" };
        let mut src = format!(
            "actions: read, write\nprincipals {{ user == .id }}\npolicy p for read, write{order} {{\n"
        );
        for i in 0..40 {
            let line = match i % 8 {
                0 => format!("  s{i}: allow when resource.id == \"d{}\" and principal matches user:u{i}\n", i % 13),
                1 => format!("  s{i}: deny \"no {{resource.id}}\" when resource.id == \"d{}\" and principal.id == \"u{i}\"\n", i % 13),
                2 => format!("  s{i}: allow when {i} == resource.id\n"),
                3 => format!("  s{i}: allow when resource.id == \"B0000000-0000-4000-8000-0000000000{i:02}\"\n"),
                4 => format!("  s{i}: unauthenticated \"who\" when resource.id == true and principal == null\n"),
                5 => format!("  s{i}: allow when resource.owner == \"o{}\" and principal.id == \"u{i}\"\n", i % 3),
                6 => format!("  s{i}: deny \"bad {{principal.id}}\" when resource.id == \"d{}\" and principal.name == \"x\" and principal.id.bad == 1\n", i % 13),
                _ => format!("  s{i}: allow when resource.id == \"d{}\" and principal.id == \"u{i}\" and resource.level > 3\n", i % 13),
            };
            src.push_str(&line);
        }
        src.push_str("  late: deny \"late\" when principal.id == \"blocked\"\n}\n");
        let set = PolicySet::from_source(&src).unwrap();
        assert!(set.program.policies.iter().all(|p| p.body.index.is_some()));
        set
    }

    fn requests() -> Vec<Request> {
        let ids = [
            json!("d0"),
            json!("d1"),
            json!("d3"),
            json!("d6"),
            json!("d12"),
            json!("zz"),
            json!(2),
            json!(10),
            json!(18),
            json!(2.0),
            json!(10.5),
            json!(true),
            json!(false),
            json!(null),
            json!([1]),
            json!({"a": 1}),
            json!("b0000000-0000-4000-8000-000000000003"),
            json!("B0000000-0000-4000-8000-000000000011"),
            json!("b0000000-0000-4000-8000-0000000000ab"),
        ];
        let principals = [
            json!(null),
            json!({"id": "u0"}),
            json!({"id": "u9"}),
            json!({"id": "u7", "name": "x"}),
            json!({"id": "u15"}),
            json!({"id": "u13"}),
            json!({"id": "blocked"}),
            json!({"id": "u6", "name": "x"}),
            json!({"id": 8}),
            json!({"id": "u5"}),
        ];
        let resources = |id: &serde_json::Value| {
            vec![
                json!({"id": id}),
                json!({"id": id, "owner": "o2", "level": 5}),
                json!({"id": id, "owner": "o0", "level": "high"}),
            ]
        };
        let mut out = Vec::new();
        for action in ["read", "write"] {
            for id in &ids {
                for resource in resources(id) {
                    for principal in &principals {
                        let r =
                            json!({"action": action, "principal": principal, "resource": resource});
                        out.push(Request::from_json(&r).unwrap());
                    }
                }
            }
            for odd in [json!("text"), json!(3), json!(null), json!([{"id": "d0"}])] {
                let r = json!({"action": action, "principal": {"id": "u0"}, "resource": odd});
                out.push(Request::from_json(&r).unwrap());
            }
        }
        out
    }

    #[test]
    fn indexed_decisions_equal_scanned_ones() {
        let data = Data::empty();
        let mut outcomes = std::collections::HashSet::new();
        for ordered in [false, true] {
            let set = policy(ordered);
            for request in requests() {
                let indexed =
                    eval::decide_with(&set.program, &request, &data.root, false, &set.limits, true);
                let scanned = eval::decide_with(
                    &set.program,
                    &request,
                    &data.root,
                    false,
                    &set.limits,
                    false,
                );
                // The index skips statements, so it can only lower the cost.
                assert!(indexed.cost <= scanned.cost, "{:?}", request.to_json());
                let same_cost = Decision {
                    cost: scanned.cost,
                    ..indexed.clone()
                };
                assert_eq!(same_cost, scanned, "{ordered} {:?}", request.to_json());
                outcomes.insert((indexed.outcome, indexed.error.is_some()));
            }
        }
        // The requests reach allows, refusals of each kind and errors.
        use crate::Outcome::{Allow, Deny, Unauthenticated};
        for seen in [
            (Allow, false),
            (Deny, false),
            (Deny, true),
            (Unauthenticated, false),
        ] {
            assert!(outcomes.contains(&seen), "{seen:?} not in {outcomes:?}");
        }
    }

    #[test]
    fn small_blocks_and_unkeyed_conditions_are_not_indexed() {
        let set = PolicySet::from_source(
            "actions: read\npolicy p for read {\n allow when resource.id == \"a\"\n allow when resource.id == \"b\"\n}\n",
        )
        .unwrap();
        assert!(set.program.policies.iter().all(|p| p.body.index.is_none()));
    }
}
