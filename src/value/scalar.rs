//! Scalars beyond JSON's: fixed-point decimals, IP addresses and ranges,
//! timestamps and durations. Each is parsed from text by hand (strictly:
//! one spelling is accepted for each value, nothing is guessed), compared
//! exactly, and shown in one canonical form.
//!
//! Invariant: a scalar is `Copy` and small (no allocation), and 4-byte
//! aligned: `Val` stays 24 bytes with a tag of its own. (With an 8-byte
//! aligned scalar of 24 bytes, `Val` borrowed spare values of the scalar's
//! tag for its own variants, and every match on a `Val`, the drop of each
//! one included, paid to decode them.)

use std::cmp::Ordering;
use std::fmt;

/// Fractional digits a decimal holds.
pub(crate) const DECIMAL_DIGITS: u32 = 4;
/// One, as a decimal's raw value.
pub(crate) const DECIMAL_ONE: i64 = 10_000;

/// A value of one of the types JSON has no notation for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scalar {
    /// A fixed-point decimal: the value times 10^4.
    Decimal(I64),
    /// An IPv4 or IPv6 address, or a range of them.
    Ip(Ip),
    /// An instant.
    Time(Time),
    /// A signed length of time, in nanoseconds.
    Duration(I64),
}

/// An `i64` stored 4-byte aligned, which keeps `Scalar` so (see the
/// module's invariant). Read with `get`.
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct I64(i64);

impl I64 {
    #[inline]
    pub fn get(self) -> i64 {
        self.0
    }
}

impl PartialEq for I64 {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for I64 {}

impl fmt::Debug for I64 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.get(), f)
    }
}

impl Scalar {
    /// The decimal whose raw value (times 10^4) is `raw`.
    #[inline]
    pub fn decimal(raw: i64) -> Scalar {
        Scalar::Decimal(I64(raw))
    }

    /// The duration of `nanos` nanoseconds.
    #[inline]
    pub fn duration(nanos: i64) -> Scalar {
        Scalar::Duration(I64(nanos))
    }
}

// The layout the invariant asks for, checked when the crate compiles.
const _: () = assert!(std::mem::align_of::<Scalar>() <= 4);

/// An address with a prefix length: a single address has the full length
/// (32 or 128), a range (`10.0.0.0/8`) fewer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ip {
    /// Big-endian; an IPv4 address in the last four bytes.
    pub addr: [u8; 16],
    pub prefix: u8,
    pub v6: bool,
}

/// An instant: seconds since 1970-01-01T00:00:00Z and nanoseconds past them.
/// Packed to 4-byte alignment (see the module's invariant): fields are read
/// by value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(C, packed(4))]
pub(crate) struct Time {
    pub secs: i64,
    pub nanos: u32,
}

const NANOS: i128 = 1_000_000_000;

impl Time {
    /// Nanoseconds since the epoch.
    pub fn total_nanos(self) -> i128 {
        i128::from(self.secs) * NANOS + i128::from(self.nanos)
    }

    /// The instant this many nanoseconds after the epoch, if it lies in
    /// the years 0000 to 9999 that RFC 3339 can write.
    pub fn from_nanos(n: i128) -> Option<Time> {
        let secs = i64::try_from(n.div_euclid(NANOS)).ok()?;
        let nanos = u32::try_from(n.rem_euclid(NANOS)).ok()?;
        (MIN_SECS..=MAX_SECS)
            .contains(&secs)
            .then_some(Time { secs, nanos })
    }
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const MIN_SECS: i64 = -62_167_219_200;
const MAX_SECS: i64 = 253_402_300_799;

impl Scalar {
    /// The type's name in messages.
    pub fn type_name(self) -> &'static str {
        match self {
            Scalar::Decimal(_) => "a decimal",
            Scalar::Ip(_) => "an IP address",
            Scalar::Time(_) => "a timestamp",
            Scalar::Duration(_) => "a duration",
        }
    }

