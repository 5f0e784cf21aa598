//! The values a decision computes with: `Val` borrows from the request, the
//! data and the program, and owns only what the decision builds; exact
//! comparisons (`val_eq`, `val_cmp`, `int_float_cmp`).

use super::*;

/// A principal descriptor built by the policy at decision time.
#[derive(Clone, Debug)]
pub(crate) struct PrincipalVal<'a> {
    pub kind: u32,
    pub value: Val<'a>,
}

/// A value during evaluation: borrowed where it can be, owned where it must.
#[derive(Clone, Debug, Default)]
pub(crate) enum Val<'a> {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    OwnedStr(Rc<str>),
    List(&'a List),
    OwnedList(Rc<[Val<'a>]>),
    Record(&'a Record),
    OwnedRecord(Rc<[(Rc<str>, Val<'a>)]>),
    /// `kind:value` written in the policy.
    Principal(Rc<PrincipalVal<'a>>),
    /// `(a, b)` written in the policy.
    Tuple(Rc<[Val<'a>]>),
    /// A compiled pattern, by index.
    Pattern(u32),
    /// A decimal, IP address, timestamp or duration (`scalar.rs`).
    Scalar(Scalar),
}

impl<'a> From<&'a Value> for Val<'a> {
    #[inline]
    fn from(v: &'a Value) -> Self {
        match v {
            Value::Null => Val::Null,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Float(f) => Val::Float(*f),
            Value::Str(s) => Val::Str(s),
            Value::List(items) => Val::List(items),
            Value::Record(r) => Val::Record(r),
        }
    }
}

/// What reading a field gives: absent is not null.
pub(crate) enum FieldRead<'a> {
    /// The field's value (null included).
    Present(Val<'a>),
    /// A record without the key.
    Absent,
    /// Not a record (nor null).
    NotRecord,
}

/// A list, borrowed or owned, read item by item.
pub(crate) enum ListView<'v, 'a> {
    Data(&'a [Value]),
    Owned(&'v [Val<'a>]),
}

impl<'v, 'a> ListView<'v, 'a> {
    #[inline]
    pub fn len(&self) -> usize {
        match self {
            ListView::Data(items) => items.len(),
            ListView::Owned(items) => items.len(),
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<Val<'a>> {
        match self {
            ListView::Data(items) => items.get(i).map(Val::from),
            ListView::Owned(items) => items.get(i).cloned(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = Val<'a>> + '_ {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

impl<'a> Val<'a> {
    /// The string, if this is one.
    #[inline]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            Val::OwnedStr(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a list (or a tuple).
    #[inline]
    pub fn as_list(&self) -> Option<ListView<'_, 'a>> {
        match self {
            Val::List(items) => Some(ListView::Data(items)),
            Val::OwnedList(items) | Val::Tuple(items) => Some(ListView::Owned(items)),
            _ => None,
        }
    }

    #[inline]
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// Whether this is a record.
    pub fn is_record(&self) -> bool {
        matches!(self, Val::Record(_) | Val::OwnedRecord(_))
    }

    /// Reads a field: a record's field, absent when the record has no such
    /// key; `null`'s fields are null (paths read through null); anything
    /// else has no fields.
    #[inline]
    pub fn field(&self, key: &str) -> FieldRead<'a> {
        match self {
            Val::Null => FieldRead::Present(Val::Null),
            Val::Record(r) => r
                .get(key)
                .map_or(FieldRead::Absent, |v| FieldRead::Present(Val::from(v))),
            Val::OwnedRecord(fields) => fields
                .iter()
                .find(|(k, _)| k.as_ref() == key)
                .map_or(FieldRead::Absent, |(_, v)| FieldRead::Present(v.clone())),
            _ => FieldRead::NotRecord,
        }
    }

    /// A present field of a record; `None` when absent or not a record.
    #[inline]
    pub fn get_field(&self, key: &str) -> Option<Val<'a>> {
        match self {
            Val::Record(_) | Val::OwnedRecord(_) => match self.field(key) {
                FieldRead::Present(v) => Some(v),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether a record has the key.
    pub fn has_key(&self, key: &str) -> bool {
        match self {
            Val::Record(r) => r.contains(key),
            Val::OwnedRecord(fields) => fields.iter().any(|(k, _)| k.as_ref() == key),
            _ => false,
        }
    }

    /// The fields of a record, as owned pairs.
    pub fn record_entries(&self) -> Option<Vec<(Val<'a>, Val<'a>)>> {
        match self {
            Val::Record(r) => Some(r.iter().map(|(k, v)| (Val::Str(k), Val::from(v))).collect()),
            Val::OwnedRecord(fields) => Some(
                fields
                    .iter()
                    .map(|(k, v)| (Val::OwnedStr(k.clone()), v.clone()))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "a boolean",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a number",
            Val::Str(_) | Val::OwnedStr(_) => "a string",
            Val::List(_) | Val::OwnedList(_) => "a list",
            Val::Record(_) | Val::OwnedRecord(_) => "a record",
            Val::Principal(_) => "a principal",
            Val::Tuple(_) => "a principal tuple",
            Val::Pattern(_) => "a pattern",
            Val::Scalar(x) => x.type_name(),
        }
    }

    /// Converts to an owned value; principals become their text form, and
    /// an AND tuple stays one when read back as a descriptor: inside a list
    /// it is a nested list (`[a, [b, c]]`), anywhere else an OR list holding
    /// it (`[[b, c]]`), never the flat list `[b, c]`, which would read back
    /// as an OR list and widen it.
    pub fn to_value(&self, kind_names: &[Box<str>]) -> Value {
        match self {
            Val::Tuple(_) => Value::List(vec![self.list_item_value(kind_names)].into()),
            _ => self.list_item_value(kind_names),
        }
    }

    /// As `to_value`, for an item of a list: a tuple is a nested list.
    fn list_item_value(&self, kind_names: &[Box<str>]) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::Int(*i),
            Val::Float(f) => Value::Float(*f),
            Val::Str(s) => Value::Str((*s).into()),
            Val::OwnedStr(s) => Value::Str(s.as_ref().into()),
            Val::List(items) => Value::List((*items).clone()),
            Val::OwnedList(items) => Value::List(
                items
                    .iter()
                    .map(|v| v.list_item_value(kind_names))
                    .collect(),
            ),
            // Members of a tuple are principals (never lists or tuples).
            Val::Tuple(items) => {
                Value::List(items.iter().map(|v| v.to_value(kind_names)).collect())
            }
            Val::Record(r) => Value::Record((*r).clone()),
            Val::OwnedRecord(fields) => Value::Record(Record {
                fields: fields
                    .iter()
                    .map(|(k, v)| (k.as_ref().into(), v.to_value(kind_names)))
                    .collect(),
            }),
            Val::Principal(p) => {
                let kind = kind_names.get(p.kind as usize).map_or("?", |k| k.as_ref());
                Value::Str(format!("{kind}:{}", Display(&p.value, kind_names)).into())
            }
            Val::Pattern(_) => Value::Str("<pattern>".into()),
            Val::Scalar(x) => Value::Str(x.to_string().into()),
        }
    }
}

/// Displays a value the way templates interpolate it: strings bare, other
/// values as JSON, principals as `kind:value` with the program's kind names.
pub(crate) struct Display<'v, 'a, 'k>(pub &'v Val<'a>, pub &'k [Box<str>]);

impl fmt::Display for Display<'_, '_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Val::Null => f.write_str("null"),
            Val::Bool(b) => write!(f, "{b}"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Float(x) => write!(f, "{x}"),
            Val::Str(s) => f.write_str(s),
            Val::OwnedStr(s) => f.write_str(s),
            Val::Principal(p) => {
                let kind = self.1.get(p.kind as usize).map_or("?", |k| k.as_ref());
                write!(f, "{kind}:{}", Display(&p.value, self.1))
            }
            Val::Pattern(_) => f.write_str("<pattern>"),
            Val::Scalar(x) => write!(f, "{x}"),
            other => {
                let json = other.to_value(self.1).to_json();
                write!(f, "{json}")
            }
        }
    }
}

/// Whether the text is a UUID in hyphenated form (any case).
#[inline]
pub(crate) fn is_uuid_text(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Structural equality, exact: values of different types are unequal
/// (a string never equals a number), strings compare byte for byte (UUIDs
/// included: ask for canonical comparison with `uuid()`), and an integer
/// equals a float only when both hold the same number exactly.
pub(crate) fn val_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Int(x), Val::Int(y)) => x == y,
        (Val::Float(x), Val::Float(y)) => x == y,
        (Val::Int(x), Val::Float(y)) | (Val::Float(y), Val::Int(x)) => {
            int_float_cmp(*x, *y) == Some(Ordering::Equal)
        }
        (Val::Pattern(x), Val::Pattern(y)) => x == y,
        (Val::Scalar(_), _) | (_, Val::Scalar(_)) => scalar_eq(a, b),
        (Val::Principal(x), Val::Principal(y)) => x.kind == y.kind && val_eq(&x.value, &y.value),
        (Val::Tuple(_), _) | (_, Val::Tuple(_)) => match (a, b) {
            (Val::Tuple(x), Val::Tuple(y)) => {
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| val_eq(p, q))
            }
            // A tuple is not a list: `(a, b)` is AND, `[a, b]` is OR.
            _ => false,
        },
        _ => {
            if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (a.as_list(), b.as_list()) {
                return x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| val_eq(&p, &q));
            }
            if !(a.is_record() && b.is_record()) {
                return false;
            }
            match (a.record_entries(), b.record_entries()) {
                (Some(x), Some(y)) => {
                    x.len() == y.len()
                        && x.iter().all(|(k, v)| {
                            k.as_str()
                                .and_then(|k| b.get_field(k))
                                .is_some_and(|w| val_eq(v, &w))
                        })
                }
                _ => false,
            }
        }
    }
}

/// Exact ordering of an integer and a float, without rounding either:
/// `9007199254740993` is greater than `9007199254740992.0`. `None` for NaN.
pub(crate) fn int_float_cmp(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as a double; every double at or above it exceeds any i64.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    // `f` is within i64 range: its integral part converts exactly.
    let whole = f.trunc();
    let w = whole as i64;
    Some(match i.cmp(&w) {
        Ordering::Equal => {
            let frac = f - whole;
            if frac > 0.0 {
                Ordering::Less
            } else if frac < 0.0 {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        other => other,
    })
}

/// Ordering for `<`, `<=`, `>`, `>=`: numbers with numbers, strings with
/// strings; `None` for anything else.
pub(crate) fn val_cmp(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::Int(x), Val::Float(y)) => int_float_cmp(*x, *y),
        (Val::Float(x), Val::Int(y)) => int_float_cmp(*y, *x).map(Ordering::reverse),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y),
        (Val::Scalar(_), _) | (_, Val::Scalar(_)) => scalar_order(a, b),
        _ => match (a.as_str(), b.as_str()) {
            (Some(x), Some(y)) => Some(x.cmp(y)),
            _ => None,
        },
    }
}

/// `==` where one side is a scalar: a decimal equals an integer or a
/// double of the same value; other scalars equal only their own kind.
fn scalar_eq(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => match (x, y) {
            (Scalar::Ip(p), Scalar::Ip(q)) => p == q,
            _ => scalar::scalar_cmp(*x, *y) == Some(Ordering::Equal),
        },
        _ => scalar_order(a, b) == Some(Ordering::Equal),
    }
}

/// Ordering where one side is a scalar: decimals with integers and
/// doubles exactly; timestamps and durations with their own kind.
fn scalar_order(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Scalar(x), Val::Scalar(y)) => scalar::scalar_cmp(*x, *y),
        (Val::Scalar(Scalar::Decimal(d)), Val::Int(i)) => {
            Some(scalar::decimal_int_cmp(d.get(), *i))
        }
        (Val::Int(i), Val::Scalar(Scalar::Decimal(d))) => {
            Some(scalar::decimal_int_cmp(d.get(), *i).reverse())
        }
        (Val::Scalar(Scalar::Decimal(d)), Val::Float(f)) => scalar::decimal_float_cmp(d.get(), *f),
        (Val::Float(f), Val::Scalar(Scalar::Decimal(d))) => {
            scalar::decimal_float_cmp(d.get(), *f).map(Ordering::reverse)
        }
        _ => None,
    }
}

// `Val` is three words; its variants keep a tag of their own (see
// `scalar.rs`).
const _: () = assert!(std::mem::size_of::<Val<'static>>() == 24);
