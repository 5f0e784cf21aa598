//! Principals: `matches` against literals, descriptors in data, OR lists and
//! AND tuples, and the kind comparisons a policy declares.

use super::*;

impl<'a> Evaluator<'a> {
    /// Matches a subject against a descriptor expression. Descriptors
    /// written in the policy are walked in place, without building values;
    /// anything else is evaluated and matched as data.
    pub(super) fn matches_expr(&mut self, subject: &Val<'a>, e: &'a Expr) -> R<bool> {
        self.enter(e)?;
        let hit = self.matches_node(subject, e);
        self.depth -= 1;
        hit
    }

    pub(super) fn matches_node(&mut self, subject: &Val<'a>, e: &'a Expr) -> R<bool> {
        match e {
            Expr::List(items) => {
                for item in items.iter() {
                    let hit = match item {
                        Expr::Tuple(members) | Expr::List(members) => {
                            self.tuple_expr(subject, members)?
                        }
                        other => self.matches_expr(subject, other)?,
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::Tuple(members) => self.tuple_expr(subject, members),
            Expr::Principal(kind, value) => {
                let v = self.eval(value)?;
                self.kind_test(subject, *kind, &v, span_of(e))
            }
            Expr::If(c, a, b, _) => {
                if self.truth(c, "the condition of `if`")? {
                    self.matches_expr(subject, a)
                } else {
                    self.matches_expr(subject, b)
                }
            }
            Expr::Match(s, arms, default) => {
                let v = self.eval(s)?;
                match select_arm(&v, arms, default) {
                    Some(x) => self.matches_expr(subject, x),
                    None => Ok(false),
                }
            }
            Expr::Call(rule, args) => {
                let subject = subject.clone();
                self.call(*rule, args, move |ev, body| ev.matches_expr(&subject, body))
            }
            Expr::Index(base, key, span) if matches!(**base, Expr::Record(_)) => {
                let Expr::Record(fields) = &**base else {
                    return Ok(false);
                };
                let k = self.eval(key)?;
                let Some(k) = k.as_str() else {
                    return Err(type_error(
                        *span,
                        format!("a record key must be a string, found {}", k.type_name()),
                    ));
                };
                match fields.iter().find(|(name, _)| name.as_ref() == k) {
                    Some((_, x)) => self.matches_expr(subject, x),
                    None => Ok(false),
                }
            }
            other => {
                let v = self.eval(other)?;
                self.matches_value(subject, &v, span_of(other))
            }
        }
    }

    /// An AND tuple written in the policy. Members are judged exactly as
    /// the members of a tuple held as data (`tuple_member`), so a descriptor
    /// means the same wherever it comes from.
    pub(super) fn tuple_expr(&mut self, subject: &Val<'a>, members: &'a [Expr]) -> R<bool> {
        if members.is_empty() {
            return Ok(false);
        }
        let mut all = true;
        let mut wide = false;
        for m in members {
            let hit = match m {
                Expr::Principal(kind, value) => {
                    wide |= self.is_tuple_wide(*kind);
                    let v = self.eval(value)?;
                    self.kind_test(subject, *kind, &v, span_of(m))?
                }
                other => {
                    let v = self.eval(other)?;
                    self.tuple_member(subject, &v, &mut wide, span_of(other))?
                }
            };
            all &= hit;
        }
        Ok(if wide { !subject.is_null() } else { all })
    }

    pub(super) fn is_tuple_wide(&self, kind: u32) -> bool {
        matches!(
            self.program.kinds.get(kind as usize),
            Some(Kind::Anyone { tuple_wide: true })
        )
    }

    /// Matches a descriptor value: a string is one principal, a list is an
    /// OR list whose nested lists are AND tuples, null matches nobody.
    pub(super) fn matches_value(&mut self, subject: &Val<'a>, v: &Val<'a>, span: Span) -> R<bool> {
        match v {
            Val::Null => Ok(false),
            Val::Principal(p) => self.kind_test(subject, p.kind, &p.value, span),
            Val::Tuple(members) => self.tuple_value(subject, &ListView::Owned(members), span),
            // `text matches re"..."`: the whole text matches the pattern.
            Val::Pattern(id) => {
                if subject.is_null() {
                    return Ok(false);
                }
                let Some(text) = subject.as_str() else {
                    return Err(type_error(
                        span,
                        format!("a pattern matches text, found {}", subject.type_name()),
                    ));
                };
                // Linear in the text for a compiled pattern.
                self.charge_bytes(text.len(), span)?;
                Ok(self
                    .program
                    .patterns
                    .get(*id as usize)
                    .is_some_and(|re| re.is_match(text)))
            }
            // A list of the data, read as a descriptor when it was loaded.
            Val::List(list) if self.data_set != 0 => match list.descriptor(self.data_set) {
                Some(parsed) => self.read_descriptor(subject, list, parsed, span),
                None => self.descriptor_list(subject, v, span),
            },
            _ => self.descriptor_list(subject, v, span),
        }
    }

    /// Matches a descriptor the data loading did not read: text is one
    /// principal, a list an OR list whose every item is checked.
    fn descriptor_list(&mut self, subject: &Val<'a>, v: &Val<'a>, span: Span) -> R<bool> {
        if let Some(text) = v.as_str() {
            return self.text_test(subject, text, span);
        }
        let Some(items) = v.as_list() else {
            return Err(error(
                Code::MalformedDescriptor,
                span,
                format!(
                    "a principal descriptor is a string or a list, found {}",
                    v.type_name()
                ),
            ));
        };
        // One pass checks every item and matches until the first hit. A
        // malformed item refuses wherever it stands, before or after the
        // hit; an error while matching (a caller without the field a kind
        // reads) is kept until the rest is checked, so a malformed
        // descriptor is reported as such, whatever precedes it.
        let mut hit = false;
        let mut failed = None;
        for item in items.iter() {
            self.spend(span)?;
            let matching = !hit && failed.is_none();
            let matched = match &item {
                Val::List(_) | Val::OwnedList(_) | Val::Tuple(_) => match item.as_list() {
                    Some(members) => {
                        self.check_tuple(&members, span)?;
                        if matching {
                            self.tuple_value(subject, &members, span)
                        } else {
                            Ok(false)
                        }
                    }
                    None => Ok(false),
                },
                Val::Null => Ok(false),
                Val::Principal(p) if matching => self.kind_test(subject, p.kind, &p.value, span),
                Val::Principal(_) => Ok(false),
                other => match other.as_str() {
                    Some(text) if matching => self.text_test(subject, text, span),
                    Some(_) => Ok(false),
                    None => {
                        return Err(error(
                            Code::MalformedDescriptor,
                            span,
                            format!(
                                "an OR list holds principals and tuples, found {}",
                                other.type_name()
                            ),
                        ))
                    }
                },
            };
            match matched {
                Ok(h) => hit |= h,
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(hit),
        }
    }

    /// Matches an OR list of the data that loading read as a descriptor
    /// (`read_descriptors`): the same items, judged as `descriptor_list`
    /// judges them, without parsing their text or checking their shape
    /// again (loading found it well formed).
    fn read_descriptor(
        &mut self,
        subject: &Val<'a>,
        list: &'a crate::value::List,
        parsed: &'a [DescriptorItem],
        span: Span,
    ) -> R<bool> {
        for (item, reading) in list.items().iter().zip(parsed) {
            self.spend(span)?;
            let hit = match (reading, item) {
                (DescriptorItem::Principal { kind, at }, Value::Str(text)) => {
                    self.read_principal(subject, *kind, text, *at, span)?
                }
                (DescriptorItem::Tuple, Value::List(members)) => {
                    match members.descriptor(self.data_set) {
                        Some(readings) => self.read_tuple(subject, members, readings, span)?,
                        None => self.tuple_value(subject, &ListView::Data(members), span)?,
                    }
                }
                _ => false,
            };
            if hit {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// `kind:value` text read at load: the kind, and the value from `at`.
    fn read_principal(
        &mut self,
        subject: &Val<'a>,
        kind: u32,
        text: &'a str,
        at: u32,
        span: Span,
    ) -> R<bool> {
        let value = text.get(at as usize..).unwrap_or_default();
        self.kind_test(subject, kind, &Val::Str(value), span)
    }

    /// An AND tuple of the data read at load, judged as `tuple_value`
    /// judges one: every member is tested, and a member of a kind that
    /// makes its tuple match anyone makes it match any caller.
    fn read_tuple(
        &mut self,
        subject: &Val<'a>,
        members: &'a crate::value::List,
        parsed: &'a [DescriptorItem],
        span: Span,
    ) -> R<bool> {
        if members.is_empty() {
            return Ok(false);
        }
        let mut all = true;
        let mut wide = false;
        for (member, reading) in members.items().iter().zip(parsed) {
            self.spend(span)?;
            all &= match (reading, member) {
                (DescriptorItem::Principal { kind, at }, Value::Str(text)) => {
                    wide |= self.is_tuple_wide(*kind);
                    self.read_principal(subject, *kind, text, *at, span)?
                }
                _ => false,
            };
        }
        Ok(if wide { !subject.is_null() } else { all })
    }

    /// An AND tuple holds principals (text or values) and nulls; anything
    /// else, a nested list included, is malformed (`PCL501`).
    fn check_tuple(&mut self, members: &ListView<'_, 'a>, span: Span) -> R<()> {
        let mut all = true;
        for m in members.iter() {
            self.spend(span)?;
            all &= matches!(m, Val::Null | Val::Principal(_)) || m.as_str().is_some();
        }
        if all {
            return Ok(());
        }
        Err(error(
            Code::MalformedDescriptor,
            span,
            "an AND tuple holds principals, found a nested list or another value".to_string(),
        ))
    }

    pub(super) fn tuple_value(
        &mut self,
        subject: &Val<'a>,
        members: &ListView<'_, 'a>,
        span: Span,
    ) -> R<bool> {
        if members.len() == 0 {
            return Ok(false);
        }
        let mut all = true;
        let mut wide = false;
        for m in members.iter() {
            self.spend(span)?;
            all &= self.tuple_member(subject, &m, &mut wide, span)?;
        }
        Ok(if wide { !subject.is_null() } else { all })
    }

    /// One member of an AND tuple: a principal (value or `kind:value` text)
    /// or null (matches nobody). Anything else, a nested list included, is a
    /// malformed descriptor. Notes whether the member is a kind that makes
    /// its whole tuple match any caller.
    pub(super) fn tuple_member(
        &mut self,
        subject: &Val<'a>,
        member: &Val<'a>,
        wide: &mut bool,
        span: Span,
    ) -> R<bool> {
        match member {
            Val::Null => Ok(false),
            Val::Principal(p) => {
                *wide |= self.is_tuple_wide(p.kind);
                self.kind_test(subject, p.kind, &p.value, span)
            }
            other => match other.as_str() {
                Some(text) => {
                    if let Some((kind, _)) = self.parse_principal(text) {
                        *wide |= self.is_tuple_wide(kind);
                    }
                    self.text_test(subject, text, span)
                }
                None => Err(error(
                    Code::MalformedDescriptor,
                    span,
                    format!("an AND tuple holds principals, found {}", other.type_name()),
                )),
            },
        }
    }

    /// Splits `kind:value` (or a bare kind that takes no value).
    pub(super) fn parse_principal<'t>(&self, text: &'t str) -> Option<(u32, &'t str)> {
        parse_principal(self.program, text)
    }

    pub(super) fn text_test(&mut self, subject: &Val<'a>, text: &str, span: Span) -> R<bool> {
        self.charge_bytes(text.len(), span)?;
        match self.parse_principal(text) {
            Some((kind, value)) => self.kind_test(subject, kind, &Val::Str(value), span),
            None => Ok(false),
        }
    }

    /// Whether the caller is `kind:value`. The caller's field is compared
    /// with the value as the kind declares (`ir::Compare`): exactly unless
    /// the policy asked for `as int` or `as uuid`.
    pub(super) fn kind_test(
        &mut self,
        subject: &Val<'a>,
        kind: u32,
        value: &Val<'_>,
        span: Span,
    ) -> R<bool> {
        let Some(k) = self.program.kinds.get(kind as usize) else {
            return Ok(false);
        };
        if subject.is_null() {
            return Ok(false);
        }
        let row;
        let subject = match self.program.kind_through.get(kind as usize) {
            Some(Some(through)) => {
                row = self.directory_row(subject, through, span)?;
                &row
            }
            _ => subject,
        };
        let read = |ev: &mut Self, path: &[ir::Name]| {
            ev.walk(subject, path)?.ok_or_else(|| {
                let mut dotted = String::new();
                for seg in path {
                    dotted.push('.');
                    dotted.push_str(seg);
                }
                error(
                    Code::AbsentField,
                    span,
                    format!("the caller has no field `{dotted}` to match a principal against"),
                )
            })
        };
        match k {
            Kind::Anyone { .. } => Ok(true),
            Kind::Equals(path, cmp) => {
                let field = read(self, path)?;
                let text = field.as_str().map_or(0, str::len) + value.as_str().map_or(0, str::len);
                self.charge_bytes(text, span)?;
                Ok(kind_eq(&field, value, *cmp))
            }
            Kind::Member(path, cmp) => {
                let list = read(self, path)?;
                if value.is_null() || list.as_list().is_none() {
                    return Ok(false);
                }
                self.charge_bytes(value.as_str().map_or(0, str::len), span)?;
                // The hash keys ids no finer than any `Compare` (digits by
                // number, UUIDs in any case); every hit is confirmed exactly.
                let cmp = *cmp;
                // Compared exactly, text is text: scanned in place, keyed as
                // written.
                let sem = match (cmp, value.as_str()) {
                    (ir::Compare::Exact, Some(_)) => Sem::Text,
                    _ => Sem::Id,
                };
                let hit = self.lookups.contains(
                    &list,
                    value,
                    sem,
                    |a, b| kind_eq(a, b, cmp),
                    &mut self.meter,
                );
                Self::paid(hit, span)
            }
        }
    }

    /// The caller's row of the directory a kind reads through
    /// (`data.users[.id]`): the record at `data.TABLE`, keyed by the
    /// caller's field at `key`. A caller without the key, or with a key the
    /// directory has no row for, is an error (`PCL504`): absent is not null.
    fn directory_row(
        &mut self,
        subject: &Val<'a>,
        through: &ir::KindThrough,
        span: Span,
    ) -> R<Val<'a>> {
        let dotted = |path: &[ir::Name]| {
            let mut s = String::new();
            for seg in path {
                s.push('.');
                s.push_str(seg);
            }
            s
        };
        let Some(key) = self.walk(subject, &through.key)? else {
            return Err(error(
                Code::AbsentField,
                span,
                format!(
                    "the caller has no field `{}` to find its row of `data{}`",
                    dotted(&through.key),
                    dotted(&through.table)
                ),
            ));
        };
        let data = Val::from(self.data);
        let table = self.walk(&data, &through.table)?;
        let Some(k) = key.as_str() else {
            return Err(type_error(
                span,
                format!(
                    "the caller's `{}` keys the directory `data{}`, so it must be a string, not {}",
                    dotted(&through.key),
                    dotted(&through.table),
                    key.type_name()
                ),
            ));
        };
        let row = match &table {
            Some(t) if t.is_record() => {
                self.charge_lookup(t, k, span)?;
                t.get_field(k)
            }
            Some(Val::Null) | None => None,
            Some(other) => {
                return Err(type_error(
                    span,
                    format!(
                        "the directory `data{}` must be a record keyed by id, not {}",
                        dotted(&through.table),
                        other.type_name()
                    ),
                ));
            }
        };
        row.ok_or_else(|| {
            error(
                Code::AbsentField,
                span,
                format!(
                    "the directory `data{}` has no row for the caller's `{}`",
                    dotted(&through.table),
                    dotted(&through.key)
                ),
            )
        })
    }

    /// Reads a path of fields of the caller, charged per field; `None`
    /// when a field is absent (or a value on the way has no fields).
    pub(super) fn walk(&mut self, subject: &Val<'a>, path: &[ir::Name]) -> R<Option<Val<'a>>> {
        // A caller read from the request: walked over the stored values,
        // building a `Val` only for the end of the path, charged and read
        // as `charge_lookup` and `Val::field` would (null reads as null).
        if let Val::Record(record) = subject {
            // `None`: still at the caller's record.
            let mut cur: Option<&'a Value> = None;
            for seg in path {
                let r = match cur {
                    None => Some(*record),
                    Some(Value::Record(r)) => Some(r),
                    Some(Value::Null) => None,
                    Some(_) => return Ok(None),
                };
                let scanned = r.map_or(0, |r| r.lookup_cost());
                self.charge(
                    scanned + seg.len() as u64 / cost::BYTES_PER_STEP,
                    Span::default(),
                )?;
                if let Some(r) = r {
                    match r.get(seg) {
                        Some(v) => cur = Some(v),
                        None => return Ok(None),
                    }
                }
            }
            return Ok(Some(cur.map_or_else(|| subject.clone(), Val::from)));
        }
        let mut cur = subject.clone();
        for seg in path {
            self.charge_lookup(&cur, seg, Span::default())?;
            cur = match cur.field(seg) {
                FieldRead::Present(v) => v,
                _ => return Ok(None),
            };
        }
        Ok(Some(cur))
    }

    // ------------------------------------------------------------ built-ins
}

/// Splits `kind:value` (or a bare kind that takes no value) by the kinds
/// `program` declares.
pub(crate) fn parse_principal<'t>(program: &Program, text: &'t str) -> Option<(u32, &'t str)> {
    // A byte scan: kind names are short, and `split_once`'s searcher costs
    // more than the search here.
    let colon = text.bytes().position(|b| b == b':');
    let kind = text.as_bytes().get(..colon.unwrap_or(text.len()))?;
    let id = program
        .kind_names
        .iter()
        .position(|k| k.len() == kind.len() && k.as_bytes() == kind)? as u32;
    let anyone = matches!(program.kinds.get(id as usize), Some(Kind::Anyone { .. }));
    match (anyone, colon) {
        (true, None) => Some((id, "")),
        // The value is everything after the colon, empty included: `role:`
        // names the role `""` (an `as int` kind never matches it).
        (false, Some(at)) => Some((id, text.get(at + 1..)?)),
        _ => None,
    }
}

/// Reads every list of loaded data that is a well-formed principal
/// descriptor (text, nulls, and flat nested lists as AND tuples) for policy
/// set `set`, so its decisions neither parse the texts nor check the
/// shape again. Lists that are not descriptors forget any earlier reading.
/// Linear in the data; a list gets a reading only if it names a principal.
pub(crate) fn read_descriptors(program: &Program, root: &mut Value, set: u64) {
    root.visit_lists(&mut |list| {
        let reading = descriptor_of(program, list.items(), set);
        list.set_descriptor(reading);
    });
}

fn descriptor_of(program: &Program, items: &[Value], set: u64) -> Option<Descriptor> {
    let mut readings = Vec::with_capacity(items.len());
    let mut names = false;
    for item in items {
        readings.push(match item {
            Value::Null => DescriptorItem::Nobody,
            Value::Str(text) => match parse_principal(program, text) {
                Some((kind, value)) => {
                    names = true;
                    let at = u32::try_from(text.len() - value.len()).ok()?;
                    DescriptorItem::Principal { kind, at }
                }
                None => DescriptorItem::Nobody,
            },
            Value::List(members)
                if members
                    .iter()
                    .all(|m| matches!(m, Value::Null | Value::Str(_))) =>
            {
                names = true;
                DescriptorItem::Tuple
            }
            _ => return None,
        });
    }
    names.then(|| Descriptor {
        set,
        items: readings.into(),
    })
}

/// Whether a caller's field equals a descriptor's value, as the kind
/// compares them. Null matches nothing.
/// - `Exact`: same type and equal (`val_eq`): the text `"07"` is not the
///   role `"7"`, and a UUID in upper case is not the same UUID in lower case.
/// - `Int` (`as int`): the caller's field is an integer and the value is that
///   integer, or text of ASCII digits spelling it (`user:007` is user 7).
/// - `Uuid` (`as uuid`): both are hyphenated UUIDs, equal ignoring case.
pub(crate) fn kind_eq(field: &Val, value: &Val, cmp: ir::Compare) -> bool {
    if field.is_null() || value.is_null() {
        return false;
    }
    match cmp {
        ir::Compare::Exact => val_eq(field, value),
        ir::Compare::Int => {
            let Val::Int(n) = field else { return false };
            match value {
                Val::Int(m) => n == m,
                Val::Float(f) => int_float_cmp(*n, *f) == Some(std::cmp::Ordering::Equal),
                other => match other.as_str() {
                    Some(text) if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) => {
                        let digits = text.trim_start_matches('0');
                        let digits = if digits.is_empty() { "0" } else { digits };
                        let mut buf = [0u8; 20];
                        itoa_into(*n, &mut buf).is_some_and(|t| t == digits)
                    }
                    _ => false,
                },
            }
        }
        ir::Compare::Uuid => match (field.as_str(), value.as_str()) {
            (Some(a), Some(b)) => is_uuid_text(a) && is_uuid_text(b) && a.eq_ignore_ascii_case(b),
            _ => false,
        },
    }
}
