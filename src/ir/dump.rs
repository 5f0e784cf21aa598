//! A readable dump of a compiled [`Program`]: the interned names (each
//! numbered once, so a name interned twice would show twice), the action
//! index, every policy's blocks with their statement index, and each
//! statement's condition as the evaluator sees it. Golden dumps in
//! `tests/ir/` show what lowering produces; `portcullis dump` prints one.

use super::*;
use std::fmt::Write as _;

/// Writes `program` as text. The format is for people and golden tests,
/// not for parsing, and may change with the IR.
pub(crate) fn dump(program: &Program) -> String {
    let mut d = Dumper::default();
    let mut body = String::new();
    d.actions(program, &mut body);
    body.push_str("kinds\n");
    for (i, k) in program.kinds.iter().enumerate() {
        let name = program.kind_names.get(i).map_or("?", |n| &**n);
        let through = match program.kind_through.get(i) {
            Some(Some(t)) => format!("data.{}[.{}]", d.path(&t.table), d.path(&t.key)),
            _ => String::new(),
        };
        let _ = match k {
            Kind::Equals(path, cmp) => {
                writeln!(body, "  {i} {name} == {through}.{} {cmp:?}", d.path(path))
            }
            Kind::Member(path, cmp) => {
                writeln!(body, "  {i} {name} in {through}.{} {cmp:?}", d.path(path))
            }
            Kind::Anyone { tuple_wide } => {
                writeln!(body, "  {i} {name} anyone tuple_wide={tuple_wide}")
            }
        };
    }
    if let Some(auth) = &program.authenticate {
        body.push_str("authenticate\n");
        d.block(program, auth, &mut body);
    }
    for (i, p) in program.policies.iter().enumerate() {
        let _ = writeln!(body, "policy {i} {}", d.name(&p.name));
        d.block(program, &p.body, &mut body);
    }
    for (i, r) in program.rules.iter().enumerate() {
        let params: Vec<String> = r.params.iter().map(|s| format!("${s}")).collect();
        let _ = writeln!(
            body,
            "rule {i}({}) = {}",
            params.join(", "),
            d.expr(&r.body)
        );
    }
    for (i, l) in program.lets.iter().enumerate() {
        let _ = writeln!(body, "let {i} = {}", d.expr(l));
    }
    let mut out = String::from("names\n");
    for (i, n) in d.names.iter().enumerate() {
        let _ = writeln!(out, "  #{i} {n:?}");
    }
    out.push_str(&body);
    out
}

/// Numbers names by identity (`Arc` pointer), in order of first use.
#[derive(Default)]
struct Dumper {
    names: Vec<Name>,
    ids: HashMap<*const u8, usize>,
}

impl Dumper {
    fn name(&mut self, n: &Name) -> String {
        let key = n.as_ptr();
        let next = self.names.len();
        let id = *self.ids.entry(key).or_insert(next);
        if id == next {
            self.names.push(n.clone());
        }
        format!("#{id}")
    }

    fn path(&mut self, path: &[Name]) -> String {
        let parts: Vec<String> = path.iter().map(|n| self.name(n)).collect();
        parts.join(".")
    }

    fn actions(&mut self, program: &Program, out: &mut String) {
        let mut by_id: Vec<(&ActionId, &Name)> =
            program.actions.iter().map(|(n, id)| (id, n)).collect();
        by_id.sort();
        out.push_str("actions\n");
        for (id, name) in by_id {
            let Some(info) = program.action_info.get(*id as usize) else {
                continue;
            };
            let policies: Vec<String> = info.policies.iter().map(|p| p.to_string()).collect();
            let contract = info
                .contract
                .map_or(String::new(), |c| format!(" contract {c}"));
            let _ = writeln!(
                out,
                "  {id} {} {:?} -> policies [{}]{contract}",
                self.name(name),
                info.class,
                policies.join(", ")
            );
        }
        if let Some(open) = &program.open_set {
            for (glob, policy) in open {
                let _ = writeln!(out, "  * {} -> policy {policy}", self.name(glob));
            }
        }
    }

    fn block(&mut self, program: &Program, block: &Block, out: &mut String) {
        let order = if block.ordered {
            "in order"
        } else {
            "deny overrides"
        };
        let _ = writeln!(out, "  block {order}");
        if let Some(index) = &block.index {
            let path: Vec<String> = index.fields.iter().map(|f| self.name(f)).collect();
            let _ = writeln!(out, "    index {:?}.{}", index.root, path.join("."));
            for (key, positions) in index.entries() {
                let _ = writeln!(out, "      {key} -> {positions:?}");
            }
        }
        for (pos, s) in block.statements.iter().enumerate() {
            let meta = program.statements.get(s.id as usize);
            let id = meta.map_or("?", |m| &*m.id);
            let line = meta.map_or(0, |m| m.line);
            let _ = write!(
                out,
                "    {pos}: stmt {} {id} (line {line}) {}",
                s.id, s.outcome
            );
            if let Some(w) = &s.when {
                let _ = write!(out, " when {}", self.expr(w));
            }
            match &s.reason {
                Some(Reason::Fixed(r)) => {
                    let _ = write!(out, " reason {r:?}");
                }
                Some(Reason::Computed(e)) => {
                    let _ = write!(out, " reason {}", self.expr(e));
                }
                None => {}
            }
            for (what, e) in [
                ("filters", &s.outputs.filters),
                ("principal", &s.outputs.principal),
                ("claims", &s.outputs.claims),
            ] {
                if let Some(e) = e {
                    let _ = write!(out, " {what} {}", self.expr(e));
                }
            }
            out.push('\n');
        }
    }

