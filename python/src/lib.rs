//! The `portcullis._portcullis` extension module: compiled policies,
//! decisions and data for Python, over the crate's public API.
//!
//! Invariants:
//! - only compiling and filtering raise (`PolicyError`, `FilterError`,
//!   see `filter.rs`); a request or data that cannot
//!   be converted, or does not fit the policy's contract, is a denying
//!   decision naming the field, never an exception;
//! - the GIL is released while the engine decides; Python objects are read
//!   before and built after, with the GIL held;
//! - every class is frozen and `Send + Sync`: one `Policy` serves many
//!   threads at once.

mod batch;
mod convert;
mod explain;
mod filter;

use portcullis::{Decision as RustDecision, EvalError, Finding, Outcome, PolicySet, Severity};
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};

create_exception!(
    _portcullis,
    PolicyError,
    PyException,
    "A policy that does not compile. `diagnostics` lists every finding \
     (code, message, file, line, column, help); `report` is the rendered report."
);

/// One finding of the compiler or linter.
#[pyclass(frozen, module = "portcullis")]
struct Diagnostic {
    /// The stable code, such as `PCL200`.
    #[pyo3(get)]
    code: &'static str,
    /// The code's kebab-case name, such as `unknown-name`.
    #[pyo3(get)]
    name: &'static str,
    /// `"error"` or `"warning"`.
    #[pyo3(get)]
    severity: &'static str,
    #[pyo3(get)]
    message: String,
    /// The file (or source name) the finding is in, when known.
    #[pyo3(get)]
    file: Option<String>,
    /// 1-based line, when known.
    #[pyo3(get)]
    line: Option<usize>,
    /// 1-based column (in characters), when known.
    #[pyo3(get)]
    column: Option<usize>,
    #[pyo3(get)]
    help: Option<String>,
    /// The finding rendered for a person (no colour).
    #[pyo3(get)]
    report: String,
}

impl Diagnostic {
    fn new(f: &Finding) -> Diagnostic {
        let at = f.line_col();
        Diagnostic {
            code: f.code.code(),
            name: f.code.name(),
            severity: match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            message: f.message.clone(),
            file: f.file().map(str::to_string),
            line: at.map(|(l, _)| l),
            column: at.map(|(_, c)| c),
            help: f.help.clone(),
            report: portcullis::unstable::output::human_finding(f, false),
        }
    }
}

#[pymethods]
impl Diagnostic {
    fn __repr__(&self) -> String {
        format!(
            "Diagnostic({} {}:{}:{}: {})",
            self.code,
            self.file.as_deref().unwrap_or("<policy>"),
            self.line.unwrap_or(0),
            self.column.unwrap_or(0),
            self.message
        )
    }
}