    /// The name `type_of` gives.
    pub fn type_word(self) -> &'static str {
        match self {
            Scalar::Decimal(_) => "decimal",
            Scalar::Ip(_) => "ip",
            Scalar::Time(_) => "timestamp",
            Scalar::Duration(_) => "duration",
        }
    }
}

impl Scalar {
    /// How a policy writes this value: `0.75`, `ip("10.0.0.0/8")`.
    pub fn policy_text(self) -> String {
        match self {
            Scalar::Decimal(_) => self.to_string(),
            _ => format!("{}(\"{self}\")", self.type_word()),
        }
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Scalar::Decimal(d) => fmt_decimal(d.get(), f),
            Scalar::Ip(ip) => fmt_ip(ip, f),
            Scalar::Time(t) => fmt_time(t, f),
            Scalar::Duration(d) => fmt_duration(d.get(), f),
        }
    }
}

/// Ordering of two scalars of one type; IP addresses are not ordered.
pub(crate) fn scalar_cmp(a: Scalar, b: Scalar) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Decimal(x), Scalar::Decimal(y)) => Some(x.get().cmp(&y.get())),
        (Scalar::Time(x), Scalar::Time(y)) => Some(x.cmp(&y)),
        (Scalar::Duration(x), Scalar::Duration(y)) => Some(x.get().cmp(&y.get())),
        _ => None,
    }
}

/// Exact ordering of a decimal and an integer.
pub(crate) fn decimal_int_cmp(d: i64, i: i64) -> Ordering {
    i128::from(d).cmp(&(i128::from(i) * i128::from(DECIMAL_ONE)))
}

/// Ordering of a decimal (raw value `d`, so `d / 10^4`) and a number
/// read from JSON, exact against the number as JSON writes it: the
/// shortest decimal text that reads back as the same double (`0.8` is
/// 0.8, though the double nearest it is not). `None` for NaN.
pub(crate) fn decimal_float_cmp(d: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let (m, e) = shortest_decimal(f)?;
    // d / 10^4 against m * 10^e: d against m * 10^(e + 4).
    let k = e + DECIMAL_DIGITS as i32;
    let lhs = i128::from(d);
    let by_sign = |x: i128| x.cmp(&0);
    if m == 0 {
        return Some(by_sign(lhs));
    }
    if k >= 0 {
        return Some(
            match 10i128.checked_pow(k as u32).and_then(|p| p.checked_mul(m)) {
                Some(rhs) => lhs.cmp(&rhs),
                // |m * 10^k| is past any i64: the sign of m decides.
                None => by_sign(m).reverse(),
            },
        );
    }
    Some(
        match 10i128
            .checked_pow(k.unsigned_abs())
            .and_then(|p| p.checked_mul(lhs))
        {
            Some(scaled) => scaled.cmp(&m),
            // |d * 10^-k| is past |m| (under 10^17) unless d is 0.
            None if lhs == 0 => by_sign(m).reverse(),
            None => by_sign(lhs),
        },
    )
}

/// A finite double's shortest round-trip decimal: `(m, e)` with the value
/// `m * 10^e`, `m` of at most 17 digits.
fn shortest_decimal(f: f64) -> Option<(i128, i32)> {
    let mut buf = StackText::default();
    fmt::Write::write_fmt(&mut buf, format_args!("{f:e}")).ok()?;
    let text = buf.as_str();
    let (mantissa, exp) = text.split_once('e')?;
    let mut e: i32 = exp.parse().ok()?;
    let (neg, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa),
    };
    let mut m: i128 = 0;
    let mut seen_point = false;
    for b in digits.bytes() {
        match b {
            b'.' => seen_point = true,
            b'0'..=b'9' => {
                m = m * 10 + i128::from(b - b'0');
                if seen_point {
                    e -= 1;
                }
            }
            _ => return None,
        }
    }
    Some((if neg { -m } else { m }, e))
}

