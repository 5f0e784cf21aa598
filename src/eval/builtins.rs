//! Built-in functions: string slicing without copying, captures, `uuid()`,
//! `lower()` and the rest, each charged for the bytes it touches.

use super::*;

impl<'a> Evaluator<'a> {
    pub(super) fn builtin(&mut self, b: Builtin, args: &'a [Expr], span: Span) -> R<Val<'a>> {
        if let Some(v) = self.value_builtin(b, args, span) {
            return v;
        }
        let arg = |i: usize| args.get(i).unwrap_or(&NULL_EXPR);
        let a = self.eval(arg(0))?;
        let text = |v: &Val<'a>| -> R<()> {
            if v.as_str().is_some() {
                Ok(())
            } else {
                Err(type_error(
                    span,
                    format!("`{}` needs a string, found {}", b.name(), v.type_name()),
                ))
            }
        };
        // Text the built-in reads from its first argument: most scan it once.
        let len = a.as_str().map_or(0, str::len);
        Ok(match b {
            Builtin::Upper | Builtin::Lower => {
                text(&a)?;
                // A scan, and perhaps a copy.
                self.charge_bytes(2 * len, span)?;
                let s = a.as_str().unwrap_or("");
                let unchanged = if b == Builtin::Upper {
                    !s.chars().any(char::is_lowercase)
                } else {
                    !s.chars().any(char::is_uppercase)
                };
                if unchanged {
                    a
                } else if b == Builtin::Upper {
                    Val::OwnedStr(s.to_uppercase().into())
                } else {
                    Val::OwnedStr(s.to_lowercase().into())
                }
            }
            Builtin::Len => match (&a, a.as_str(), a.as_list()) {
                (_, Some(s), _) => {
                    self.charge_bytes(len, span)?;
                    Val::Int(s.chars().count() as i64)
                }
                (_, _, Some(l)) => Val::Int(l.len() as i64),
                (Val::Record(r), _, _) => Val::Int(r.len() as i64),
                (Val::OwnedRecord(r), _, _) => Val::Int(r.len() as i64),
                _ => {
                    return Err(type_error(
                        span,
                        format!(
                            "`len` needs a string, list or record, found {}",
                            a.type_name()
                        ),
                    ))
                }
            },
            Builtin::Empty => Val::Bool(match &a {
                Val::Null => true,
                Val::Record(r) => r.is_empty(),
                Val::OwnedRecord(r) => r.is_empty(),
                other => {
                    other.as_str().is_some_and(str::is_empty)
                        || other.as_list().is_some_and(|l| l.len() == 0)
                }
            }),
            Builtin::TypeOf => Val::Str(match &a {
                Val::Null => "null",
                Val::Bool(_) => "bool",
                Val::Int(_) => "int",
                Val::Float(_) => "number",
                Val::Str(_) | Val::OwnedStr(_) => "string",
                Val::List(_) | Val::OwnedList(_) => "list",
                Val::Record(_) | Val::OwnedRecord(_) => "record",
                Val::Principal(_) | Val::Tuple(_) => "principal",
                Val::Pattern(_) => "pattern",
                Val::Scalar(x) => x.type_word(),
            }),
            Builtin::IsUuid => Val::Bool(a.as_str().is_some_and(crate::value::is_uuid_text)),
            Builtin::Uuid => {
                text(&a)?;
                let s = a.as_str().unwrap_or("");
                match uuid::Uuid::try_parse(s) {
                    Ok(u) => Val::OwnedStr(u.hyphenated().to_string().into()),
                    Err(_) => {
                        return Err(error(
                            Code::InvalidUuid,
                            span,
                            format!("a string of {} characters is not a UUID", s.chars().count()),
                        ))
                    }
                }
            }
            Builtin::ToInt => match &a {
                Val::Int(_) => a,
                _ if self.charge_bytes(len, span).is_err() => return Err(exhausted(span)),
                other => match other.as_str().and_then(|s| s.trim().parse::<i64>().ok()) {
                    Some(n) => Val::Int(n),
                    None => {
                        return Err(type_error(
                            span,
                            format!("`int` cannot convert {}", other.type_name()),
                        ))
                    }
                },
            },
            Builtin::ToString => match &a {
                Val::Str(_) | Val::OwnedStr(_) => a,
                other => {
                    let mut out = String::new();
                    self.render(other, &mut out, span)?;
                    Val::OwnedStr(out.into())
                }
            },
            Builtin::Keys => match a.record_entries() {
                Some(entries) => {
                    self.charge(entries.len() as u64, span)?;
                    Val::OwnedList(
                        entries
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect::<Vec<_>>()
                            .into(),
                    )
                }
                None if a.is_null() => Val::OwnedList(Rc::from([])),
                None => {
                    return Err(type_error(
                        span,
                        format!("`keys` needs a record, found {}", a.type_name()),
                    ))
                }
            },
            Builtin::Distinct => {
                let items = iterate(&a, span)?;
                let out = Self::paid(cost::distinct(&items, &mut self.meter), span)?;
                Val::OwnedList(out.into())
            }
            Builtin::Has => {
                let k = self.eval(arg(1))?;
                match k.as_str() {
                    Some(key) => {
                        self.charge_lookup(&a, key, span)?;
                        Val::Bool(a.has_key(key))
                    }
                    None => {
                        return Err(type_error(
                            span,
                            format!("`has` needs a string key, found {}", k.type_name()),
                        ))
                    }
                }
            }
            Builtin::RegexMatch => {
                let p = self.eval(arg(1))?;
                Val::Bool(self.regex_match(&a, &p, span)?)
            }
            Builtin::PathMatch | Builtin::PathParams => {
                let p = self.eval(arg(1))?;
                self.path_pattern(b, &a, &p, span)?
            }
            Builtin::Captures => {
                text(&a)?;
                let p = self.eval(arg(1))?;
                let Val::Pattern(id) = p else {
                    return Err(type_error(
                        span,
                        format!("`captures` needs a pattern, found {}", p.type_name()),
                    ));
                };
                let Some(re) = self.program.patterns.get(id as usize) else {
                    return Ok(Val::Null);
                };
                self.charge_bytes(len, span)?;
                capture(re, a)
            }
            Builtin::SecretEq => {
                let digest = self.eval(arg(1))?;
                if a.is_null() {
                    // No secret presented: nothing to compare, no match.
                    return Ok(Val::Bool(false));
                }
                let presented = secret_text(&a, span)?;
                self.charge_bytes(len, span)?;
                let computed = sha256_hex(presented);
                Val::Bool(digest_matches(&computed, &digest))
            }
            Builtin::SecretLookup => {
                let rows = self.eval(arg(1))?;
                let field = self.eval(arg(2))?;
                if a.is_null() {
                    return Ok(Val::Null);
                }
                let presented = secret_text(&a, span)?;
                let Some(field) = field.as_str() else {
                    return Err(type_error(
                        span,
                        "`secret_lookup` needs a field name".to_string(),
                    ));
                };
                self.charge_bytes(len, span)?;
                let computed = sha256_hex(presented);
                let items = iterate(&rows, span)?;
                let mut found = Val::Null;
                // Visit every row whatever matched: time must not tell
                // whether, or where, the key matched.
                for row in items.iter() {
                    self.spend(span)?;
                    let digest = row.get_field(field).unwrap_or(Val::Null);
                    let hit = digest_matches(&computed, &digest);
                    found = if hit { row } else { found };
                }
                found
            }
            _ => {
                let bv = self.eval(arg(1))?;
                text(&a)?;
                text(&bv)?;
                let other = bv.as_str().unwrap_or("");
                // What each reads: a prefix or suffix compares at most the
                // shorter text; a search scans both.
                let touched = match b {
                    Builtin::StartsWith
                    | Builtin::EndsWith
                    | Builtin::StripPrefix
                    | Builtin::StripSuffix => len.min(other.len()),
                    _ => len + other.len(),
                };
                self.charge_bytes(touched, span)?;
                string_pair(b, a, other)
            }
        })
    }
}

