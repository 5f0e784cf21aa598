//! Patterns that arrive as text: `matches` and `regex_match` with a
//! pattern read from data or the request, and path patterns matched by
//! segment (`path_match`, `path_params`).
//!
//! Data patterns (fields the data shape declares `regex`) are compiled when
//! the data is loaded ([`compile_data_patterns`], from
//! `PolicySet::load_data`) and found by their text; any other pattern text
//! is compiled when a decision first meets it, charged to its budget and
//! within `Limits::max_regex_size`, and kept for the rest of that decision.

use super::*;
use crate::value::{compile_pattern, path_match, PatternCache};

/// Steps charged per byte of pattern text compiled during a decision (a
/// compile builds and optimises a program, far more work than a scan).
const COMPILE_STEPS_PER_BYTE: u64 = 16;
/// Steps charged for every compile, whatever its length.
const COMPILE_STEPS: u64 = 256;

/// Compiles every string the data shape declares `regex`, once per data
/// load. A pattern that does not compile refuses the data (`PCL513`),
/// naming the field.
pub(crate) fn compile_data_patterns(
    program: &Program,
    data: &Value,
    limits: &Limits,
) -> Result<PatternCache, RequestError> {
    let mut cache = PatternCache::default();
    if let Some(shape) = &program.data_shape {
        let mut path = String::from("data");
        collect(shape, data, &mut path, limits.max_regex_size, &mut cache)?;
    }
    Ok(cache)
}

fn collect(
    shape: &ir::Shape,
    v: &Value,
    path: &mut String,
    limit: usize,
    cache: &mut PatternCache,
) -> Result<(), RequestError> {
    let at = path.len();
    match (&shape.base, v) {
        (ir::ShapeBase::Regex, Value::Str(s)) => {
            cache.insert(s, limit).map_err(|detail| RequestError {
                code: Code::InvalidPatternText,
                field: path.clone(),
                message: format!("not a pattern: {detail}"),
            })?;
        }
        (ir::ShapeBase::OneOf(alts), _) => {
            // A string another alternative admits is not refused for not
            // being a pattern; it is compiled if it can be.
            for alt in alts {
                if let (ir::ShapeBase::Regex, Value::Str(s)) = (&alt.base, v) {
                    let _ = cache.insert(s, limit);
                } else {
                    collect(alt, v, path, limit, cache)?;
                }
            }
        }
        (ir::ShapeBase::List(inner), Value::List(items)) => {
            for (i, item) in items.items().iter().enumerate() {
                let _ = write!(path, "[{i}]");
                collect(inner, item, path, limit, cache)?;
                path.truncate(at);
            }
        }
        (ir::ShapeBase::Record(fields, rest), Value::Record(r)) => {
            for (key, fv) in r.iter() {
                let field_shape = match fields.iter().find(|(n, _, _)| n.as_ref() == key) {
                    Some((_, _, s)) => s,
                    None => match rest {
                        Some(s) => s,
                        None => continue,
                    },
                };
                let _ = write!(path, ".{key}");
                collect(field_shape, fv, path, limit, cache)?;
                path.truncate(at);
            }
        }
        _ => {}
    }
    Ok(())
}

impl<'a> Evaluator<'a> {
    /// Whether `text` matches `pattern`: a compiled literal (`re"..."`), or
    /// pattern text from data or the request, anchored at both ends. A null
    /// text matches nothing, as with a literal pattern.
    pub(super) fn regex_match(&mut self, text: &Val<'a>, pattern: &Val<'a>, span: Span) -> R<bool> {
        if text.is_null() {
            return Ok(false);
        }
        let Some(t) = text.as_str() else {
            return Err(type_error(
                span,
                format!("a pattern matches text, found {}", text.type_name()),
            ));
        };
        if let Val::Pattern(id) = pattern {
            self.charge_bytes(t.len(), span)?;
            return Ok(self
                .program
                .patterns
                .get(*id as usize)
                .is_some_and(|re| re.is_match(t)));
        }
        let Some(p) = pattern.as_str() else {
            return Err(type_error(
                span,
                format!("a pattern is text, found {}", pattern.type_name()),
            ));
        };
        // Looking the text up hashes it.
        self.charge_bytes(p.len() + t.len(), span)?;
        if let Some(re) = self.patterns.get(p) {
            return Ok(re.is_match(t));
        }
        if let Some(re) = self.compiled.as_ref().and_then(|c| c.get(p)) {
            return Ok(re.is_match(t));
        }
        self.charge(
            COMPILE_STEPS + COMPILE_STEPS_PER_BYTE * p.len() as u64,
            span,
        )?;
        let re = compile_pattern(p, self.max_regex_size).map_err(|detail| {
            error(
                Code::InvalidPatternText,
                span,
                format!("`{}` is not a pattern: {detail}", Shown(p)),
            )
        })?;
        let matched = re.is_match(t);
        self.compiled
            .get_or_insert_with(Default::default)
            .insert(p.into(), re);
        Ok(matched)
    }

    /// `path_match(path, pattern)` and `path_params(path, pattern)`: the
    /// path matched by segment; `path_params` gives the parameters as a
    /// record, or null when the path does not match. A null path matches
    /// nothing.
    pub(super) fn path_pattern(
        &mut self,
        b: Builtin,
        path: &Val<'a>,
        pattern: &Val<'a>,
        span: Span,
    ) -> R<Val<'a>> {
        let miss = if b == Builtin::PathMatch {
            Val::Bool(false)
        } else {
            Val::Null
        };
        if path.is_null() {
            return Ok(miss);
        }
        let (Some(p), Some(pat)) = (path.as_str(), pattern.as_str()) else {
            return Err(type_error(
                span,
                format!(
                    "`{}` needs two strings, found {} and {}",
                    b.name(),
                    path.type_name(),
                    pattern.type_name()
                ),
            ));
        };
        // One pass over each, a step per segment.
        let segments = pat.bytes().filter(|c| *c == b'/').count() as u64;
        self.charge(segments, span)?;
        self.charge_bytes(p.len() + pat.len(), span)?;
        if b == Builtin::PathMatch {
            return Ok(Val::Bool(path_match(pat, p, |_, _| {})));
        }
        let mut params: Vec<(Rc<str>, Val<'a>)> = Vec::new();
        let mut put = |name: &str, value: Val<'a>| match params
            .iter_mut()
            .find(|(k, _)| k.as_ref() == name)
        {
            Some(slot) => slot.1 = value,
            None => params.push((name.into(), value)),
        };
        let matched = match path {
            // Segments borrowed from the request or data.
            Val::Str(s) => path_match(pat, s, |name, seg| put(name, Val::Str(seg))),
            _ => path_match(pat, p, |name, seg| put(name, Val::OwnedStr(seg.into()))),
        };
        Ok(if matched {
            Val::OwnedRecord(params.into())
        } else {
            miss
        })
    }
}

/// Pattern text as an error shows it: at most 60 characters.
struct Shown<'t>(&'t str);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.char_indices();
        match chars.nth(60) {
            Some((end, _)) => write!(f, "{}...", self.0.get(..end).unwrap_or("")),
            None => f.write_str(self.0),
        }
    }
}