    fn list(&mut self, items: &[Expr]) -> String {
        let parts: Vec<String> = items.iter().map(|e| self.expr(e)).collect();
        parts.join(" ")
    }

    /// An expression as an S-expression.
    fn expr(&mut self, e: &Expr) -> String {
        match e {
            Expr::Const(v) => v.to_json().to_string(),
            Expr::Scalar(x) => format!("({} {})", x.type_word(), x),
            Expr::Root(r) => format!("{r:?}").to_lowercase(),
            Expr::Var(s) => format!("${s}"),
            Expr::Let(id) => format!("(let {id})"),
            Expr::Field(x, n, _) => format!("(. {} {})", self.expr(x), self.name(n)),
            Expr::Index(x, k, _) => format!("([] {} {})", self.expr(x), self.expr(k)),
            Expr::Call(id, args) if args.is_empty() => format!("(rule {id})"),
            Expr::Call(id, args) => format!("(rule {id} {})", self.list(args)),
            Expr::Builtin(b, args, _) => format!("({} {})", b.name(), self.list(args)),
            Expr::Graph(q) => {
                let op = match q.op {
                    crate::ir::GraphOp::Reach => "graph-reach",
                    crate::ir::GraphOp::Row => "graph-row",
                };
                format!("({op} {} {})", q.graph, self.list(&q.args))
            }
            Expr::Not(x, _) => format!("(not {})", self.expr(x)),
            Expr::And(a, b, _) => format!("(and {} {})", self.expr(a), self.expr(b)),
            Expr::Or(a, b, _) => format!("(or {} {})", self.expr(a), self.expr(b)),
            Expr::Coalesce(a, b) => format!("(?? {} {})", self.expr(a), self.expr(b)),
            Expr::Cmp(op, a, b, _) => format!("({op:?} {} {})", self.expr(a), self.expr(b)),
            Expr::In {
                item, set, negate, ..
            } => {
                let op = if *negate { "not-in" } else { "in" };
                format!("({op} {} {})", self.expr(item), self.expr(set))
            }
            Expr::Like(a, b, _) => format!("(like {} {})", self.expr(a), self.expr(b)),
            Expr::Matches(a, b, _) => format!("(matches {} {})", self.expr(a), self.expr(b)),
            Expr::Quant {
                q,
                slot,
                over,
                body,
                ..
            } => {
                let q = format!("{q:?}").to_lowercase();
                format!("({q} ${slot} {} {})", self.expr(over), self.expr(body))
            }
            Expr::If(c, a, b, _) => {
                format!("(if {} {} {})", self.expr(c), self.expr(a), self.expr(b))
            }
            Expr::Match(subject, arms, default) => {
                let mut out = format!("(match {}", self.expr(subject));
                for (values, arm) in arms {
                    let vs: Vec<String> = values.iter().map(|v| v.to_json().to_string()).collect();
                    let _ = write!(out, " [{}] {}", vs.join(" "), self.expr(arm));
                }
                if let Some(d) = default {
                    let _ = write!(out, " _ {}", self.expr(d));
                }
                out.push(')');
                out
            }
            Expr::List(items) => format!("[{}]", self.list(items)),
            Expr::Tuple(items) => format!("(tuple {})", self.list(items)),
            Expr::Record(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(n, e)| format!("{} {}", self.name(n), self.expr(e)))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
            Expr::Template(parts) => {
                let parts: Vec<String> = parts
                    .iter()
                    .map(|p| match p {
                        TemplatePart::Text(t) => format!("{t:?}"),
                        TemplatePart::Expr(e) => self.expr(e),
                    })
                    .collect();
                format!("(template {})", parts.join(" "))
            }
            Expr::Principal(kind, value) => format!("(principal {kind} {})", self.expr(value)),
            Expr::Pattern(id) => format!("(pattern {id})"),
            Expr::ListComp {
                elem,
                slot,
                over,
                cond,
                ..
            } => {
                let cond = cond
                    .as_ref()
                    .map_or(String::new(), |c| format!(" if {}", self.expr(c)));
                format!(
                    "(list-for ${slot} {} {}{cond})",
                    self.expr(over),
                    self.expr(elem)
                )
            }
            Expr::RecordComp {
                key,
                value,
                key_slot,
                value_slot,
                over,
                cond,
                ..
            } => {
                let cond = cond
                    .as_ref()
                    .map_or(String::new(), |c| format!(" if {}", self.expr(c)));
                format!(
                    "(record-for ${key_slot} ${value_slot} {} {} {}{cond})",
                    self.expr(over),
                    self.expr(key),
                    self.expr(value)
                )
            }
        }
    }
}