/// Text of a double, formatted without allocating.
struct StackText {
    bytes: [u8; 40],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            bytes: [0; 40],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The double nearest a decimal: the number JSON text of the decimal
/// would read as, so a decimal and a JSON number equal to it hash alike.
pub(crate) fn decimal_to_float(d: i64) -> f64 {
    let mut buf = StackText::default();
    let _ = fmt::Write::write_fmt(&mut buf, format_args!("{}", Scalar::decimal(d)));
    buf.as_str().parse().unwrap_or(0.0)
}

// ---------------------------------------------------------------- decimals

/// `12.5`, `-0.0625`, `3`: an optional sign, digits, and at most four
/// fractional digits after a point.
pub(crate) fn parse_decimal(s: &str) -> Result<i64, &'static str> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (whole, frac) = match body.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (body, None),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a decimal is digits with an optional fraction, such as `12.5`");
    }
    let mut raw: i128 = 0;
    for b in whole.bytes() {
        raw = raw * 10 + i128::from(b - b'0');
        if raw > i128::from(i64::MAX) {
            return Err("the decimal is out of range (at most 922337203685477.5807)");
        }
    }
    let mut scale = i128::from(DECIMAL_ONE);
    let mut fraction: i128 = 0;
    if let Some(f) = frac {
        if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
            return Err("the fraction after the point must be digits");
        }
        if f.len() > DECIMAL_DIGITS as usize {
            return Err("a decimal holds at most 4 fractional digits");
        }
        for b in f.bytes() {
            scale /= 10;
            fraction += i128::from(b - b'0') * scale;
        }
    }
    let total = raw * i128::from(DECIMAL_ONE) + fraction;
    let total = if neg { -total } else { total };
    i64::try_from(total).map_err(|_| "the decimal is out of range (at most 922337203685477.5807)")
}

/// A number read from JSON as a decimal, when its shortest text has at
/// most four fractional digits and is within range.
pub(crate) fn decimal_of_float(f: f64) -> Option<i64> {
    if !f.is_finite() {
        return None;
    }
    let (m, e) = shortest_decimal(f)?;
    let k = e + DECIMAL_DIGITS as i32;
    if k < 0 {
        return None;
    }
    let raw = 10i128.checked_pow(k as u32)?.checked_mul(m)?;
    i64::try_from(raw).ok()
}

fn fmt_decimal(d: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let sign = if d < 0 { "-" } else { "" };
    let abs = d.unsigned_abs();
    let one = DECIMAL_ONE as u64;
    let (whole, frac) = (abs / one, abs % one);
    let mut digits = format!("{frac:04}");
    while digits.len() > 1 && digits.ends_with('0') {
        digits.pop();
    }
    write!(f, "{sign}{whole}.{digits}")
}

// ---------------------------------------------------------------- IP

/// `192.168.0.1`, `10.0.0.0/8`, `::1`, `2001:db8::/32`. IPv4 parts are
/// decimal without leading zeros; IPv6 may end in an IPv4 address
/// (`::ffff:10.0.0.1`); zone ids are refused.
pub(crate) fn parse_ip(s: &str) -> Result<Ip, &'static str> {
    let (addr_text, prefix_text) = match s.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (s, None),
    };
    let (addr, v6) = if addr_text.contains(':') {
        (parse_v6(addr_text)?, true)
    } else {
        let v4 = parse_v4(addr_text)?;
        let mut addr = [0u8; 16];
        if let Some(tail) = addr.get_mut(12..) {
            tail.copy_from_slice(&v4);
        }
        (addr, false)
    };
    let max = if v6 { 128 } else { 32 };
    let prefix = match prefix_text {
        None => max,
        Some(p) => {
            let valid = !p.is_empty()
                && p.len() <= 3
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            match p.parse::<u8>() {
                Ok(n) if valid && n <= max => n,
                _ => {
                    return Err(
                        "the prefix length after `/` must be 0 to 32 (IPv4) or 0 to 128 (IPv6)",
                    )
                }
            }
        }
    };
    Ok(Ip { addr, prefix, v6 })
}

