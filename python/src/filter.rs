//! `Policy.filter` and the `Filter` class: which resources a request may act
//! on, as the versioned residual form (`docs/filtering.md`) and as SQL.
//!
//! Invariants:
//! - a filter that cannot be computed or rendered raises `FilterError`
//!   (code, message, help), never a wider filter;
//! - a request that cannot be read raises `FilterError` too (there is no
//!   decision to deny with);
//! - the residual form is the crate's JSON form, read back with `json`.

use crate::{Policy, Statement};
use portcullis::filter::mapping::Mapping;
use portcullis::filter::sql::{self, Dialect, Param};
use portcullis::{Filter as RustFilter, FilterError as RustFilterError};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};
use std::path::PathBuf;

create_exception!(
    _portcullis,
    FilterError,
    PyException,
    "A filter that cannot be computed or rendered exactly (`PCL6xx`), or a \
     request or mapping that cannot be read. `code`, `name`, `message` and \
     `help` say why."
);

/// Raises `FilterError` with its code, name, message and help attached.
fn raise(
    py: Python<'_>,
    code: &'static str,
    name: &'static str,
    message: &str,
    help: Option<&str>,
) -> PyErr {
    let err = FilterError::new_err(format!("{code}: {message}"));
    let value = err.value(py);
    let attached = value
        .setattr("code", code)
        .and_then(|()| value.setattr("name", name))
        .and_then(|()| value.setattr("message", message))
        .and_then(|()| value.setattr("help", help));
    match attached {
        Ok(()) => err,
        Err(other) => other,
    }
}

fn filter_error(py: Python<'_>, e: &RustFilterError) -> PyErr {
    raise(
        py,
        e.code.code(),
        e.code.name(),
        &e.message,
        e.help.as_deref(),
    )
}

