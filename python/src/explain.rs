//! `Policy.explain`: a decision with why it was made, for people (`str`)
//! and programs (`to_dict`, `statements`), as `portcullis eval --explain`
//! prints it. Explaining is for debugging and test reports, not the
//! decision path, so its parts are rendered once, with the GIL released,
//! and kept as text.

use crate::filter::json_loads;
use crate::{Decision, Policy};
use pyo3::prelude::*;

/// A decision and, for the statements the action reaches, their condition
/// trees: the value each evaluated part saw and the part that failed.
/// Credentials appear as `<secret>`.
#[pyclass(frozen, module = "portcullis")]
pub(crate) struct Explanation {
    decision: Py<Decision>,
    /// The tree `portcullis eval --explain` prints.
    text: String,
    /// `portcullis eval --explain --format json`.
    json: String,
}

impl Policy {
    pub(crate) fn explain_impl(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Explanation> {
        let data = self.data_for(data);
        let request = crate::convert::request(request, self.depth());
        let (inner, text, json) = py.detach(|| {
            // A request or data that cannot be read is refused before any
            // statement runs: nothing to explain beyond the reason.
            let refused = |inner: portcullis::Decision| {
                let json = inner.to_json().to_string();
                let text = format!("{}\n  {}\n", inner.outcome.as_str(), inner.reason);
                (inner, text, json)
            };
            let data = match self.data_ref(&data) {
                Ok(d) => d,
                Err(e) => return refused(crate::refused("invalid data", e)),
            };
            let request = match request {
                Ok(r) => r,
                Err(e) => return refused(crate::refused("invalid request", &e)),
            };
            let ex = self.set.explain(&request, data);
            (ex.decision().clone(), ex.to_string(), ex.to_json_string())
        });
        Ok(Explanation {
            decision: Py::new(py, Decision { inner })?,
            text,
            json,
        })
    }
}

#[pymethods]
impl Explanation {
    /// The decision, as `Policy.decide` makes it.
    #[getter]
    fn decision(&self, py: Python<'_>) -> Py<Decision> {
        self.decision.clone_ref(py)
    }

    /// Every statement of the blocks the action reaches, in the order a
    /// decision looks at them: `id`, `file`, `line`, `effect`, `status`
    /// and its `condition` tree (`docs/language.md`, "Explanations").
    #[getter]
    fn statements<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        // A refused request has no `explanation` member: nothing ran.
        match json_loads(py, &self.json)?.get_item("explanation") {
            Ok(ex) => ex.get_item("statements"),
            Err(_) => Ok(pyo3::types::PyList::empty(py).into_any()),
        }
    }

    /// The decision's dict with an `explanation` member, as
    /// `portcullis eval --explain --format json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.json)
    }

    /// The explanation as a tree for people.
    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("Explanation({})", self.decision.get().__repr__())
    }
}
