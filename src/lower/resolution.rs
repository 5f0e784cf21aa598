//! What lowering resolved, kept for the tools: each name use and the
//! definition it names, and the conditions whose value is known without a
//! request. The linter reads this instead of resolving names and folding
//! constants a second time, so a new construct is taught to lowering once.

use super::*;

/// A place in the policy set: a file's name and a byte offset in it.
pub(crate) type Site = (Arc<str>, usize);

/// What a name use resolved to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A block `let`, rule parameter or loop variable bound at this site.
    Local(Site),
    /// A file-level `let` defined at this site.
    Let(Site),
    /// A rule defined at this site.
    Rule(Site),
    /// A request root (`principal`, `action`, ...).
    Root,
    /// A principal kind.
    Kind,
    /// A `graph` declared at this site.
    Graph(Site),
}

impl Target {
    /// The site of the definition, for names that have one.
    pub(crate) fn definition(&self) -> Option<&Site> {
        match self {
            Target::Local(s) | Target::Let(s) | Target::Rule(s) | Target::Graph(s) => Some(s),
            Target::Root | Target::Kind => None,
        }
    }
}

/// Name uses and constant conditions of one lowered policy set.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    /// Each name use, by the site of the use.
    pub uses: HashMap<Site, Target>,
    /// `when` and `if` conditions whose truth does not depend on the
    /// request, by the site where the condition starts.
    pub conditions: HashMap<Site, bool>,
    /// Conditions (a `when`, an operand of `and`, `or`, `not`, the
    /// condition of an `if` or of `any`/`all`) that are a bare value of
    /// unknown type: a path, a name, `x ?? y`. By file, start and end.
    pub bare_conditions: HashSet<(Arc<str>, usize, usize)>,
}

impl Resolution {
    /// What the name written at `site` names.
    pub(crate) fn target(&self, site: &Site) -> Option<&Target> {
        self.uses.get(site)
    }

    /// The definitions some name use reaches.
    #[cfg_attr(
        not(feature = "tools"),
        expect(dead_code, reason = "read by the linter")
    )]
    pub(crate) fn used(&self) -> HashSet<Site> {
        self.uses
            .values()
            .filter_map(Target::definition)
            .cloned()
            .collect()
    }

    /// The truth of the condition starting at `site`, when it is constant.
    #[cfg_attr(
        not(feature = "tools"),
        expect(dead_code, reason = "read by the linter")
    )]
    pub(crate) fn condition(&self, site: &Site) -> Option<bool> {
        self.conditions.get(site).copied()
    }
}

impl<'u> Lowerer<'u> {
    /// The site of `span` in the file being lowered.
    pub(super) fn site(&self, span: Span) -> Site {
        self.site_in(self.unit, span)
    }

    /// The site of `span` in unit `unit`.
    pub(super) fn site_in(&self, unit: usize, span: Span) -> Site {
        let name = self
            .units
            .get(unit)
            .map_or_else(|| Arc::from(""), |u| u.source.name.clone());
        (name, span.start)
    }

    /// Records what the name written at `span` resolved to.
    pub(super) fn resolved(&mut self, span: Span, target: Target) {
        if self.resolve {
            let site = self.site(span);
            self.resolution.uses.insert(site, target);
        }
    }

    /// Records a condition that is a bare value not known to be a boolean
    /// (`PCL315`): a request root, or a path, name or `??` of unknown type.
    pub(super) fn bare_condition(&mut self, e: &ast::Expr, ty: &Ty) {
        if !self.resolve {
            return;
        }
        let root = |l: &Self, id: &ast::Ident| {
            matches!(l.resolution.target(&l.site(id.span)), Some(Target::Root))
        };
        let bare = match &e.kind {
            ExprKind::Name(id) if root(self, id) => true,
            _ if !matches!(ty, Ty::Any) => false,
            // `x ?? false`: the default says the author expects a boolean.
            ExprKind::Binary(BinOp::Coalesce, _, d) => !matches!(d.kind, ExprKind::Bool(_)),
            ExprKind::Field(..) | ExprKind::Index(..) => true,
            ExprKind::Name(id) => matches!(
                self.resolution.target(&self.site(id.span)),
                Some(Target::Local(_) | Target::Let(_))
            ),
            _ => false,
        };
        if bare {
            let (file, start) = self.site(e.span);
            self.resolution
                .bare_conditions
                .insert((file, start, e.span.end));
        }
    }

    /// Records a `when` or `if` condition that is constant. A condition
    /// whose lowering reported an error (findings past `before`) holds
    /// placeholders, and is not judged.
    pub(super) fn constant_condition(&mut self, span: Span, cond: &Expr, before: usize) {
        let failed = self
            .findings
            .get(before..)
            .is_some_and(|new| new.iter().any(|f| f.severity == Severity::Error));
        if !self.resolve || failed {
            return;
        }
        if let Some(Value::Bool(b)) = self.fold(cond, 0) {
            let site = self.site(span);
            self.resolution.conditions.insert(site, b);
        }
    }
}
