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

/// A case file of this repository (`tests/<name>`), as JSON.
#[allow(dead_code, reason = "not every model reads case files this way")]
pub fn case_file(name: &str) -> Value {
    let path = format!("{}/tests/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The cases of a case file with the data each is decided with: the file's
/// data with the case's own merged over it, key by key (CASES.md).
#[allow(dead_code, reason = "not every model reads case files this way")]
pub fn cases_with_data(file: &Value) -> Vec<(&Value, Value)> {
    let file_data = file
        .get("data")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()));
    let cases = file["cases"].as_array().unwrap();
    cases
        .iter()
        .map(|case| {
            let mut data = file_data.clone();
            if let Some(Value::Object(own)) = case.get("data") {
                for (k, v) in own {
                    data[k] = v.clone();
                }
            }
            (case, data)
        })
        .collect()
}
