//! Step zero of a decision: JSON -> request and data values.
//!
//! Input: JSON text or `serde_json::Value`, or the typed builder. Output: a
//! [`Request`] whose fields the evaluator borrows. A request that does not
//! fit is a [`RequestError`] naming the field and what was expected.
//! Checking fields against a policy's declared shape happens in `eval.rs`,
//! against the compiled shape.

use crate::diagnostics::Code;
use crate::value::{Record, Value};
use std::fmt;

/// What the application asks: may `principal` do `action` to `resource`?
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Request {
    /// The caller, or `Value::Null` for an anonymous caller.
    pub principal: Value,
    /// The action asked for.
    pub action: String,
    /// The thing acted on, or null.
    pub resource: Value,
    /// Anything else of the request: headers, flags.
    pub context: Value,
    /// The roots the JSON left out. They read as null, but a contract that
    /// requires the key (`resource: T?` rather than `resource?: T?`) refuses
    /// the request: absent is not null.
    absent: AbsentRoots,
}

/// Which of `principal`, `resource` and `context` a JSON request left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AbsentRoots {
    principal: bool,
    resource: bool,
    context: bool,
}

/// A request that does not fit the expected form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    /// `PCL400` for unreadable JSON, `PCL401` for a field of the wrong form.
    pub code: Code,
    /// The path of the field, such as `request.principal.id`.
    pub field: String,
    /// What was expected and what came.
    pub message: String,
}

impl RequestError {
    #[cold]
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError {
            code: Code::InvalidRequest,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "`{}`: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for RequestError {}

impl miette::Diagnostic for RequestError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(
            "a request is a JSON object with `principal` (object or null), `action` (string), `resource` and `context`",
        ))
    }
}

impl Request {
    /// Whether the request carried the root `principal`, `resource` or
    /// `context`: the JSON had the key, or the builder set it.
    pub fn has_root(&self, name: &str) -> bool {
        match name {
            "principal" => !self.absent.principal,
            "resource" => !self.absent.resource,
            "context" => !self.absent.context,
            _ => false,
        }
    }

    /// Starts a typed builder for `action`.
    pub fn builder(action: impl Into<String>) -> RequestBuilder {
        RequestBuilder {
            request: Request {
                action: action.into(),
                absent: AbsentRoots {
                    principal: true,
                    resource: true,
                    context: true,
                },
                ..Request::default()
            },
        }
    }

    /// Reads a request from JSON text.
    pub fn from_json_str(text: &str) -> Result<Request, RequestError> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| RequestError {
            code: Code::InvalidJson,
            field: String::new(),
            message: format!("request is not valid JSON: {e}"),
        })?;
        Request::from_json(&json)
    }

    /// Reads a request from a JSON value: an object with `action` (string),
    /// and optionally `principal`, `resource` and `context` (absent is null).
    pub fn from_json(json: &serde_json::Value) -> Result<Request, RequestError> {
        let obj = json.as_object().ok_or_else(|| {
            RequestError::field(
                "request",
                format!("expected an object, found {}", json_type(json)),
            )
        })?;
        for key in obj.keys() {
            if !matches!(
                key.as_str(),
                "principal" | "action" | "resource" | "context"
            ) {
                return Err(RequestError::field(
                    format!("request.{key}"),
                    "unknown field; expected `principal`, `action`, `resource` or `context`",
                ));
            }
        }
        let action = match obj.get("action") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(RequestError::field(
                    "request.action",
                    format!("expected a string, found {}", json_type(other)),
                ))
            }
            None => {
                return Err(RequestError::field(
                    "request.action",
                    "missing; expected a string",
                ))
            }
        };
        let depth = crate::Limits::default().max_value_depth;
        let get = |k: &str| match obj.get(k) {
            None => Ok(Value::Null),
            Some(v) => Value::from_json(v, depth).map_err(|e| {
                RequestError::field(format!("request.{k}{}", e.path_text()), e.message)
            }),
        };
        let principal = get("principal")?;
        if !matches!(principal, Value::Null | Value::Record(_)) {
            return Err(RequestError::field(
                "request.principal",
                format!(
                    "expected an object or null, found {}",
                    principal.type_name()
                ),
            ));
        }
        let context = get("context")?;
        if !matches!(context, Value::Null | Value::Record(_)) {
            return Err(RequestError::field(
                "request.context",
                format!("expected an object or null, found {}", context.type_name()),
            ));
        }
        Ok(Request {
            principal,
            action,
            resource: get("resource")?,
            context,
            absent: AbsentRoots {
                principal: !obj.contains_key("principal"),
                resource: !obj.contains_key("resource"),
                context: !obj.contains_key("context"),
            },
        })
    }

    /// The request as JSON.
    /// The request as JSON; roots it does not carry are left out, so the
    /// JSON reads back as the same request.
    pub fn to_json(&self) -> serde_json::Value {
        let mut obj = serde_json::Map::new();
        for (name, v) in [
            ("principal", &self.principal),
            ("resource", &self.resource),
            ("context", &self.context),
        ] {
            if self.has_root(name) {
                obj.insert(name.to_string(), v.to_json());
            }
        }
        obj.insert("action".to_string(), self.action.clone().into());
        serde_json::Value::Object(obj)
    }
}

/// Builds a [`Request`] field by field.
#[derive(Clone, Debug)]
pub struct RequestBuilder {
    request: Request,
}

impl RequestBuilder {
    /// Sets the caller.
    pub fn principal(mut self, principal: impl Into<Value>) -> Self {
        self.request.principal = principal.into();
        self.request.absent.principal = false;
        self
    }