/// Writes a non-negative integer in decimal without allocating.
pub(super) fn itoa_into(n: i64, buf: &mut [u8; 20]) -> Option<&str> {
    if n < 0 {
        return None;
    }
    let mut n = n as u64;
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).and_then(|b| std::str::from_utf8(b).ok())
}

pub(super) fn capture<'a>(re: &regex::Regex, text: Val<'a>) -> Val<'a> {
    let s = text.as_str().unwrap_or("");
    let Some(caps) = re.captures(s) else {
        return Val::Null;
    };
    let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::new();
    for name in re.capture_names().flatten() {
        let v = match caps.name(name) {
            Some(m) => match &text {
                Val::Str(borrowed) => borrowed.get(m.start()..m.end()).map_or(Val::Null, Val::Str),
                _ => Val::OwnedStr(m.as_str().into()),
            },
            None => Val::Null,
        };
        out.push((Rc::from(name), v));
    }
    Val::OwnedRecord(out.into())
}

/// `str::find`, with a plain byte scan for the usual one-byte separator
/// (`"."`, `":"`), which skips setting up a substring searcher.
#[inline]
pub(super) fn find(s: &str, sep: &str) -> Option<usize> {
    match sep.as_bytes() {
        [b] => s.bytes().position(|c| c == *b),
        _ => s.find(sep),
    }
}

/// `str::rfind`, with the same one-byte fast path as [`find`].
#[inline]
pub(super) fn rfind(s: &str, sep: &str) -> Option<usize> {
    match sep.as_bytes() {
        [b] => s.bytes().rposition(|c| c == *b),
        _ => s.rfind(sep),
    }
}

/// Two-string built-ins; slices stay borrowed where the input is.
pub(super) fn string_pair<'a>(b: Builtin, a: Val<'a>, other: &str) -> Val<'a> {
    let s = a.as_str().unwrap_or("");
    let slice = |range: std::ops::Range<usize>| -> Val<'a> {
        match &a {
            Val::Str(borrowed) => borrowed.get(range).map_or(Val::Null, Val::Str),
            _ => s.get(range).map_or(Val::Null, |t| Val::OwnedStr(t.into())),
        }
    };
    match b {
        Builtin::StartsWith => Val::Bool(s.starts_with(other)),
        Builtin::EndsWith => Val::Bool(s.ends_with(other)),
        Builtin::Contains => Val::Bool(s.contains(other)),
        Builtin::StripPrefix => {
            if s.starts_with(other) {
                slice(other.len()..s.len())
            } else {
                a.clone()
            }
        }
        Builtin::StripSuffix => {
            if s.ends_with(other) {
                slice(0..s.len() - other.len())
            } else {
                a.clone()
            }
        }
        Builtin::BeforeLast => rfind(s, other).map_or(Val::Null, |i| slice(0..i)),
        Builtin::AfterLast => {
            rfind(s, other).map_or(Val::Null, |i| slice(i + other.len()..s.len()))
        }
        Builtin::BeforeFirst => find(s, other).map_or(Val::Null, |i| slice(0..i)),
        Builtin::AfterFirst => {
            find(s, other).map_or(Val::Null, |i| slice(i + other.len()..s.len()))
        }
        _ => Val::Null,
    }
}
