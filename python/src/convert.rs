//! Python objects to engine values and back, with no JSON text between.
//!
//! The rules are those of `Value::from_json` (`src/value.rs`), so a mapping
//! decides exactly as the same JSON would: integers must fit in 64 bits,
//! signed; an integral float at or past 2^53 (where a double no longer holds
//! every integer), NaN and the infinities are refused rather than rounded;
//! nesting is bounded by the policy's value depth limit; record keys are
//! strings. A value that breaks a rule is a [`RequestError`] naming the
//! field (`request.principal.roles[2]`), which the caller turns into a
//! denying decision.

use portcullis::{Code, Data, Record, Request, RequestError, Value};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyMapping, PyString, PyTuple};

/// 2^53: from here on a double does not hold every integer.
const EXACT_DOUBLE: f64 = 9_007_199_254_740_992.0;

/// A value that cannot be converted: the path below its root, innermost
/// segment first (reversed once at the end, as `value.rs` does), and why.
struct Refused {
    path: Vec<String>,
    message: String,
}

impl Refused {
    #[cold]
    fn new(message: impl Into<String>) -> Refused {
        Refused {
            path: Vec::new(),
            message: message.into(),
        }
    }

    #[cold]
    fn at(mut self, segment: String) -> Refused {
        self.path.push(segment);
        self
    }

    /// The error for the field `root` (`request.principal`, `data`).
    #[cold]
    fn into_error(self, root: &str) -> RequestError {
        let mut field = root.to_string();
        for segment in self.path.iter().rev() {
            field.push_str(segment);
        }
        invalid(field, self.message)
    }
}

/// A request error of code `PCL401` (a field of the wrong form).
#[cold]
pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> RequestError {
    RequestError {
        code: Code::InvalidRequest,
        field: field.into(),
        message: message.into(),
    }
}

/// How a Python value is named in messages: the engine's words for the
/// values it knows (`a string`, `an integer`), the type's name otherwise.
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    if obj.is_none() {
        "null (None)".into()
    } else if obj.is_instance_of::<PyBool>() {
        "a boolean".into()
    } else if obj.is_instance_of::<PyInt>() {
        "an integer".into()
    } else if obj.is_instance_of::<PyFloat>() {
        "a number".into()
    } else if obj.is_instance_of::<PyString>() {
        "a string".into()
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        "a list".into()
    } else if obj.is_instance_of::<PyDict>() {
        "a dict".into()
    } else {
        let name = obj
            .get_type()
            .name()
            .map_or_else(|_| "?".to_string(), |n| n.to_string());
        format!("an object of type `{name}`")
    }
}

extern "C" {
    /// CPython's UTF-8 view of a string: for an ASCII string its own
    /// buffer, otherwise a UTF-8 copy cached on the string object; NULL
    /// (with an exception set) for a string holding a lone surrogate. Part
    /// of the stable ABI from 3.10 and exported by CPython 3.9 too; pyo3
    /// hides it from abi3-py39 builds, whose fallback makes a bytes object
    /// per string, which is most of the cost of converting a request.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// A Python string as Rust text; a string that is not valid Unicode (a
/// lone surrogate) is refused.
fn text(s: &Bound<'_, PyString>) -> Result<Box<str>, Refused> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live `str` object and the GIL is held (a `Bound`).
    // On success CPython returns a buffer owned by the string (which
    // outlives this borrow) of `size` bytes of valid UTF-8: it encodes the
    // text itself and fails, returning NULL, on a lone surrogate.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            drop(PyErr::take(s.py()));
            return Err(Refused::new(
                "string is not valid Unicode (it holds a lone surrogate)",
            ));
        }
        let len = usize::try_from(size).unwrap_or(0);
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), len);
        Ok(std::str::from_utf8_unchecked(bytes).into())
    }
}

/// A key of a mapping as the path segment messages show.
fn key_segment(key: &Bound<'_, PyAny>) -> String {
    match key.cast::<PyString>() {
        Ok(s) => match s.to_cow() {
            Ok(t) => format!(".{t}"),
            Err(_) => ".<key>".into(),
        },
        Err(_) => match key.repr() {
            Ok(r) => format!("[{r}]"),
            Err(_) => "[<key>]".into(),
        },
    }
}