fn parse_v4(s: &str) -> Result<[u8; 4], &'static str> {
    const BAD: &str = "an IPv4 address is four numbers 0-255 separated by dots, such as `10.0.0.1`";
    let mut out = [0u8; 4];
    let mut parts = s.split('.');
    for slot in &mut out {
        let part = parts.next().ok_or(BAD)?;
        let valid = !part.is_empty()
            && part.len() <= 3
            && part.bytes().all(|b| b.is_ascii_digit())
            && (part == "0" || !part.starts_with('0'));
        *slot = match part.parse::<u8>() {
            Ok(n) if valid => n,
            _ => return Err(BAD),
        };
    }
    if parts.next().is_some() {
        return Err(BAD);
    }
    Ok(out)
}

fn parse_v6(s: &str) -> Result<[u8; 16], &'static str> {
    const BAD: &str = "an IPv6 address is up to eight groups of hex digits separated by colons, one `::` at most, such as `2001:db8::1`";
    let groups_of = |text: &str| -> Result<Vec<u16>, &'static str> {
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        let parts: Vec<&str> = text.split(':').collect();
        let last = parts.len().saturating_sub(1);
        for (i, part) in parts.iter().enumerate() {
            if i == last && part.contains('.') {
                let [a, b, c, d] = parse_v4(part)?;
                out.push(u16::from_be_bytes([a, b]));
                out.push(u16::from_be_bytes([c, d]));
                continue;
            }
            if part.is_empty() || part.len() > 4 || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(BAD);
            }
            out.push(u16::from_str_radix(part, 16).map_err(|_| BAD)?);
        }
        Ok(out)
    };
    let groups: Vec<u16> = match s.split_once("::") {
        Some((head, tail)) => {
            if tail.contains("::") {
                return Err(BAD);
            }
            let (h, t) = (groups_of(head)?, groups_of(tail)?);
            if h.len() + t.len() > 7 {
                return Err(BAD);
            }
            let mut all = h;
            all.resize(8 - t.len(), 0);
            all.extend(t);
            all
        }
        None => groups_of(s)?,
    };
    if groups.len() != 8 {
        return Err(BAD);
    }
    let mut out = [0u8; 16];
    for (chunk, g) in out.chunks_exact_mut(2).zip(groups) {
        chunk.copy_from_slice(&g.to_be_bytes());
    }
    Ok(out)
}

impl Ip {
    fn bits(self) -> u128 {
        u128::from_be_bytes(self.addr)
    }