/// Reads a mapping: a dict in the documented mapping format, or the path of
/// a JSON file holding one.
fn mapping(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<(Mapping, String)> {
    let text: String = if let Ok(path) = obj.extract::<PathBuf>() {
        if obj.is_instance_of::<PyString>() || obj.hasattr("__fspath__")? {
            std::fs::read_to_string(&path).map_err(|e| {
                raise(
                    py,
                    "PCL602",
                    "invalid-mapping",
                    &format!("cannot read the mapping {}: {e}", path.display()),
                    None,
                )
            })?
        } else {
            json_dumps(py, obj)?
        }
    } else {
        json_dumps(py, obj)?
    };
    let m = Mapping::from_json_str(&text).map_err(|e| filter_error(py, &e))?;
    Ok((m, text))
}

fn json_dumps(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<String> {
    py.import("json")?
        .call_method1("dumps", (obj,))?
        .extract::<String>()
}

pub(crate) fn json_loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

impl Policy {
    pub(crate) fn filter_impl(
        &self,
        py: Python<'_>,
        request: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
        map: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Filter> {
        let data = self.data_for(data);
        let request = crate::convert::request(request, self.depth()).map_err(|e| {
            raise(
                py,
                e.code.code(),
                e.code.name(),
                &format!("invalid request: {e}"),
                None,
            )
        })?;
        let data = match &data {
            crate::DataFor::Shared(d) => d.as_ref(),
            crate::DataFor::Owned(d) => d,
            crate::DataFor::Empty => &self.empty,
            crate::DataFor::Invalid(e) => {
                return Err(raise(
                    py,
                    e.code.code(),
                    e.code.name(),
                    &format!("invalid data: {e}"),
                    None,
                ))
            }
        };
        let map = match map.filter(|m| !m.is_none()) {
            None => None,
            Some(m) => {
                let (m, text) = mapping(py, m)?;
                m.check(&self.set, &request.action)
                    .map_err(|e| filter_error(py, &e))?;
                Some((m, text))
            }
        };
        let computed = py.detach(|| match &map {
            Some((m, _)) => self.set.filter_with(&request, data, &m.schema()),
            None => self.set.filter(&request, data),
        });
        match computed {
            Ok(inner) => Ok(Filter {
                inner,
                mapping: map.map(|(_, text)| text),
            }),
            Err(e) => Err(filter_error(py, &e)),
        }
    }
}

/// Which resources a request may act on: `kind` is `"always"`, `"never"`
/// or `"residual"`; `to_dict()` is the residual form (version 1).
#[pyclass(frozen, module = "portcullis")]
pub(crate) struct Filter {
    inner: RustFilter,
    /// The mapping's JSON text, when the filter was computed with one.
    mapping: Option<String>,
}

#[pymethods]
impl Filter {
    /// `"always"`, `"never"` or `"residual"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.as_str()
    }

    /// The action asked for.
    #[getter]
    fn action(&self) -> &str {
        &self.inner.action
    }

    /// The mapping the filter was computed with (a dict), or None.
    #[getter]
    fn mapping<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.mapping
            .as_deref()
            .map(|t| json_loads(py, t))
            .transpose()
    }

    /// The allowing statements that may decide, in order.
    #[getter]
    fn statements(&self) -> Vec<Statement> {
        self.inner
            .allows
            .iter()
            .map(|a| Statement {
                id: a.statement.id.to_string(),
                file: a.statement.file.to_string(),
                line: a.statement.line,
            })
            .collect()
    }

    /// The row filters each allowing statement returns (a dict, or None
    /// for a statement without a `filters` output), parallel to
    /// `statements`.
    #[getter]
    fn filters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let items = self
            .inner
            .allows
            .iter()
            .map(|a| match &a.filters {
                Some(v) => crate::convert::to_py(py, v),
                None => Ok(py.None().into_bound(py)),
            })
            .collect::<PyResult<Vec<_>>>()?;
        PyList::new(py, items)
    }

    /// The residual form as a dict (`version`, `action`, `result`,
    /// `condition`, `allows`, and `refusal` for a constant never).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json_loads(py, &self.inner.to_json().to_string())
    }

    /// Renders the filter as a SQL `WHERE` clause over the mapping's table:
    /// `(text, params)`, with `?` parameters for SQLite and `$1`... for
    /// PostgreSQL. Raises `FilterError` for what the mapping cannot say.
    #[pyo3(signature = (mapping, dialect = "sqlite"))]
    fn to_sql<'py>(
        &self,
        py: Python<'py>,
        mapping: &Bound<'py, PyAny>,
        dialect: &str,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let Some(dialect) = Dialect::parse(dialect) else {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown dialect {dialect:?}; expected \"sqlite\" or \"postgresql\""
            )));
        };
        let (m, _) = self::mapping(py, mapping)?;
        let w = sql::render(&self.inner, &m, dialect).map_err(|e| filter_error(py, &e))?;
        let params = w
            .params
            .iter()
            .map(|p| match p {
                Param::Int(i) => Ok::<_, PyErr>(i.into_pyobject(py)?.into_any()),
                Param::Text(s) => Ok(s.into_pyobject(py)?.into_any()),
                Param::Bool(b) => Ok(b.into_pyobject(py)?.to_owned().into_any()),
            })
            .collect::<PyResult<Vec<_>>>()?;
        let text = PyString::new(py, &w.clause).into_any();
        PyTuple::new(py, [text, PyList::new(py, params)?.into_any()])
    }

    /// The condition as a SQLAlchemy `ColumnElement` over `model`
    /// (`portcullis.sqlalchemy.to_sqlalchemy`).
    #[pyo3(signature = (model, mapping = None, dialect = "sqlite"))]
    fn to_sqlalchemy<'py>(
        slf: &Bound<'py, Self>,
        model: &Bound<'py, PyAny>,
        mapping: Option<&Bound<'py, PyAny>>,
        dialect: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("portcullis.sqlalchemy")?.call_method1(
            "to_sqlalchemy",
            (
                slf,
                model,
                mapping.map_or_else(|| py.None().into_bound(py), |m| m.clone()),
                dialect,
            ),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "Filter({}, action={:?}, statements={})",
            self.inner.kind.as_str(),
            self.inner.action,
            self.inner.allows.len()
        )
    }
}