    /// Sets the resource.
    pub fn resource(mut self, resource: impl Into<Value>) -> Self {
        self.request.resource = resource.into();
        self.request.absent.resource = false;
        self
    }

    /// Sets the context.
    pub fn context(mut self, context: impl Into<Value>) -> Self {
        self.request.context = context.into();
        self.request.absent.context = false;
        self
    }

    /// The finished request.
    pub fn build(self) -> Request {
        self.request
    }
}

/// Facts the application hands over beside the request: configuration and
/// table rows, a record of named values.
///
/// Data read with [`crate::PolicySet::load_data`] (or checked with
/// [`crate::PolicySet::check_data`]) has been validated against that policy
/// set's `data` shape once and is not validated again when it decides;
/// other data is validated on every decision.
#[derive(Clone, Debug, Default)]
pub struct Data {
    /// The record the policy reads as `data`.
    pub(crate) root: Value,
    /// The policy set whose data shape this data was validated against.
    pub(crate) checked_for: Option<u64>,
    /// That set's graphs (`graph` declarations), read from this data once
    /// when it was loaded; only meaningful with `checked_for`.
    pub(crate) graphs: std::sync::Arc<[crate::value::graph::GraphIndex]>,
    /// The patterns the data shape says it holds (`regex`), compiled when
    /// it was loaded; shared by clones, found by their text.
    pub(crate) patterns: std::sync::Arc<crate::value::PatternCache>,
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        self.root == other.root
    }
}

impl Data {
    /// No data.
    pub fn empty() -> Data {
        Data {
            root: Value::Record(Record::new()),
            checked_for: None,
            graphs: std::sync::Arc::from([]),
            patterns: Default::default(),
        }
    }

    /// The record the policy reads as `data`.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Reads data from a JSON object.
    pub fn from_json(json: &serde_json::Value) -> Result<Data, RequestError> {
        match json {
            serde_json::Value::Object(_) => {
                let depth = crate::Limits::default().max_value_depth;
                let mut root = Value::from_json(json, depth).map_err(|e| {
                    RequestError::field(format!("data{}", e.path_text()), e.message)
                })?;
                // Data is decided against many times: index long lists once.
                root.index_lists();
                Ok(Data {
                    root,
                    checked_for: None,
                    graphs: std::sync::Arc::from([]),
                    patterns: Default::default(),
                })
            }
            serde_json::Value::Null => Ok(Data::empty()),
            other => Err(RequestError::field(
                "data",
                format!("expected an object, found {}", json_type(other)),
            )),
        }
    }

    /// Data from a value built otherwise (the Python binding converts its
    /// mappings straight to values): a record, or null for no data.
    pub fn from_value(mut root: Value) -> Result<Data, RequestError> {
        match root {
            Value::Record(_) => {
                root.index_lists();
                Ok(Data {
                    root,
                    checked_for: None,
                    graphs: std::sync::Arc::from([]),
                    patterns: Default::default(),
                })
            }
            Value::Null => Ok(Data::empty()),
            other => Err(RequestError::field(
                "data",
                format!("expected an object, found {}", other.type_name()),
            )),
        }
    }

    /// Reads data from JSON text.
    pub fn from_json_str(text: &str) -> Result<Data, RequestError> {
        let json: serde_json::Value = serde_json::from_str(text).map_err(|e| RequestError {
            code: Code::InvalidJson,
            field: String::new(),
            message: format!("data is not valid JSON: {e}"),
        })?;
        Data::from_json(&json)
    }

    /// Sets one top-level key.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Data {
        // Changed data must be validated again, and its graphs read again.
        self.checked_for = None;
        self.graphs = std::sync::Arc::from([]);
        self.patterns = Default::default();
        let mut value = value.into();
        value.index_lists();
        match &mut self.root {
            Value::Record(r) => r.insert(key, value),
            other => {
                let mut r = Record::new();
                r.insert(key, value);
                *other = Value::Record(r);
            }
        }
        self
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_full_request() {
        let r = Request::from_json_str(
            r#"{"principal":{"id":1},"action":"read","resource":null,"context":{}}"#,
        )
        .unwrap();
        assert_eq!(r.action, "read");
        assert_eq!(r.principal.get("id"), Some(&Value::Int(1)));
    }

    #[test]
    fn errors_name_the_field() {
        let e = Request::from_json_str(r#"{"action": 3}"#).unwrap_err();
        assert_eq!(e.field, "request.action");
        assert!(e.to_string().contains("expected a string, found a number"));
        let e = Request::from_json_str(r#"{"principal": "bob", "action": "x"}"#).unwrap_err();
        assert_eq!(e.field, "request.principal");
        let e = Request::from_json_str(r#"{"action": "x", "resorce": {}}"#).unwrap_err();
        assert_eq!(e.field, "request.resorce");
        let e = Request::from_json_str("{").unwrap_err();
        assert_eq!(e.code, Code::InvalidJson);
    }

    #[test]
    fn data_from_a_value_is_data_from_the_same_json() {
        let json = serde_json::json!({"roles": ["a", "b"], "n": {"x": 1}});
        let value = Value::from_json(&json, 128).unwrap();
        assert_eq!(
            Data::from_value(value).unwrap(),
            Data::from_json(&json).unwrap()
        );
        assert_eq!(Data::from_value(Value::Null).unwrap(), Data::empty());
        let e = Data::from_value(Value::Int(3)).unwrap_err();
        assert_eq!(e.field, "data");
        assert!(e.message.contains("found an integer"), "{e}");
    }

    #[test]
    fn builder_builds() {
        let r = Request::builder("read")
            .principal(Record::from_iter([("id".to_string(), Value::Int(3))]))
            .build();
        assert_eq!(r.principal.get("id"), Some(&Value::Int(3)));
    }
}
