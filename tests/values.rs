//! Arithmetic, decimals, IP addresses, time and the string and list
//! built-ins, decided: exact results, errors that deny (never an allow,
//! never a wrapped or rounded value), and compile-time type errors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Data, Limits, Outcome, PolicySet, Request};
use serde_json::json;

fn compile(condition: &str) -> Result<PolicySet, Vec<Code>> {
    let text = format!("actions: read\npolicy p for read {{\n  allow when {condition}\n}}\n");
    PolicySet::from_source(&text).map_err(|e| e.errors().map(|f| f.code).collect())
}

/// The decision on `condition` with this context: `Ok(allowed)`, or the
/// code of the error that denied.
fn decide(condition: &str, context: serde_json::Value) -> Result<bool, Code> {
    let set = compile(condition).unwrap_or_else(|codes| panic!("{condition}: {codes:?}"));
    let request = Request::from_json(&json!({"action": "read", "context": context})).unwrap();
    let d = set.decide(&request, &Data::empty());
    match d.error {
        Some(e) => {
            assert_eq!(d.outcome, Outcome::Deny, "{condition}: an error must deny");
            Err(e.code)
        }
        None => Ok(d.outcome == Outcome::Allow),
    }
}

#[test]
fn integer_arithmetic_is_exact_or_an_error() {
    let ctx = json!({"max": i64::MAX, "min": i64::MIN, "zero": 0, "seven": 7});
    for (cond, want) in [
        ("1 + 2 * 3 == 7", Ok(true)),
        ("(1 + 2) * 3 == 9", Ok(true)),
        ("10 - 4 - 3 == 3", Ok(true)),
        ("context.seven / 2 == 3", Ok(true)),
        ("-7 / 2 == -3", Ok(true)),
        ("-7 % 2 == -1", Ok(true)),
        ("context.seven % 4 == 3", Ok(true)),
        ("context.max + 1 > 0", Err(Code::ArithmeticError)),
        ("context.min - 1 < 0", Err(Code::ArithmeticError)),
        ("context.max * 2 > 0", Err(Code::ArithmeticError)),
        ("context.min / -1 > 0", Err(Code::ArithmeticError)),
        (
            "context.seven / context.zero == 0",
            Err(Code::ArithmeticError),
        ),
        (
            "context.seven % context.zero == 0",
            Err(Code::ArithmeticError),
        ),
        ("context.absent ?? 0 + 1 == 1", Ok(true)),
        ("context.seven + null == 7", Err(Code::EvalTypeError)),
        ("context.seven + \"1\" == 8", Err(Code::EvalTypeError)),
    ] {
        assert_eq!(decide(cond, ctx.clone()), want, "{cond}");
    }
}

#[test]
fn numbers_with_a_fraction_from_json_do_not_enter_arithmetic() {
    let ctx = json!({"x": 0.5, "big": 1e15});
    assert_eq!(
        decide("context.x + 1 > 0", ctx.clone()),
        Err(Code::EvalTypeError)
    );
    assert_eq!(
        decide("decimal(context.x) + 1 == 1.5", ctx.clone()),
        Ok(true)
    );
    assert_eq!(
        decide("decimal(context.big) > 0", ctx),
        Err(Code::InvalidValueText)
    );
}

#[test]
fn decimals_compare_exactly_with_json_numbers() {
    let ctx = json!({"a": 0.8, "b": 0.1, "c": 0.30000000000000004, "i": 3, "s": "2.5"});
    for (cond, want) in [
        ("context.a == 0.8", Ok(true)),
        ("context.a > 0.7999", Ok(true)),
        ("context.a < 0.8001", Ok(true)),
        ("context.b + 0.0 == 0.1", Err(Code::EvalTypeError)),
        ("decimal(context.b) + 0.2 == 0.3", Ok(true)),
        // The double nearest 0.1 + 0.2, written out by JSON, is not 0.3.
        ("context.c == 0.3", Ok(false)),
        ("context.c > 0.3", Ok(true)),
        ("context.i == 3.0", Ok(true)),
        ("context.i < 3.0001", Ok(true)),
        ("decimal(context.s) * 2 == 5", Ok(true)),
        ("0.5 * 0.5 == 0.25", Ok(true)),
        ("0.0001 * 0.5 == 0", Err(Code::ArithmeticError)),
        ("1.0 / 3 > 0", Err(Code::ArithmeticError)),
        ("1.0 / 4 == 0.25", Ok(true)),
        (
            "922337203685477.5807 + 0.0001 > 0",
            Err(Code::ArithmeticError),
        ),
        ("-0.5 < 0 and 0.5 > -1", Ok(true)),
        ("decimal(\"1.23456\") > 0", Err(Code::InvalidValueLiteral)),
    ] {
        if want == Err(Code::InvalidValueLiteral) {
            assert_eq!(
                compile(cond).err(),
                Some(vec![Code::InvalidValueLiteral]),
                "{cond}"
            );
            continue;
        }
        assert_eq!(decide(cond, ctx.clone()), want, "{cond}");
    }
    assert_eq!(
        compile("x == 0.00001").err(),
        Some(vec![Code::InvalidLiteral])
    );
}