    fn width(self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    /// The bits of the network part under `prefix`.
    fn network(self, prefix: u8) -> u128 {
        let host = self.width() - u32::from(prefix);
        let mask = if host >= 128 { 0 } else { !0u128 << host };
        self.bits() & mask
    }

    /// Whether every address of `self` lies in `range` (same family).
    pub fn in_range(self, range: Ip) -> bool {
        self.v6 == range.v6
            && range.prefix <= self.prefix
            && self.network(range.prefix) == range.network(range.prefix)
    }

    /// Whether this is a single address rather than a range.
    pub fn is_single(self) -> bool {
        u32::from(self.prefix) == self.width()
    }

    /// 127.0.0.0/8 or ::1.
    pub fn is_loopback(self) -> bool {
        if self.v6 {
            self.bits() == 1 && self.is_single()
        } else {
            self.prefix >= 8 && self.addr.get(12) == Some(&127)
        }
    }

    /// 224.0.0.0/4 or ff00::/8.
    pub fn is_multicast(self) -> bool {
        if self.v6 {
            self.prefix >= 8 && self.addr.first() == Some(&0xff)
        } else {
            self.prefix >= 4 && self.addr.get(12).is_some_and(|b| b & 0xf0 == 0xe0)
        }
    }
}

fn fmt_ip(ip: Ip, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if ip.v6 {
        let groups: Vec<u16> = ip
            .addr
            .chunks_exact(2)
            .map(|c| {
                u16::from_be_bytes([
                    c.first().copied().unwrap_or(0),
                    c.get(1).copied().unwrap_or(0),
                ])
            })
            .collect();
        // The longest run of two or more zero groups becomes `::`.
        let (mut best, mut best_len, mut run_start, mut run) = (0, 0, 0, 0);
        for (i, g) in groups.iter().enumerate() {
            if *g == 0 {
                if run == 0 {
                    run_start = i;
                }
                run += 1;
                if run > best_len {
                    best = run_start;
                    best_len = run;
                }
            } else {
                run = 0;
            }
        }
        let text = |gs: &[u16]| {
            gs.iter()
                .map(|g| format!("{g:x}"))
                .collect::<Vec<_>>()
                .join(":")
        };
        if best_len >= 2 {
            let head = groups.get(..best).map(text).unwrap_or_default();
            let tail = groups.get(best + best_len..).map(text).unwrap_or_default();
            write!(f, "{head}::{tail}")?;
        } else {
            f.write_str(&text(&groups))?;
        }
    } else {
        let b = |i: usize| ip.addr.get(i).copied().unwrap_or(0);
        write!(f, "{}.{}.{}.{}", b(12), b(13), b(14), b(15))?;
    }
    if !ip.is_single() {
        write!(f, "/{}", ip.prefix)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- time

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// RFC 3339: `2024-05-01T12:30:00Z`, `2024-05-01T14:30:00.25+02:00`.
/// `T` and `Z` may be lower case; a leap second (`:60`) is refused, as
/// is a fraction of more than nine digits.
pub(crate) fn parse_time(s: &str) -> Result<Time, &'static str> {
    const BAD: &str =
        "a timestamp is RFC 3339, such as `2024-05-01T12:30:00Z` or `2024-05-01T14:30:00+02:00`";
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Result<u32, &'static str> {
        let part = b.get(from..from + len).ok_or(BAD)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return Err(BAD);
        }
        Ok(part.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let at = |i: usize| b.get(i).copied();
    if at(4) != Some(b'-') || at(7) != Some(b'-') || !matches!(at(10), Some(b'T' | b't')) {
        return Err(BAD);
    }
    if at(13) != Some(b':') || at(16) != Some(b':') {
        return Err(BAD);
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(i64::from(y), mo) {
        return Err("the timestamp names a day that does not exist");
    }
    if h > 23 || mi > 59 || sec > 59 {
        return Err("the timestamp's time of day is out of range (leap seconds are not accepted)");
    }
    let mut i = 19;
    let mut nanos = 0u32;
    if at(i) == Some(b'.') {
        let start = i + 1;
        i = start;
        while at(i).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
        }
        let digits = i - start;
        if digits == 0 || digits > 9 {
            return Err("a timestamp's fraction of a second is 1 to 9 digits");
        }
        nanos = num(start, digits)? * 10u32.pow(9 - digits as u32);
    }
    let offset: i64 = match at(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if i + 6 == b.len() && at(i + 3) == Some(b':') => {
            let (oh, om) = (num(i + 1, 2)?, num(i + 4, 2)?);
            if oh > 23 || om > 59 {
                return Err("the timestamp's offset is out of range");
            }
            let o = i64::from(oh * 3600 + om * 60);
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return Err(BAD),
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + sec) - offset;
    Time::from_nanos(i128::from(secs) * NANOS + i128::from(nanos))
        .ok_or("the timestamp falls outside the years 0000 to 9999")
}

fn fmt_time(t: Time, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let days = t.secs.div_euclid(86_400);
    let rem = t.secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    write!(
        f,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )?;
    if t.nanos > 0 {
        let mut frac = format!("{:09}", t.nanos);
        while frac.ends_with('0') {
            frac.pop();
        }
        write!(f, ".{frac}")?;
    }
    f.write_str("Z")
}

// ---------------------------------------------------------------- durations

const UNITS: &[(&str, i64)] = &[
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
    ("us", 1_000),
    ("ns", 1),
];

/// `1h30m`, `-2d`, `90s`, `250ms`: an optional sign, then amounts each
/// followed by a unit (`d`, `h`, `m`, `s`, `ms`, `us`, `ns`), largest
/// first, each unit at most once.
pub(crate) fn parse_duration(s: &str) -> Result<i64, &'static str> {
    const BAD: &str = "a duration is amounts with units, largest first, such as `1h30m`, `90s` or `-2d` (units d, h, m, s, ms, us, ns)";
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    if rest.is_empty() {
        return Err(BAD);
    }
    let mut total: i128 = 0;
    let mut next_unit = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 19 {
            return Err(BAD);
        }
        let (amount, tail) = rest.split_at(digits);
        let amount: i128 = amount.parse().map_err(|_| BAD)?;
        let letters = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(letters);
        let pos = UNITS.iter().position(|(u, _)| *u == unit).ok_or(BAD)?;
        if pos < next_unit {
            return Err(BAD);
        }
        next_unit = pos + 1;
        let scale = UNITS.get(pos).map_or(1, |(_, n)| *n);
        total += amount * i128::from(scale);
        if total > i128::from(i64::MAX) {
            return Err("the duration is out of range (about 292 years)");
        }
        rest = tail;
    }
    let total = if neg { -total } else { total };
    i64::try_from(total).map_err(|_| "the duration is out of range (about 292 years)")
}

fn fmt_duration(n: i64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if n == 0 {
        return f.write_str("0s");
    }
    if n < 0 {
        f.write_str("-")?;
    }
    let mut left = n.unsigned_abs();
    for (unit, size) in UNITS {
        let size = *size as u64;
        if left >= size {
            write!(f, "{}{unit}", left / size)?;
            left %= size;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(s: Scalar) -> String {
        s.to_string()
    }

    #[test]
    fn decimals_parse_exactly_and_refuse_what_would_round() {
        assert_eq!(parse_decimal("12.5"), Ok(125_000));
        assert_eq!(parse_decimal("-0.0625"), Ok(-625));
        assert_eq!(parse_decimal("3"), Ok(30_000));
        assert!(parse_decimal("0.00001").is_err());
        assert!(parse_decimal("1.").is_err());
        assert!(parse_decimal(".5").is_err());
        assert!(parse_decimal("1e3").is_err());
        assert!(parse_decimal("922337203685477.5808").is_err());
        assert_eq!(parse_decimal("922337203685477.5807"), Ok(i64::MAX));
        assert_eq!(show(Scalar::decimal(125_000)), "12.5");
        assert_eq!(show(Scalar::decimal(-625)), "-0.0625");
        assert_eq!(show(Scalar::decimal(30_000)), "3.0");
    }

    #[test]
    fn decimals_compare_with_doubles_exactly() {
        assert_eq!(decimal_float_cmp(7_500, 0.75), Some(Ordering::Equal));
        // 0.1 as JSON writes it, not the double a little more than it.
        assert_eq!(decimal_float_cmp(1_000, 0.1), Some(Ordering::Equal));
        assert_eq!(decimal_float_cmp(1_000, 0.100_000_1), Some(Ordering::Less));
        assert_eq!(decimal_float_cmp(-1_000, -0.1), Some(Ordering::Equal));
        assert_eq!(decimal_float_cmp(-1_000, -0.099_999), Some(Ordering::Less));
        assert_eq!(
            decimal_float_cmp(1_234_567, 123.456_7),
            Some(Ordering::Equal)
        );
        assert_eq!(
            decimal_float_cmp(1_234_567, 123.456_71),
            Some(Ordering::Less)
        );
        assert_eq!(decimal_float_cmp(0, -1e-300), Some(Ordering::Greater));
        assert_eq!(decimal_float_cmp(0, 1e-300), Some(Ordering::Less));
        assert_eq!(decimal_float_cmp(1, 1e-300), Some(Ordering::Greater));
        assert_eq!(decimal_float_cmp(i64::MAX, 1e30), Some(Ordering::Less));
        assert_eq!(decimal_float_cmp(0, f64::NAN), None);
        assert_eq!(decimal_of_float(0.75), Some(7_500));
        assert_eq!(decimal_of_float(0.1), Some(1_000));
        assert_eq!(decimal_of_float(0.8), Some(8_000));
        assert_eq!(decimal_of_float(0.000_01), None);
        assert_eq!(decimal_of_float(1e300), None);
        assert_eq!(decimal_to_float(8_000), 0.8);
        assert_eq!(decimal_to_float(-625), -0.0625);
        assert_eq!(decimal_int_cmp(10_000, 1), Ordering::Equal);
    }

    #[test]
    fn ip_addresses_and_ranges() {
        let r = parse_ip("10.0.0.0/8").unwrap();
        let a = parse_ip("10.1.2.3").unwrap();
        assert!(a.in_range(r));
        assert!(!parse_ip("11.0.0.1").unwrap().in_range(r));
        assert!(r.in_range(parse_ip("0.0.0.0/0").unwrap()));
        assert!(!r.in_range(a), "a range is not inside one of its addresses");
        for bad in [
            "10.0.0",
            "10.0.0.256",
            "010.0.0.1",
            "10.0.0.1/33",
            "10.0.0.1/08",
            "1::2::3",
            "fe80::1%eth0",
            "",
            "::g",
        ] {
            assert!(parse_ip(bad).is_err(), "{bad}");
        }
        let v6 = parse_ip("2001:db8::/32").unwrap();
        assert!(parse_ip("2001:db8:0:0:1::1").unwrap().in_range(v6));
        assert!(!parse_ip("2001:db9::1").unwrap().in_range(v6));
        assert!(!a.in_range(parse_ip("::/0").unwrap()), "families never mix");
        assert_eq!(
            show(Scalar::Ip(parse_ip("2001:0db8:0:0:0:0:0:1").unwrap())),
            "2001:db8::1"
        );
        assert_eq!(
            show(Scalar::Ip(parse_ip("::ffff:10.0.0.1").unwrap())),
            "::ffff:a00:1"
        );
        assert_eq!(show(Scalar::Ip(r)), "10.0.0.0/8");
        assert!(parse_ip("127.0.0.1").unwrap().is_loopback());
        assert!(parse_ip("::1").unwrap().is_loopback());
        assert!(!parse_ip("::2").unwrap().is_loopback());
        assert!(parse_ip("224.0.0.1").unwrap().is_multicast());
        assert!(parse_ip("ff02::1").unwrap().is_multicast());
        assert!(!parse_ip("10.0.0.1").unwrap().is_multicast());
    }

    #[test]
    fn timestamps_are_rfc3339() {
        let t = parse_time("2024-05-01T12:30:00Z").unwrap();
        assert_eq!({ t.secs }, 1_714_566_600);
        assert_eq!(parse_time("2024-05-01T14:30:00+02:00"), Ok(t));
        assert_eq!(parse_time("2024-05-01t12:30:00z"), Ok(t));
        let frac = parse_time("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!((frac.secs, frac.nanos), (-1, 500_000_000));
        assert_eq!(show(Scalar::Time(frac)), "1969-12-31T23:59:59.5Z");
        assert_eq!(show(Scalar::Time(t)), "2024-05-01T12:30:00Z");
        assert!(parse_time("2024-02-29T00:00:00Z").is_ok());
        for bad in [
            "2023-02-29T00:00:00Z",
            "2024-05-01T12:30:60Z",
            "2024-05-01 12:30:00Z",
            "2024-05-01T12:30:00",
            "2024-05-01T12:30:00.Z",
            "2024-05-01T12:30:00+0200",
            "0000-01-01T00:00:00+00:01",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert!(parse_time("9999-12-31T23:59:59.999999999Z").is_ok());
        for days in [-719_468i64, -1, 0, 59, 10_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration("-2d"), Ok(-172_800_000_000_000));
        assert_eq!(parse_duration("250ms"), Ok(250_000_000));
        for bad in ["", "-", "1", "30m1h", "1h1h", "1x", "1.5h", "h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert!(parse_duration("300000d").is_err());
        assert_eq!(show(Scalar::duration(5_400_000_000_000)), "1h30m");
        assert_eq!(show(Scalar::duration(-250_000_000)), "-250ms");
        assert_eq!(show(Scalar::duration(0)), "0s");
    }
}
