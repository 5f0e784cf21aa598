//! Shapes: declared request and data contracts, lowered to `ir::Shape`.

use super::*;

impl<'u> Lowerer<'u> {
    pub(super) fn shape_of(&self, root: ast::ShapeRoot) -> Option<ir::Shape> {
        let fields = match root {
            ast::ShapeRoot::Request => self.request_fields?,
            ast::ShapeRoot::Data => self.data_fields?,
        };
        Some(ir::Shape {
            base: record_shape(fields),
            nullable: false,
        })
    }
}

/// A record shape: its named fields and its `*: T` rest field.
pub(super) fn record_shape(fields: &[ast::ShapeField]) -> ir::ShapeBase {
    let rest = fields
        .iter()
        .find(|f| f.rest)
        .map(|f| Box::new(shape(&f.ty)));
    ir::ShapeBase::Record(shape_fields(fields), rest)
}

pub(super) fn shape_fields(fields: &[ast::ShapeField]) -> Vec<(Name, bool, ir::Shape)> {
    fields
        .iter()
        .filter(|f| !f.rest)
        .map(|f| (Arc::from(f.name.name.as_str()), f.optional, shape(&f.ty)))
        .collect()
}

pub(super) fn shape(t: &ast::ShapeType) -> ir::Shape {
    let base = match &t.base {
        ast::ShapeBase::Any => ir::ShapeBase::Any,
        ast::ShapeBase::Bool => ir::ShapeBase::Bool,
        ast::ShapeBase::Int => ir::ShapeBase::Int,
        ast::ShapeBase::Number => ir::ShapeBase::Number,
        ast::ShapeBase::String => ir::ShapeBase::String,
        ast::ShapeBase::Uuid => ir::ShapeBase::Uuid,
        ast::ShapeBase::Regex => ir::ShapeBase::Regex,
        ast::ShapeBase::List(inner) => ir::ShapeBase::List(Box::new(shape(inner))),
        ast::ShapeBase::OneOf(alts) => ir::ShapeBase::OneOf(alts.iter().map(shape).collect()),
        ast::ShapeBase::Record(fields) => record_shape(fields),
    };
    ir::Shape {
        base,
        nullable: t.nullable,
    }
}
