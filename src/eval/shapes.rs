//! Contracts: a request and data checked against the declared shapes, at
//! every depth, before any statement runs.

use super::*;

/// Checks the request and data against the contract the program declares
/// for the request's action (its `request for` contract, else the default
/// one) at every depth. Allocates nothing unless a value does not fit; the
/// error then names the field.
pub(crate) fn validate(
    program: &Program,
    request: &Request,
    data: &Value,
) -> Result<(), RequestError> {
    validate_request(program, request, &mut 0)?;
    validate_data(program, data, &mut 0)
}

/// Checks the request against its action's contract, counting the values
/// visited in `visited`.
pub(crate) fn validate_request(
    program: &Program,
    request: &Request,
    visited: &mut u64,
) -> Result<(), RequestError> {
    let info = program
        .actions
        .get(request.action.as_str())
        .and_then(|id| program.action_info.get(*id as usize));
    // A public action is decided without looking at the request.
    if info.is_some_and(|i| i.class == ActionClass::Public) {
        return Ok(());
    }
    let contract = info
        .and_then(|info| info.contract)
        .and_then(|i| program.action_contracts.get(i as usize))
        .or(program.request_shape.as_ref());
    if let Some(ir::Shape {
        base: ir::ShapeBase::Record(fields, _),
        ..
    }) = contract
    {
        let roots = [
            ("principal", &request.principal),
            ("resource", &request.resource),
            ("context", &request.context),
        ];
        for (name, optional, shape) in fields {
            if let Some((_, v)) = roots.iter().find(|(n, _)| *n == name.as_ref()) {
                // An absent root reads as null; only `name?:` lets it be
                // absent, as for any other field.
                let fits = if !request.has_root(name) {
                    if *optional {
                        Ok(())
                    } else {
                        Err(Mismatch {
                            path: Vec::new(),
                            message: format!(
                                "missing; expected {}",
                                shape_word(&shape.base, shape.nullable)
                            ),
                        })
                    }
                } else {
                    check_shape(v, shape, visited)
                };
                fits.map_err(|e| e.into_request_error(format!("request.{name}")))?;
            }
        }
    }
    Ok(())
}

/// Checks data against the declared data shape, counting the values
/// visited in `visited`. Done once when data is loaded for a policy set
/// (`PolicySet::load_data`), else on every decision.
pub(crate) fn validate_data(
    program: &Program,
    data: &Value,
    visited: &mut u64,
) -> Result<(), RequestError> {
    if let Some(shape) = &program.data_shape {
        check_shape(data, shape, visited).map_err(|e| e.into_request_error("data".to_string()))?;
    }
    Ok(())
}

/// A value that does not fit its shape: the path below the checked root
/// (innermost segment first, as the check unwinds) and what was wrong.
pub(super) struct Mismatch {
    path: Vec<String>,
    message: String,
}

impl Mismatch {
    #[cold]
    fn at(mut self, segment: String) -> Mismatch {
        self.path.push(segment);
        self
    }

    #[cold]
    fn into_request_error(self, mut root: String) -> RequestError {
        for seg in self.path.iter().rev() {
            root.push_str(seg);
        }
        RequestError::field(root, self.message)
    }
}

/// Checks a value against a declared shape, counting the values visited.
/// `T?` admits null; a record field `name?:` may be absent, and only then:
/// a field that must be there must be there even if its type admits null.
/// Recursion follows the shape, which the policy's nesting limit bounds, so
/// every depth is checked.
pub(super) fn check_shape(v: &Value, shape: &ir::Shape, visited: &mut u64) -> Result<(), Mismatch> {
    *visited += 1;
    let ok = match (&shape.base, v) {
        (ir::ShapeBase::Any, _) => true,
        (_, Value::Null) => shape.nullable,
        (ir::ShapeBase::Bool, Value::Bool(_))
        | (ir::ShapeBase::Int, Value::Int(_))
        | (ir::ShapeBase::Number, Value::Int(_) | Value::Float(_))
        | (ir::ShapeBase::String | ir::ShapeBase::Regex, Value::Str(_)) => true,
        (ir::ShapeBase::Uuid, Value::Str(s)) => is_uuid_text(s),
        (ir::ShapeBase::OneOf(alts), _) => {
            alts.iter().any(|alt| check_shape(v, alt, visited).is_ok())
        }
        (ir::ShapeBase::List(inner), Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(item, inner, visited).map_err(|e| e.at(format!("[{i}]")))?;
            }
            true
        }
        (ir::ShapeBase::Record(fields, rest), Value::Record(r)) => {
            if let Some(rest) = rest {
                // Declared fields are few: a scan per key stays linear in
                // the record.
                for (key, fv) in r.iter() {
                    if !fields.iter().any(|(name, _, _)| name.as_ref() == key) {
                        check_shape(fv, rest, visited).map_err(|e| e.at(format!(".{key}")))?;
                    }
                }
            }
            for (name, optional, field_shape) in fields {
                match r.get(name) {
                    Some(fv) => check_shape(fv, field_shape, visited)
                        .map_err(|e| e.at(format!(".{name}")))?,
                    None if *optional => {}
                    None => {
                        return Err(Mismatch {
                            path: vec![format!(".{name}")],
                            message: format!(
                                "missing; expected {}",
                                shape_word(&field_shape.base, field_shape.nullable)
                            ),
                        })
                    }
                }
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Mismatch {
            path: Vec::new(),
            message: format!(
                "expected {}, found {}",
                shape_word(&shape.base, shape.nullable),
                v.type_name()
            ),
        })
    }
}

pub(super) fn shape_word(b: &ir::ShapeBase, nullable: bool) -> String {
    let word = match b {
        ir::ShapeBase::Any => "any value",
        ir::ShapeBase::Bool => "a boolean",
        ir::ShapeBase::Int => "an integer",
        ir::ShapeBase::Number => "a number",
        ir::ShapeBase::String => "a string",
        ir::ShapeBase::Uuid => "a UUID",
        ir::ShapeBase::Regex => "a pattern (a string)",
        ir::ShapeBase::List(_) => "a list",
        ir::ShapeBase::Record(..) => "an object",
        ir::ShapeBase::OneOf(alts) => {
            let words: Vec<String> = alts
                .iter()
                .map(|a| shape_word(&a.base, a.nullable))
                .collect();
            return format!(
                "{}{}",
                words.join(" or "),
                if nullable { " or null" } else { "" }
            );
        }
    };
    format!("{word}{}", if nullable { " or null" } else { "" })
}