/// Converts one Python value, nested at most `depth_left` deeper.
fn value(obj: &Bound<'_, PyAny>, depth_left: usize) -> Result<Value, Refused> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::Str(text(s)?));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if let Ok(i) = obj.cast::<PyInt>() {
        return match i.extract::<i64>() {
            Ok(i) => Ok(Value::Int(i)),
            Err(_) => Err(Refused::new(
                "integer out of range: integers must fit in 64 bits, signed",
            )),
        };
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        let f = f.value();
        if f.is_finite() && !(f.fract() == 0.0 && f.abs() >= EXACT_DOUBLE) {
            return Ok(Value::Float(f));
        }
        return Err(Refused::new(
            "number cannot be represented exactly (floats must be finite, and \
             integral floats must be below 2^53; use an int for larger integers)",
        ));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    let nested = |item: &Bound<'_, PyAny>| {
        if depth_left == 0 {
            return Err(Refused::new("nested deeper than the value depth limit"));
        }
        value(item, depth_left - 1)
    };
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(Value::Record(Record::from_iter(dict_fields(d, nested)?)));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        let mut items = Vec::with_capacity(l.len());
        for (i, item) in l.iter().enumerate() {
            items.push(nested(&item).map_err(|e| e.at(format!("[{i}]")))?);
        }
        return Ok(Value::List(items.into()));
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        let mut items = Vec::with_capacity(t.len());
        for (i, item) in t.iter().enumerate() {
            items.push(nested(&item).map_err(|e| e.at(format!("[{i}]")))?);
        }
        return Ok(Value::List(items.into()));
    }
    // Other mappings (`collections.abc.Mapping`): slower, but read the same.
    if let Ok(m) = obj.cast::<PyMapping>() {
        let items = m
            .items()
            .map_err(|e| Refused::new(format!("the mapping could not be read: {e}")))?;
        let mut fields: Vec<(Box<str>, Value)> = Vec::with_capacity(items.len());
        for pair in items.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair
                .extract()
                .map_err(|e| Refused::new(format!("the mapping could not be read: {e}")))?;
            fields.push(field(&k, &v, nested)?);
        }
        return Ok(Value::Record(Record::from_iter(fields)));
    }
    Err(Refused::new(format!(
        "expected None, a bool, int, float, str, list, tuple or dict, found {}",
        type_name(obj)
    )))
}