/// Raises `PolicyError` for a policy that does not compile.
fn policy_error(py: Python<'_>, e: &portcullis::PolicyError) -> PyErr {
    let diagnostics: Vec<Diagnostic> = e.findings.iter().map(Diagnostic::new).collect();
    let report: String = diagnostics
        .iter()
        .filter(|d| d.severity == "error")
        .map(|d| d.report.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let err = PolicyError::new_err(format!("{e}\n{}", e.summary()));
    let value = err.value(py);
    let attached = PyList::new(py, diagnostics)
        .and_then(|list| value.setattr("diagnostics", list))
        .and_then(|()| value.setattr("report", report));
    match attached {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// A compiled policy set. Compile once, decide many times, from many threads.
#[pyclass(frozen, module = "portcullis")]
struct Policy {
    set: Arc<PolicySet>,
    /// No data, validated for this set once (unchecked when the set
    /// declares data that empty data does not fit: every decision then
    /// denies naming the field).
    empty: portcullis::Data,
    name: String,
}

impl Policy {
    fn new(set: PolicySet, name: String) -> Policy {
        let empty = match set.check_data(portcullis::Data::empty()) {
            Ok(d) => d,
            Err(_) => portcullis::Data::empty(),
        };
        Policy {
            set: Arc::new(set),
            empty,
            name,
        }
    }

    fn depth(&self) -> usize {
        self.set.limits().max_value_depth
    }
}

/// The data one decision runs with: borrowed from a `Data` or the policy,
/// or converted from a mapping for this call.
enum DataFor {
    Shared(Arc<portcullis::Data>),
    Owned(portcullis::Data),
    Empty,
    Invalid(portcullis::RequestError),
}

impl Policy {
    fn data_for(&self, data: Option<&Bound<'_, PyAny>>) -> DataFor {
        let Some(data) = data.filter(|d| !d.is_none()) else {
            return DataFor::Empty;
        };
        if let Ok(d) = data.cast::<Data>() {
            return DataFor::Shared(d.get().checked_for(&self.set));
        }
        match convert::data(data, self.depth()) {
            Ok(d) => DataFor::Owned(d),
            Err(e) => DataFor::Invalid(e),
        }
    }

    /// The data to decide with, or why the data given cannot be read.
    fn data_ref<'d>(
        &'d self,
        data: &'d DataFor,
    ) -> Result<&'d portcullis::Data, &'d portcullis::RequestError> {
        match data {
            DataFor::Shared(d) => Ok(d.as_ref()),
            DataFor::Owned(d) => Ok(d),
            DataFor::Empty => Ok(&self.empty),
            DataFor::Invalid(e) => Err(e),
        }
    }

    fn decide_one(
        &self,
        request: Result<portcullis::Request, portcullis::RequestError>,
        data: &DataFor,
    ) -> RustDecision {
        let data = match self.data_ref(data) {
            Ok(d) => d,
            Err(e) => return refused("invalid data", e),
        };
        match request {
            Ok(r) => self.set.decide(&r, data),
            Err(e) => refused("invalid request", &e),
        }
    }
}

/// The denying decision for a request or data that cannot be read, as
/// `PolicySet::decide_json` gives for unreadable JSON.
fn refused(what: &str, e: &portcullis::RequestError) -> RustDecision {
    RustDecision {
        outcome: Outcome::Deny,
        reason: format!("{what}: {e}").into(),
        statements: Arc::from([]),
        filters: None,
        principal: None,
        claims: None,
        error: Some(EvalError {
            code: e.code,
            message: e.to_string(),
            span: None,
        }),
        cost: 0,
    }
}

#[pymethods]
impl Policy {
    /// Loads and compiles a policy file and everything it imports (inside
    /// its folder). Raises `PolicyError`.
    #[staticmethod]
    fn from_file(py: Python<'_>, path: PathBuf) -> PyResult<Policy> {
        let name = path.display().to_string();
        match py.detach(|| PolicySet::from_file(&path)) {
            Ok(set) => Ok(Policy::new(set, name)),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    /// Compiles policy text; `name` names it in diagnostics. Imports are
    /// resolved inside `base_dir` when given, and are an error otherwise.
    /// Raises `PolicyError`.
    #[staticmethod]
    #[pyo3(signature = (text, name = "<policy>".to_string(), base_dir = None))]
    fn from_source(
        py: Python<'_>,
        text: &str,
        name: String,
        base_dir: Option<PathBuf>,
    ) -> PyResult<Policy> {
        let compiled = py.detach(|| {
            let limits = portcullis::Limits::default();
            match &base_dir {
                Some(dir) => PolicySet::from_named_source(&name, text, dir, limits),
                None => PolicySet::from_named_source_with(&name, text, None, limits),
            }
        });
        match compiled {
            Ok(set) => Ok(Policy::new(set, name)),
            Err(e) => Err(policy_error(py, &e)),
        }
    }

    /// Decides one request (a mapping with `principal`, `action`,
    /// `resource`, `context`). Never raises for the request or the data: a
    /// request that does not fit denies, naming the field.
    #[pyo3(signature = (request, data = None))]
    fn decide(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> Decision {
        let data = self.data_for(data);
        let request = convert::request(request, self.depth());
        let inner = py.detach(|| self.decide_one(request, &data));
        Decision { inner }
    }

    /// Decides a batch of requests against the same data, in order. The
    /// requests are read a chunk at a time with the GIL held (reading
    /// Python objects needs it) and each chunk is decided with the GIL
    /// released, so other Python threads run meanwhile: several threads
    /// calling `decide_many` use several cores. (Deciding on worker threads
    /// while this one reads was measured slower on two cores: see
    /// docs/python.md, "Performance".)
    #[pyo3(signature = (requests, data = None))]
    fn decide_many(
        &self,
        py: Python<'_>,
        requests: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Vec<Decision>> {
        let data = self.data_for(data);
        let mut out = Vec::with_capacity(requests.len().unwrap_or(0));
        let mut items = requests.try_iter()?;
        loop {
            let mut chunk = batch::read_chunk(&mut items, self.depth())?;
            let done = chunk.len() < batch::CHUNK;
            let decided: Vec<RustDecision> =
                py.detach(|| chunk.drain(..).map(|r| self.decide_one(r, &data)).collect());
            out.extend(decided.into_iter().map(|inner| Decision { inner }));
            if done {
                return Ok(out);
            }
        }
    }

    /// Decides `request` as `decide` does and says why: the condition tree
    /// of every statement the action reaches, with the values each
    /// evaluated part saw and the part that failed (`str()` for people,
    /// `to_dict()` as `portcullis eval --explain --format json`).
    #[pyo3(signature = (request, data = None))]
    fn explain(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<explain::Explanation> {
        self.explain_impl(py, request, data)
    }

    /// Which resources `request` (a mapping without `resource`, or with
    /// the keys every row shares) may act on. `mapping` (a dict or the path
    /// of a JSON file, `docs/filtering.md`) says what the rows can hold.
    /// Raises `FilterError` when no exact filter exists.
    #[pyo3(signature = (request, data = None, mapping = None))]
    fn filter(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
        mapping: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<filter::Filter> {
        self.filter_impl(py, request, data, mapping)
    }

    /// The declared action names.
    #[getter]
    fn actions(&self) -> Vec<String> {
        self.set.actions().map(str::to_string).collect()
    }

    /// Warnings found while compiling.
    #[getter]
    fn warnings(&self) -> Vec<Diagnostic> {
        self.set.warnings().iter().map(Diagnostic::new).collect()
    }

    /// The file or source name the policy was compiled from.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    fn __repr__(&self) -> String {
        format!(
            "Policy({:?}, actions={:?})",
            self.name,
            self.set.actions().collect::<Vec<_>>()
        )
    }
}

/// Facts handed to the policy beside the request (`data` in policies),
/// converted once and reused across decisions. The first decision with a
/// policy validates it against that policy's `data` shape; later ones do
/// not validate it again.
#[pyclass(frozen, module = "portcullis")]
struct Data {
    data: portcullis::Data,
    /// The policy this data was last validated for, and the result: the
    /// validated data, or the data as given when it does not fit (every
    /// decision then validates and denies, naming the field).
    checked: Mutex<Option<(Weak<PolicySet>, Arc<portcullis::Data>)>>,
}

impl Data {
    fn checked_for(&self, set: &Arc<PolicySet>) -> Arc<portcullis::Data> {
        let mut slot = match self.checked.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((policy, data)) = slot.as_ref() {
            // The weak reference keeps the policy's allocation, so a live
            // match is this very policy, never a later one at its address.
            if Weak::ptr_eq(policy, &Arc::downgrade(set)) {
                return data.clone();
            }
        }
        let data = Arc::new(match set.check_data(self.data.clone()) {
            Ok(d) => d,
            Err(_) => self.data.clone(),
        });
        *slot = Some((Arc::downgrade(set), data.clone()));
        data
    }
}

#[pymethods]
impl Data {
    /// Converts a mapping (the rules of a request: exact numbers, string
    /// keys, bounded depth). Raises `ValueError` naming the field when it
    /// cannot be converted; that is the only error, and it comes here, not
    /// at a decision.
    #[new]
    #[pyo3(signature = (mapping = None))]
    fn new(mapping: Option<&Bound<'_, PyAny>>) -> PyResult<Data> {
        let data = match mapping {
            None => portcullis::Data::empty(),
            Some(m) => {
                convert::data(m, portcullis::Limits::default().max_value_depth).map_err(|e| {
                    pyo3::exceptions::PyValueError::new_err(format!("invalid data: {e}"))
                })?
            }
        };
        Ok(Data {
            data,
            checked: Mutex::new(None),
        })
    }

    /// The data as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, self.data.root())
    }

    fn __repr__(&self) -> String {
        let keys: Vec<&str> = match self.data.root() {
            portcullis::Value::Record(r) => r.iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        };
        format!("Data(keys={keys:?})")
    }
}

/// A statement that decided a decision.
#[pyclass(frozen, module = "portcullis")]
struct Statement {
    /// `policy.label`, or `policy#n` for an unlabelled statement.
    #[pyo3(get)]
    id: String,
    /// The file it is written in.
    #[pyo3(get)]
    file: String,
    /// Its 1-based line.
    #[pyo3(get)]
    line: usize,
}

#[pymethods]
impl Statement {
    fn __repr__(&self) -> String {
        format!("Statement({:?}, {}:{})", self.id, self.file, self.line)
    }
}

/// The answer to a request.
#[pyclass(frozen, module = "portcullis")]
struct Decision {
    inner: RustDecision,
}

impl Decision {
    fn status_code(&self) -> u16 {
        match self.inner.outcome {
            Outcome::Allow => 200,
            Outcome::Deny => 403,
            Outcome::Unauthenticated => 401,
        }
    }

    fn optional<'py>(
        py: Python<'py>,
        v: &Option<portcullis::Value>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        v.as_ref().map(|v| convert::to_py(py, v)).transpose()
    }
}

#[pymethods]
impl Decision {
    /// `"allow"`, `"deny"` or `"unauthenticated"`.
    #[getter]
    fn decision(&self) -> &'static str {
        self.inner.outcome.as_str()
    }

    /// Whether the decision is allow.
    #[getter]
    fn allowed(&self) -> bool {
        self.inner.outcome == Outcome::Allow
    }

    /// The HTTP status the decision maps to: 200, 403 or 401.
    #[getter]
    fn status(&self) -> u16 {
        self.status_code()
    }

    /// Why, for people; empty for an allow without a reason.
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }

    /// The statements that decided (empty for built-in outcomes).
    #[getter]
    fn statements(&self) -> Vec<Statement> {
        self.inner
            .statements
            .iter()
            .map(|s| Statement {
                id: s.id.to_string(),
                file: s.file.to_string(),
                line: s.line,
            })
            .collect()
    }

    /// Row filters of the allowing statement (a dict), or None.
    #[getter]
    fn filters<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Decision::optional(py, &self.inner.filters)
    }

    /// The identity the allowing statement resolved, or None.
    #[getter]
    fn principal<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Decision::optional(py, &self.inner.principal)
    }

    /// Token claims, or None.
    #[getter]
    fn claims<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        Decision::optional(py, &self.inner.claims)
    }

    /// The error that made the decision fail closed, as
    /// `{"code": "PCL401", "message": ...}`, or None.
    #[getter]
    fn error<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        self.inner
            .error
            .as_ref()
            .map(|e| {
                let d = PyDict::new(py);
                d.set_item("code", e.code.code())?;
                d.set_item("message", &e.message)?;
                Ok(d)
            })
            .transpose()
    }

    /// The steps the decision was charged.
    #[getter]
    fn cost(&self) -> u64 {
        self.inner.cost
    }

    /// The decision as the JSON object `portcullis eval` prints.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("decision", self.decision())?;
        d.set_item("reason", self.reason())?;
        let statements = PyList::empty(py);
        for s in self.inner.statements.iter() {
            let entry = PyDict::new(py);
            entry.set_item("id", s.id.as_ref())?;
            entry.set_item("file", s.file.as_ref())?;
            entry.set_item("line", s.line)?;
            statements.append(entry)?;
        }
        d.set_item("statements", statements)?;
        for (key, value) in [
            ("filters", &self.inner.filters),
            ("principal", &self.inner.principal),
            ("claims", &self.inner.claims),
        ] {
            if let Some(v) = value {
                d.set_item(key, convert::to_py(py, v)?)?;
            }
        }
        if let Some(e) = self.error(py)? {
            d.set_item("error", e)?;
        }
        Ok(d)
    }

    /// A decision is not a truth value: `if decision:` would hold for a
    /// deny too. Ask `decision.allowed`.
    fn __bool__(&self) -> PyResult<bool> {
        Err(PyTypeError::new_err(
            "a Decision is not a truth value; use `decision.allowed`",
        ))
    }

    fn __repr__(&self) -> String {
        let ids: Vec<&str> = self
            .inner
            .statements
            .iter()
            .map(|s| s.id.as_ref())
            .collect();
        let mut out = format!(
            "Decision({}, status={}, reason={:?}, statements={ids:?}",
            self.decision(),
            self.status_code(),
            self.reason(),
        );
        if let Some(f) = &self.inner.filters {
            out.push_str(&format!(", filters={}", f.to_json()));
        }
        if let Some(p) = &self.inner.principal {
            out.push_str(&format!(", principal={}", p.to_json()));
        }
        out.push(')');
        out
    }
}

#[pymodule]
fn _portcullis(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Policy>()?;
    m.add_class::<Decision>()?;
    m.add_class::<Data>()?;
    m.add_class::<Statement>()?;
    m.add_class::<Diagnostic>()?;
    m.add("PolicyError", m.py().get_type::<PolicyError>())?;
    m.add_class::<explain::Explanation>()?;
    m.add_class::<filter::Filter>()?;
    m.add("FilterError", m.py().get_type::<filter::FilterError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
