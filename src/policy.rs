//! The compiled policy set: the facade's entry point. Loading, lowering and
//! checking happen once, in the constructors; every decision afterwards
//! runs the IR.

use crate::diagnostics::{Finding, PolicyError, Severity};
use crate::eval::{self, Decision, EvalError, Explanation};
use crate::filter::{self, Filter, FilterError, Schema};
use crate::limits::Limits;
use crate::load::{self as bundle, FolderResolver, ImportResolver};
use crate::lower;
use crate::request::{Data, Request, RequestError};
use crate::{ast::Outcome, ir};
use std::path::Path;
use std::sync::Arc;

/// A compiled policy set: parse, check and lower happen once, here; every
/// decision afterwards runs the IR.
#[derive(Debug)]
pub struct PolicySet {
    pub(crate) program: ir::Program,
    pub(crate) limits: Limits,
    pub(crate) warnings: Vec<Finding>,
    /// Tells this set apart from every other compiled in the process, so
    /// that data validated for it is known to be (see [`PolicySet::load_data`]).
    pub(crate) id: u64,
}

/// The next [`PolicySet::id`].
static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl PolicySet {
    /// Loads and compiles a policy file and everything it imports. Imports
    /// resolve inside the file's folder ([`FolderResolver`]); the file and
    /// every import must be a `.pcl` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<PolicySet, PolicyError> {
        PolicySet::from_file_with(path, Limits::default())
    }

    /// Like [`PolicySet::from_file`], with explicit limits.
    pub fn from_file_with(
        path: impl AsRef<Path>,
        limits: Limits,
    ) -> Result<PolicySet, PolicyError> {
        let (units, findings) = bundle::load_file(path.as_ref(), &limits);
        PolicySet::compile(units, findings, limits)
    }

    /// Compiles policy text. It has no import resolver: an `import` is an
    /// error (`PCL209`); see [`PolicySet::from_source_with`].
    pub fn from_source(text: &str) -> Result<PolicySet, PolicyError> {
        PolicySet::compile_text("<policy>", text, None, Limits::default())
    }

    /// Compiles policy text whose imports `resolver` finds.
    pub fn from_source_with(
        text: &str,
        resolver: &dyn ImportResolver,
    ) -> Result<PolicySet, PolicyError> {
        PolicySet::compile_text("<policy>", text, Some(resolver), Limits::default())
    }

    /// Compiles policy text named `name` (used in diagnostics), resolving
    /// imports inside `base_dir` (a [`FolderResolver`] on that folder).
    pub fn from_named_source(
        name: &str,
        text: &str,
        base_dir: &Path,
        limits: Limits,
    ) -> Result<PolicySet, PolicyError> {
        let resolver = FolderResolver::new(base_dir);
        PolicySet::compile_text(name, text, Some(&resolver), limits)
    }

    /// Compiles policy text named `name` with explicit limits, its imports
    /// found by `resolver` (none: an import is an error).
    pub fn from_named_source_with(
        name: &str,
        text: &str,
        resolver: Option<&dyn ImportResolver>,
        limits: Limits,
    ) -> Result<PolicySet, PolicyError> {
        PolicySet::compile_text(name, text, resolver, limits)
    }

    fn compile_text(
        name: &str,
        text: &str,
        resolver: Option<&dyn ImportResolver>,
        limits: Limits,
    ) -> Result<PolicySet, PolicyError> {
        let (units, findings) = bundle::load_str(name, text, resolver, &limits);
        PolicySet::compile(units, findings, limits)
    }

    fn compile(
        units: Vec<lower::Unit>,
        mut findings: Vec<Finding>,
        limits: Limits,
    ) -> Result<PolicySet, PolicyError> {
        let failed_to_load = findings.iter().any(|f| f.severity == Severity::Error);
        let lowered = lower::lower(&units, &limits);
        let program = lowered.program;
        findings.extend(lowered.findings);
        match program {
            Some(program) if !failed_to_load => Ok(PolicySet {
                program,
                limits,
                warnings: findings,
                id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            }),
            _ => Err(PolicyError { findings }),
        }
    }

    /// Decides a request. Never fails: errors deny, with the error as reason.
    ///
    /// Data from [`PolicySet::load_data`] or [`PolicySet::check_data`] of
    /// this set is used as it is; any other data is first validated against
    /// the declared `data` shape, on every decision.
    #[inline]
    pub fn decide(&self, request: &Request, data: &Data) -> Decision {
        let checked = data.checked_for == Some(self.id);
        eval::decide_loaded(&self.program, request, data, checked, &self.limits)
    }

    /// Decides a request as [`PolicySet::decide`] does and says why: for
    /// every statement the action reaches, whether it decided, did not
    /// apply (with its condition tree, the values each evaluated part saw
    /// and the part that failed), failed or was not reached. Credentials
    /// are shown as `<secret>`. The decision is the one `decide` makes,
    /// cost included.
    pub fn explain<'a>(&'a self, request: &'a Request, data: &'a Data) -> Explanation<'a> {
        let checked = data.checked_for == Some(self.id);
        eval::explain(&self.program, request, data, checked, &self.limits)
    }

    /// Reads data from JSON and validates it against this set's `data`
    /// shape, once: decisions with the returned data skip that check.
    pub fn load_data(&self, json: &serde_json::Value) -> Result<Data, RequestError> {
        self.check_data(Data::from_json(json)?)
    }

    /// Validates data built otherwise (for example with [`Data::with`])
    /// against this set's `data` shape, as [`PolicySet::load_data`] does.
    pub fn check_data(&self, mut data: Data) -> Result<Data, RequestError> {
        eval::validate_data(&self.program, &data.root, &mut 0)?;
        // Each graph's closure is computed here, once per data load.
        data.graphs = eval::build_graphs(&self.program, &data.root, &self.limits)?;
        data.patterns = Arc::new(eval::compile_data_patterns(
            &self.program,
            &data.root,
            &self.limits,
        )?);
        // Descriptors held as data are read once here, not per decision.
        eval::read_descriptors(&self.program, &mut data.root, self.id);
        data.checked_for = Some(self.id);
        Ok(data)
    }

    /// Decides a request given as JSON text: the whole path an application
    /// pays. A request that cannot be read is denied with the error as reason.
    pub fn decide_json(&self, request: &str, data: &Data) -> Decision {
        match Request::from_json_str(request) {
            Ok(r) => self.decide(&r, data),
            Err(e) => Decision {
                outcome: Outcome::Deny,
                reason: format!("invalid request: {e}").into(),
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
            },
        }
    }

    /// Checks a request and data against the shapes the policy declares.
    /// Data loaded or checked for this set is not checked again.
    pub fn validate(&self, request: &Request, data: &Data) -> Result<(), RequestError> {
        if data.checked_for == Some(self.id) {
            eval::validate_request(&self.program, request, &mut 0)
        } else {
            eval::validate(&self.program, request, &data.root)
        }
    }

    /// Checks a request alone against the declared request shape.
    #[cfg(feature = "tools")]
    pub(crate) fn validate_request(&self, request: &Request) -> Result<(), RequestError> {
        eval::validate_request(&self.program, request, &mut 0)
    }

    /// Warnings found while compiling (for example an uncovered action).
    pub fn warnings(&self) -> &[Finding] {
        &self.warnings
    }

    /// The declared action names.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.program.action_info.iter().map(|a| a.name.as_ref())
    }

    /// Which resources `request` may act on: its resource is unknown (no
    /// `resource` key) or partly known (a record of the keys every row
    /// shares). See `docs/filtering.md`.
    pub fn filter(&self, request: &Request, data: &Data) -> Result<Filter, FilterError> {
        self.filter_with(request, data, &Schema::open())
    }

    /// Like [`PolicySet::filter`], for resources that hold only what
    /// `schema` says (from [`filter::mapping::Mapping::schema`]).
    pub fn filter_with(
        &self,
        request: &Request,
        data: &Data,
        schema: &Schema,
    ) -> Result<Filter, FilterError> {
        let checked = data.checked_for == Some(self.id);
        filter::compute(
            &self.program,
            &self.limits,
            request,
            &data.root,
            checked,
            schema,
        )
    }

    /// The shape the request contract of `action` gives the resource.
    pub(crate) fn resource_contract(&self, action: &str) -> Option<&ir::Shape> {
        let info = self
            .program
            .actions
            .get(action)
            .and_then(|id| self.program.action_info.get(*id as usize));
        let contract = info
            .and_then(|i| i.contract)
            .and_then(|i| self.program.action_contracts.get(i as usize))
            .or(self.program.request_shape.as_ref())?;
        match &contract.base {
            ir::ShapeBase::Record(fields, _) => fields
                .iter()
                .find(|(n, _, _)| n.as_ref() == "resource")
                .map(|(_, _, s)| s),
            _ => None,
        }
    }

    /// The limits this policy set was compiled with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}