#[test]
fn ip_addresses_and_ranges() {
    let ctx = json!({"v4": "192.168.1.20", "v6": "2001:db8::7", "bad": "192.168.1.300", "n": 5});
    for (cond, want) in [
        ("ip(context.v4) in ip(\"192.168.0.0/16\")", Ok(true)),
        ("ip(context.v4) in ip(\"192.168.2.0/24\")", Ok(false)),
        ("ip(context.v4) not in ip(\"10.0.0.0/8\")", Ok(true)),
        ("in_range(context.v4, \"192.168.1.20\")", Ok(true)),
        ("in_range(context.v6, \"2001:db8::/32\")", Ok(true)),
        ("in_range(context.v4, \"::/0\")", Ok(false)),
        ("ip(\"192.168.1.0/24\") in ip(\"192.168.0.0/16\")", Ok(true)),
        (
            "ip(\"192.168.0.0/16\") in ip(\"192.168.1.0/24\")",
            Ok(false),
        ),
        ("ip(context.v4) == ip(\"192.168.1.20\")", Ok(true)),
        ("is_ipv6(context.v6) and is_ipv4(context.v4)", Ok(true)),
        (
            "is_loopback(\"127.9.9.9\") and is_multicast(\"ff02::1\")",
            Ok(true),
        ),
        (
            "ip(context.bad) in ip(\"192.168.0.0/16\")",
            Err(Code::InvalidValueText),
        ),
        (
            "ip(context.n) in ip(\"192.168.0.0/16\")",
            Err(Code::EvalTypeError),
        ),
        (
            "context.v4 in ip(\"192.168.0.0/16\")",
            Err(Code::EvalTypeError),
        ),
    ] {
        assert_eq!(decide(cond, ctx.clone()), want, "{cond}");
    }
}

#[test]
fn timestamps_and_durations() {
    let ctx = json!({"now": "2024-05-01T12:00:00Z", "local": "2024-05-01T14:00:00+02:00",
                     "later": "2024-05-01T12:00:00.000000001Z", "bad": "2024-05-01"});
    for (cond, want) in [
        (
            "timestamp(context.now) == timestamp(context.local)",
            Ok(true),
        ),
        (
            "timestamp(context.now) < timestamp(context.later)",
            Ok(true),
        ),
        (
            "timestamp(context.later) - timestamp(context.now) == duration(\"1ns\")",
            Ok(true),
        ),
        (
            "timestamp(context.now) + duration(\"1d\") == timestamp(\"2024-05-02T12:00:00Z\")",
            Ok(true),
        ),
        (
            "timestamp(context.now) - duration(\"12h\") == timestamp(\"2024-05-01T00:00:00Z\")",
            Ok(true),
        ),
        ("duration(\"1h\") * 3 == duration(\"3h\")", Ok(true)),
        ("duration(\"90m\") == duration(\"1h30m\")", Ok(true)),
        ("duration(\"-1s\") < duration(\"0s\")", Ok(true)),
        (
            "timestamp(\"9999-12-31T23:00:00Z\") + duration(\"2h\") > timestamp(context.now)",
            Err(Code::ArithmeticError),
        ),
        (
            "timestamp(context.bad) < timestamp(context.now)",
            Err(Code::InvalidValueText),
        ),
        (
            "timestamp(context.absent ?? \"x\") < timestamp(context.now)",
            Err(Code::InvalidValueText),
        ),
    ] {
        assert_eq!(decide(cond, ctx.clone()), want, "{cond}");
    }
}

