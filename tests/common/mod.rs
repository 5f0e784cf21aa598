//! What every reference model needs to know about the engine, not about
//! its bundle: which JSON values Portcullis can read at all.

use serde_json::Value;

/// Whether every number in a JSON value is one Portcullis holds exactly
/// (docs/language.md, section 12): an integer within 64 bits, signed, or a
/// finite number that is not an integral value at or beyond 2^53 (where a
/// double no longer holds every integer). Anything else is refused whatever
/// the action: outside every contract.
pub fn exact_numbers(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64()
                || (!n.is_u64()
                    && n.as_f64().is_some_and(|f| {
                        f.is_finite() && !(f.fract() == 0.0 && f.abs() >= 9_007_199_254_740_992.0)
                    }))
        }
        Value::Array(items) => items.iter().all(exact_numbers),
        Value::Object(map) => map.values().all(exact_numbers),
        _ => true,
    }
}

/// Nesting depth of a JSON value: 0 for a scalar.
#[allow(dead_code, reason = "not every model checks depth")]
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
