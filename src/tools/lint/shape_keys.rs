//! `PCL323 type-name-as-field`: a record shape with a field named like a
//! type, unquoted: `users: { string: { roles: [string] } }`. It declares
//! one field called `string`, not a map; a map of records keyed by id is
//! `{ [string]: T }`. A field that really is called `string` is written
//! quoted (`"string": T`) and is not reported.

use super::*;
use crate::ast::{ShapeBase, ShapeField, ShapeType};

/// Words that name a shape type.
const TYPE_WORDS: &[&str] = &["any", "bool", "int", "number", "string", "uuid"];

impl<'a> Linter<'a> {
    /// Every field of a shape declaration, at every depth.
    pub(super) fn shape_keys(&mut self, fields: &'a [ShapeField]) {
        for f in fields {
            if !f.rest
                && TYPE_WORDS.contains(&f.name.name.as_str())
                && self.text_of(f.name.span) == f.name.name
            {
                let word = &f.name.name;
                self.report(
                    Finding::new(
                        Code::TypeNameAsField,
                        f.name.span,
                        format!("this declares a field named `{word}`, not a map keyed by {word}s"),
                    )
                    .label("a field name")
                    .help(format!(
                        "for a record keyed by id write `[string]: T`; for a field called `{word}` write `\"{word}\": T`"
                    )),
                );
            }
            self.shape_type_keys(&f.ty);
        }
    }

    fn shape_type_keys(&mut self, t: &'a ShapeType) {
        match &t.base {
            ShapeBase::Record(fields) => self.shape_keys(fields),
            ShapeBase::List(inner) => self.shape_type_keys(inner),
            ShapeBase::OneOf(alts) => {
                for a in alts {
                    self.shape_type_keys(a);
                }
            }
            _ => {}
        }
    }
}