#[test]
fn strings_and_lists() {
    let ctx = json!({"path": "a/b//c", "tags": ["x", "y", "x"], "nums": [1, 2]});
    for (cond, want) in [
        (
            "split(context.path, \"/\") == [\"a\", \"b\", \"\", \"c\"]",
            Ok(true),
        ),
        (
            "join(split(context.path, \"/\"), \"-\") == \"a-b--c\"",
            Ok(true),
        ),
        ("\"x\" + \"y\" + \"\" == \"xy\"", Ok(true)),
        (
            "context.tags + [\"z\"] == [\"x\", \"y\", \"x\", \"z\"]",
            Ok(true),
        ),
        (
            "union(context.tags, [\"z\", \"y\"]) == [\"x\", \"y\", \"z\"]",
            Ok(true),
        ),
        (
            "intersection(context.tags, [\"x\", \"q\"]) == [\"x\"]",
            Ok(true),
        ),
        ("union(context.nums, [1.0, 2.5]) == [1, 2, 2.5]", Ok(true)),
        ("contains_all(context.tags, [\"x\", \"y\"])", Ok(true)),
        ("contains_all(context.tags, [\"x\", \"q\"])", Ok(false)),
        ("contains_any(context.tags, [\"q\", \"y\"])", Ok(true)),
        ("contains_any(context.tags, [])", Ok(false)),
        ("contains_all(context.tags, [])", Ok(true)),
        ("contains_any(null, [\"x\"])", Ok(false)),
        ("split(context.path, \"\") == []", Err(Code::EvalTypeError)),
        (
            "join(context.nums, \",\") == \"1,2\"",
            Err(Code::EvalTypeError),
        ),
        ("context.tags + \"z\" == []", Err(Code::EvalTypeError)),
    ] {
        assert_eq!(decide(cond, ctx.clone()), want, "{cond}");
    }
}

#[test]
fn work_proportional_to_the_input_is_charged() {
    let long = "a,".repeat(50_000);
    let set = compile("len(split(context.s, \",\")) > 0").unwrap();
    let request = Request::from_json(&json!({"action": "read", "context": {"s": long}})).unwrap();
    let d = set.decide(&request, &Data::empty());
    assert!(d.is_allowed());
    assert!(d.cost > 50_000, "a step per piece: {}", d.cost);
    let limits = Limits {
        max_eval_steps: 10_000,
        ..Limits::default()
    };
    let text =
        "actions: read\npolicy p for read {\n  allow when len(split(context.s, \",\")) > 0\n}\n";
    let tight =
        PolicySet::from_named_source("t.pcl", text, std::path::Path::new("."), limits).unwrap();
    let d = tight.decide(&request, &Data::empty());
    assert_eq!(d.error.map(|e| e.code), Some(Code::EvalLimit));
    let set = compile("len(join(context.l, \"--\")) > 0").unwrap();
    let items: Vec<String> = (0..20_000).map(|i| format!("item{i}")).collect();
    let request = Request::from_json(&json!({"action": "read", "context": {"l": items}})).unwrap();
    let d = set.decide(&request, &Data::empty());
    assert!(d.is_allowed() && d.cost > 20_000, "{}", d.cost);
}

#[test]
fn types_known_at_compile_time_are_checked() {
    for cond in [
        "ip(\"10.0.0.1\") < ip(\"10.0.0.2\")",
        "timestamp(\"2024-05-01T12:00:00Z\") + 1 > timestamp(\"2024-05-01T12:00:00Z\")",
        "\"a\" + 1 == \"a1\"",
        "0.5 == \"0.5\"",
        "duration(\"1h\") < timestamp(\"2024-05-01T12:00:00Z\")",
        "\"10.0.0.1\" in ip(\"10.0.0.0/8\")",
        "ip(1) == ip(\"::1\")",
        "split(1, \",\") == []",
        "contains_any(\"ab\", [\"a\"])",
        "[1] - [1] == []",
    ] {
        assert_eq!(
            compile(cond).err(),
            Some(vec![Code::TypeMismatch]),
            "{cond}"
        );
    }
}