/// The fields of a dict, in order. Reading a nested mapping of another
/// kind runs Python code, which may let another thread change this dict: a
/// dict that changes while it is read is refused (pyo3's iterator would
/// panic).
fn dict_fields(
    d: &Bound<'_, PyDict>,
    nested: impl Fn(&Bound<'_, PyAny>) -> Result<Value, Refused>,
) -> Result<Vec<(Box<str>, Value)>, Refused> {
    let py = d.py();
    let len = d.len();
    let mut fields: Vec<(Box<str>, Value)> = Vec::with_capacity(len);
    let mut pos: pyo3::ffi::Py_ssize_t = 0;
    let mut key: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
    let mut item: *mut pyo3::ffi::PyObject = std::ptr::null_mut();
    // SAFETY: the GIL is held; `PyDict_Next` stays within the dict's
    // current table even if it changed, and the borrowed key and value are
    // turned into owned references before any Python code can run.
    while unsafe { pyo3::ffi::PyDict_Next(d.as_ptr(), &mut pos, &mut key, &mut item) } != 0 {
        let (k, v) = unsafe {
            (
                Bound::from_borrowed_ptr(py, key),
                Bound::from_borrowed_ptr(py, item),
            )
        };
        fields.push(field(&k, &v, &nested)?);
        if d.len() != len {
            return Err(Refused::new("the dict changed while it was being read"));
        }
    }
    if fields.len() != len {
        return Err(Refused::new("the dict changed while it was being read"));
    }
    Ok(fields)
}

/// One field of a record: a string key and its converted value.
fn field(
    key: &Bound<'_, PyAny>,
    item: &Bound<'_, PyAny>,
    nested: impl Fn(&Bound<'_, PyAny>) -> Result<Value, Refused>,
) -> Result<(Box<str>, Value), Refused> {
    let Ok(k) = key.cast::<PyString>() else {
        return Err(
            Refused::new(format!("keys must be strings, found {}", type_name(key)))
                .at(key_segment(key)),
        );
    };
    let name = text(k).map_err(|e| e.at(".<key>".into()))?;
    let v = nested(item).map_err(|e| e.at(format!(".{name}")))?;
    Ok((name, v))
}

/// Converts a value whose root is the field `root` (`request.resource`).
pub fn to_value(
    obj: &Bound<'_, PyAny>,
    max_depth: usize,
    root: &str,
) -> Result<Value, RequestError> {
    value(obj, max_depth).map_err(|e| e.into_error(root))
}

/// The four keys a request may have.
const ROOTS: [&str; 4] = ["principal", "action", "resource", "context"];

/// Reads a request from a mapping with `action` (a string) and optionally
/// `principal`, `resource` and `context`. A root the mapping leaves out is
/// absent, as a JSON request without the key is (absent is not null).
pub fn request<'py>(obj: &Bound<'py, PyAny>, max_depth: usize) -> Result<Request, RequestError> {
    let py = obj.py();
    let get = |key: &Bound<'py, PyString>| -> Result<Option<Bound<'py, PyAny>>, RequestError> {
        if let Ok(d) = obj.cast::<PyDict>() {
            return d
                .get_item(key)
                .map_err(|e| invalid(format!("request.{key}"), format!("could not be read: {e}")));
        }
        let m = obj.cast::<PyMapping>().map_err(|_| {
            invalid(
                "request",
                format!("expected a mapping (a dict), found {}", type_name(obj)),
            )
        })?;
        match m.contains(key) {
            Ok(false) => Ok(None),
            Ok(true) => m
                .get_item(key)
                .map(Some)
                .map_err(|e| invalid(format!("request.{key}"), format!("could not be read: {e}"))),
            Err(e) => Err(invalid("request", format!("could not be read: {e}"))),
        }
    };
    // Interned: the keys are made once per process, not per request.
    let roots = [
        get(intern!(py, "principal"))?,
        get(intern!(py, "action"))?,
        get(intern!(py, "resource"))?,
        get(intern!(py, "context"))?,
    ];
    let found = roots.iter().filter(|r| r.is_some()).count();
    let len = obj
        .len()
        .map_err(|e| invalid("request", format!("could not be read: {e}")))?;
    if len != found {
        return Err(unknown_key(obj));
    }
    let [principal, action, resource, context] = roots;
    let action = match action {
        None => return Err(invalid("request.action", "missing; expected a string")),
        Some(a) => match a.cast::<PyString>() {
            Ok(s) => text(s)
                .map_err(|e| e.into_error("request.action"))?
                .into_string(),
            Err(_) => {
                return Err(invalid(
                    "request.action",
                    format!("expected a string, found {}", type_name(&a)),
                ))
            }
        },
    };
    let mut builder = Request::builder(action);
    if let Some(p) = principal {
        let v = to_value(&p, max_depth, "request.principal")?;
        if !matches!(v, Value::Null | Value::Record(_)) {
            return Err(invalid(
                "request.principal",
                format!("expected a dict or None, found {}", type_name(&p)),
            ));
        }
        builder = builder.principal(v);
    }
    if let Some(r) = resource {
        builder = builder.resource(to_value(&r, max_depth, "request.resource")?);
    }
    if let Some(c) = context {
        let v = to_value(&c, max_depth, "request.context")?;
        if !matches!(v, Value::Null | Value::Record(_)) {
            return Err(invalid(
                "request.context",
                format!("expected a dict or None, found {}", type_name(&c)),
            ));
        }
        builder = builder.context(v);
    }
    Ok(builder.build())
}

/// The error for a request mapping with a key that is not one of [`ROOTS`].
#[cold]
fn unknown_key(obj: &Bound<'_, PyAny>) -> RequestError {
    let keys = obj.cast::<PyMapping>().ok().and_then(|m| m.keys().ok());
    for key in keys.iter().flat_map(|k| k.iter()) {
        match key.cast::<PyString>() {
            Ok(s) => {
                let name = s.to_cow().map(|t| t.into_owned()).unwrap_or_default();
                if !ROOTS.contains(&name.as_str()) {
                    return invalid(
                        format!("request.{name}"),
                        "unknown field; expected `principal`, `action`, `resource` or `context`",
                    );
                }
            }
            Err(_) => {
                return invalid(
                    format!("request{}", key_segment(&key)),
                    format!("keys must be strings, found {}", type_name(&key)),
                )
            }
        }
    }
    invalid(
        "request",
        "has keys other than `principal`, `action`, `resource` and `context`",
    )
}

/// Reads data from a mapping (or None, for none).
pub fn data(obj: &Bound<'_, PyAny>, max_depth: usize) -> Result<Data, RequestError> {
    if !obj.is_none() && obj.cast::<PyDict>().is_err() && obj.cast::<PyMapping>().is_err() {
        return Err(invalid(
            "data",
            format!(
                "expected a mapping (a dict) or None, found {}",
                type_name(obj)
            ),
        ));
    }
    Data::from_value(to_value(obj, max_depth, "data")?)
}

/// An engine value as a Python object: None, bool, int, float, str, list
/// or dict.
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Int(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(f) => PyFloat::new(py, *f).into_any(),
        Value::Str(s) => PyString::new(py, s).into_any(),
        Value::List(items) => {
            let list = PyList::empty(py);
            for item in items.items() {
                list.append(to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Record(r) => {
            let dict = PyDict::new(py);
            for (k, item) in r.iter() {
                dict.set_item(k, to_py(py, item)?)?;
            }
            dict.into_any()
        }
    })
}
