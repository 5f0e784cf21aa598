"""The Python API: decisions and their fields, compiling, requests and data
that do not fit (always a deny naming the field, never an exception), and
one policy shared by many threads."""

from __future__ import annotations

import json
import math
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

import portcullis

from conftest import POLICIES, REPO

DOCS = """
actions: read, update
principals {
  user == .id
  role in .roles
}
policy documents for read, update in order {
  anonymous: unauthenticated "log in first" when principal == null
  admin:     allow when principal matches role:admin
  owner:     allow when principal matches user:{resource.owner_id} with { filters: { owner_id: principal.id } }
  deny "only the owner may {action} this document"
}
"""

RBAC_DATA = {
    "accounts": [{"id": 1, "name": "valid_account"}, {"id": 2, "name": "devel"}],
    "operator_group": {"devel": ["admin"]},
}


def rbac_request(**headers: str) -> dict[str, Any]:
    return {
        "principal": None,
        "action": "products.list",
        "resource": None,
        "context": {"headers": {k.replace("_", "-"): v for k, v in headers.items()}},
    }


@pytest.fixture(scope="module")
def docs() -> portcullis.Policy:
    return portcullis.Policy.from_source(DOCS, name="docs.pcl")


@pytest.fixture(scope="module")
def rbac() -> portcullis.Policy:
    return portcullis.Policy.from_file(POLICIES / "flask-rbac.pcl")


# ------------------------------------------------------------------ decisions


def test_an_allow_carries_statements_filters_and_status(docs: portcullis.Policy) -> None:
    d = docs.decide({"principal": {"id": 14, "roles": []}, "action": "update", "resource": {"owner_id": 14}})
    assert d.decision == "allow" and d.allowed and d.status == 200
    assert d.reason == ""
    [s] = d.statements
    assert (s.id, s.file, s.line) == ("documents.owner", "docs.pcl", 10)
    assert d.filters == {"owner_id": 14}
    assert d.principal is None and d.claims is None and d.error is None
    assert "allow" in repr(d) and "documents.owner" in repr(d)
    assert d.to_dict() == {
        "decision": "allow",
        "reason": "",
        "statements": [{"id": "documents.owner", "file": "docs.pcl", "line": 10}],
        "filters": {"owner_id": 14},
    }


def test_deny_and_unauthenticated_map_to_403_and_401(docs: portcullis.Policy) -> None:
    d = docs.decide({"principal": {"id": 15, "roles": []}, "action": "update", "resource": {"owner_id": 14}})
    assert (d.decision, d.allowed, d.status) == ("deny", False, 403)
    assert d.reason == "only the owner may update this document"
    assert d.filters is None
    d = docs.decide({"principal": None, "action": "read", "resource": {"owner_id": 14}})
    assert (d.decision, d.allowed, d.status, d.reason) == ("unauthenticated", False, 401, "log in first")
    assert [s.id for s in d.statements] == ["documents.anonymous"]


def test_a_decision_is_not_a_truth_value(docs: portcullis.Policy) -> None:
    d = docs.decide({"principal": None, "action": "read"})
    with pytest.raises(TypeError, match="decision.allowed"):
        bool(d)


def test_the_resolved_principal_is_a_dict(rbac: portcullis.Policy) -> None:
    d = rbac.decide(rbac_request(x_auth_account="valid_account", x_auth_role="member", x_auth_user="owner"), RBAC_DATA)
    assert d.allowed
    assert d.filters == {"account_id": 1, "owner": "owner"}
    assert d.principal == {"account_id": 1, "account_name": "valid_account", "role": "member", "owner": "owner"}


def test_policy_attributes(docs: portcullis.Policy, rbac: portcullis.Policy) -> None:
    assert docs.actions == ["read", "update"]
    assert docs.name == "docs.pcl"
    assert docs.warnings == []
    assert rbac.name.endswith("flask-rbac.pcl")
    assert "docs.pcl" in repr(docs)


def test_decide_many_agrees_with_decide(docs: portcullis.Policy) -> None:
    requests = [
        {"principal": {"id": i % 3, "roles": ["admin"] if i % 5 == 0 else []}, "action": "read", "resource": {"owner_id": 1}}
        for i in range(50)
    ] + [{"action": 3}]

    def generated() -> Iterator[Mapping[str, object]]:
        yield from requests

    many = docs.decide_many(generated())
    assert [d.to_dict() for d in many] == [docs.decide(r).to_dict() for r in requests]
    assert {d.decision for d in many} == {"allow", "deny"}


@pytest.mark.parametrize("n", [0, 1, 63, 64, 65, 129, 1000])
def test_decide_many_keeps_every_decision_in_order(docs: portcullis.Policy, n: int) -> None:
    # Each request differs, so a decision paired with the wrong request shows.
    requests: list[Mapping[str, object]] = [
        {"principal": {"id": i, "roles": ["admin"] if i % 7 == 0 else []}, "action": "read",
         "resource": {"owner_id": i if i % 3 == 0 else -1}}
        if i % 11 else {"action": "read", "principal": {"id": "not an int"}}
        for i in range(n)
    ]
    many = docs.decide_many(iter(requests))
    assert len(many) == n
    assert [d.to_dict() for d in many] == [docs.decide(r).to_dict() for r in requests]


def test_decide_many_raises_what_the_iterable_raises(docs: portcullis.Policy) -> None:
    def broken() -> Iterator[Mapping[str, object]]:
        for i in range(300):
            yield {"principal": {"id": i, "roles": []}, "action": "read", "resource": {"owner_id": i}}
        raise KeyError("from the iterable")

    with pytest.raises(KeyError, match="from the iterable"):
        docs.decide_many(broken())
    # The policy still decides afterwards.
    assert docs.decide_many([{"principal": {"id": 1, "roles": []}, "action": "read", "resource": {"owner_id": 1}}])[0].allowed


# ------------------------------------------------------------------ compiling


def test_a_bad_policy_raises_with_every_diagnostic() -> None:
    source = "actions: read\npolicy p for read {\n  allow when is_admn\n  deny when frob(1)\n}\n"
    with pytest.raises(portcullis.PolicyError) as caught:
        portcullis.Policy.from_source(source, name="bad.pcl")
    e = caught.value
    codes = [d.code for d in e.diagnostics]
    assert "PCL200" in codes and "PCL202" in codes, codes
    unknown = next(d for d in e.diagnostics if d.code == "PCL200")
    assert (unknown.file, unknown.line, unknown.column) == ("bad.pcl", 3, 14)
    assert unknown.severity == "error" and unknown.name == "unknown-name"
    assert "is_admn" in unknown.message
    assert "PCL200" in e.report and "is_admn" in e.report and "bad.pcl:3:14" in e.report
    assert "bad.pcl:3:14: PCL200" in str(e)
    assert "PCL200" in repr(unknown)


def test_a_syntax_error_has_help() -> None:
    with pytest.raises(portcullis.PolicyError) as caught:
        portcullis.Policy.from_source("policy p { allow when }")
    [d] = caught.value.diagnostics
    assert d.code == "PCL100" and d.help and d.line == 1 and d.file == "<policy>"


def test_imports_resolve_only_inside_base_dir(tmp_path: Path) -> None:
    (tmp_path / "roles.pcl").write_text("rule admin = principal matches role:admin\n")
    source = 'import "roles.pcl"\nactions: read\nprincipals { role in .roles }\npolicy p for read { allow when admin }\n'
    with pytest.raises(portcullis.PolicyError) as caught:
        portcullis.Policy.from_source(source)
    assert caught.value.diagnostics[0].code == "PCL209"
    policy = portcullis.Policy.from_source(source, base_dir=tmp_path)
    assert policy.decide({"principal": {"roles": ["admin"]}, "action": "read"}).allowed


def test_a_missing_file_raises_policy_error(tmp_path: Path) -> None:
    with pytest.raises(portcullis.PolicyError) as caught:
        portcullis.Policy.from_file(tmp_path / "nope.pcl")
    assert caught.value.diagnostics and caught.value.diagnostics[0].code == "PCL209"


# ------------------------------------------------------------------ requests


BAD_REQUESTS: list[tuple[object, str]] = [
    ([], "`request`: expected a mapping"),
    ("read", "`request`: expected a mapping"),
    ({"principal": None}, "`request.action`: missing"),
    ({"action": 3}, "`request.action`: expected a string, found an integer"),
    ({"action": "read", "resorce": {}}, "`request.resorce`: unknown field"),
    ({"action": "read", 7: {}}, "`request[7]`: keys must be strings"),
    ({"action": "read", "principal": "bob"}, "`request.principal`: expected a dict or None"),
    ({"action": "read", "context": [1]}, "`request.context`: expected a dict or None"),
    ({"action": "read", "principal": {"id": 2**63}}, "`request.principal.id`: integer out of range"),
    ({"action": "read", "principal": {"id": -(2**63) - 1}}, "`request.principal.id`: integer out of range"),
    ({"action": "read", "principal": {"id": 2.0**53}}, "`request.principal.id`: number cannot be represented exactly"),
    ({"action": "read", "principal": {"id": math.nan}}, "`request.principal.id`: number cannot be represented exactly"),
    ({"action": "read", "principal": {"id": -math.inf}}, "`request.principal.id`: number cannot be represented exactly"),
    ({"action": "read", "principal": {"roles": ["a", {1: "x"}]}}, "`request.principal.roles[1][1]`: keys must be strings"),
    ({"action": "read", "principal": {"id": b"14"}}, "`request.principal.id`: expected None, a bool, int, float"),
    ({"action": "read", "principal": {"id": {1, 2}}}, "found an object of type `set`"),
    ({"action": "read", "principal": {"id": "\ud800"}}, "`request.principal.id`: string is not valid Unicode"),
    ({"action": "\ud800"}, "`request.action`: string is not valid Unicode"),
]


@pytest.mark.parametrize("request_, reason", BAD_REQUESTS, ids=[r for _, r in BAD_REQUESTS])
def test_a_bad_request_denies_naming_the_field(docs: portcullis.Policy, request_: Any, reason: str) -> None:
    d = docs.decide(request_)
    assert (d.decision, d.allowed, d.status) == ("deny", False, 403)
    assert d.reason.startswith("invalid request: "), d.reason
    assert reason in d.reason
    assert d.error is not None and d.error["code"] == "PCL401"
    assert d.statements == [] and d.filters is None


def test_values_at_the_edge_of_exactness_are_kept(docs: portcullis.Policy) -> None:
    # The largest integers and the largest integral floats that are exact.
    for value in (2**63 - 1, -(2**63), 2.0**53 - 1, -(2.0**53) + 1, 0.5, True):
        d = docs.decide({"principal": {"id": value, "roles": []}, "action": "read", "resource": {"owner_id": value}})
        assert d.allowed, (value, d)


def test_integers_and_floats_compare_exactly(docs: portcullis.Policy) -> None:
    def owner(caller: object, owner_id: object) -> bool:
        return docs.decide({"principal": {"id": caller, "roles": []}, "action": "read", "resource": {"owner_id": owner_id}}).allowed

    assert owner(7, 7.0)
    assert not owner(2**53 + 1, float(2**53 - 1))
    assert not owner(1, True), "a boolean is not the integer 1"
    assert not owner("7", 7), "a string is not a number"


def test_a_request_that_breaks_the_contract_denies_naming_the_field(rbac: portcullis.Policy) -> None:
    request = rbac_request(x_auth_account="valid_account", x_auth_role="member")
    request["context"]["headers"]["x-count"] = 3
    d = rbac.decide(request, RBAC_DATA)
    assert (d.decision, d.status) == ("deny", 403)
    assert "`request.context.headers.x-count`: expected a string, found an integer" in d.reason
    assert d.error is not None and d.error["code"] == "PCL401"


def test_absent_is_not_null(rbac: portcullis.Policy, cli: Path, tmp_path: Path) -> None:
    """A mapping without `resource` is the JSON request without it: the
    bundle requires the key, so it denies; with `resource: None` it allows."""
    with_null = rbac_request(x_auth_account="valid_account", x_auth_role="member")
    without = {k: v for k, v in with_null.items() if k != "resource"}
    assert rbac.decide(with_null, RBAC_DATA).allowed
    d = rbac.decide(without, RBAC_DATA)
    assert not d.allowed and "`request.resource`: missing" in d.reason
    # The engine reads the same JSON the same way.
    request, data = tmp_path / "r.json", tmp_path / "d.json"
    request.write_text(json.dumps(without))
    data.write_text(json.dumps(RBAC_DATA))
    policy = POLICIES / "flask-rbac.pcl"
    # `eval` refuses an off-contract request outright (exit 2) and names the field.
    out = subprocess.run(
        [str(cli), "eval", "--policy", str(policy), "--request", str(request), "--data", str(data)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "request.resource" in out.stderr and "missing" in out.stderr


def test_deep_values_are_refused_at_the_depth_limit(docs: portcullis.Policy) -> None:
    deep: Any = 1
    for _ in range(200):
        deep = [deep]
    d = docs.decide({"action": "read", "principal": {"id": 1, "roles": [], "x": deep}})
    assert not d.allowed and "nested deeper than the value depth limit" in d.reason
    # A dict that holds itself is refused at the same limit, not followed forever.
    loop: dict[str, Any] = {}
    loop["again"] = loop
    d = docs.decide({"action": "read", "principal": {"id": 1, "roles": [], "x": loop}})
    assert not d.allowed and "`request.principal.x.again.again" in d.reason


def test_other_mappings_and_tuples_read_as_dicts_and_lists(docs: portcullis.Policy) -> None:
    from types import MappingProxyType

    request = MappingProxyType({"principal": MappingProxyType({"id": 1, "roles": ("admin",)}), "action": "read"})
    assert docs.decide(request).allowed


def test_a_dict_changed_while_it_is_read_denies(docs: portcullis.Policy) -> None:
    """Reading a mapping of another kind runs its Python code, which here
    changes the dict being read: refused, not an exception."""
    principal: dict[str, Any] = {"id": 1, "roles": []}

    class Meddling(Mapping[str, object]):
        def __getitem__(self, key: str) -> object:
            return {"k": 1}[key]

        def __iter__(self) -> Iterator[str]:
            principal["added"] = True
            return iter(["k"])

        def __len__(self) -> int:
            return 1

    principal["meddling"] = Meddling()
    principal["last"] = 0
    d = docs.decide({"action": "read", "principal": principal})
    assert not d.allowed
    assert "`request.principal`: the dict changed while it was being read" in d.reason, d.reason


# ------------------------------------------------------------------ data


def test_data_is_converted_once_and_reused(rbac: portcullis.Policy) -> None:
    data = portcullis.Data(RBAC_DATA)
    assert data.to_dict() == RBAC_DATA
    request = rbac_request(x_auth_account="devel", x_auth_role="admin")
    for _ in range(3):
        d = rbac.decide(request, data)
        assert d.allowed and d.principal is not None and d.principal["role"] == "operator"
    # The same Data with another policy is validated for that one.
    other = portcullis.Policy.from_file(POLICIES / "flask-rbac.pcl")
    assert other.decide(request, data).allowed
    assert "accounts" in repr(data)


def test_bad_data_is_refused(rbac: portcullis.Policy) -> None:
    request = rbac_request(x_auth_account="valid_account", x_auth_role="member")
    # Data that does not convert: Data() raises ValueError naming the field;
    # the same mapping passed to decide denies, naming it.
    with pytest.raises(ValueError, match=r"`data.accounts\[0\].id`: integer out of range"):
        portcullis.Data({"accounts": [{"id": 2**64, "name": "x"}]})
    d = rbac.decide(request, {"accounts": [{"id": 2**64, "name": "x"}]})
    assert not d.allowed and d.reason.startswith("invalid data: `data.accounts[0].id`")
    with pytest.raises(ValueError, match="`data`: expected a mapping"):
        portcullis.Data([1, 2])  # type: ignore[arg-type]
    d = rbac.decide(request, [1, 2])  # type: ignore[arg-type]
    assert not d.allowed and "`data`: expected a mapping" in d.reason
    # Data that converts but does not fit the declared shape: every decision
    # with it denies, naming the field, whether given as Data or a mapping.
    misfit = {"accounts": [{"id": "1", "name": "valid_account"}], "operator_group": {}}
    for data in (portcullis.Data(misfit), misfit):
        for _ in range(2):
            d = rbac.decide(request, data)
            assert (d.decision, d.status) == ("deny", 403)
            assert "`data.accounts[0].id`: expected an integer, found a string" in d.reason
    # No data, where the policy requires some, denies the same way.
    d = rbac.decide(request)
    assert not d.allowed and "`data.accounts`: missing" in d.reason


# ------------------------------------------------------------------ threads


def test_one_policy_decides_in_many_threads_at_once(rbac: portcullis.Policy) -> None:
    data = portcullis.Data(RBAC_DATA)
    cases = [
        (rbac_request(x_auth_account="valid_account", x_auth_role="member", x_auth_user="owner"), "allow"),
        (rbac_request(x_auth_account="devel", x_auth_role="operator"), "deny"),
        (rbac_request(x_auth_account="nobody", x_auth_role="member"), "unauthenticated"),
    ]
    expected = [(c[1], rbac.decide(c[0], data).to_dict()) for c in cases]
    threads, rounds = 8, 300
    start = threading.Barrier(threads)
    failures: list[str] = []

    def work(t: int) -> None:
        start.wait()
        for i in range(rounds):
            request, outcome = cases[(t + i) % len(cases)]
            if i % 2:
                got = rbac.decide(request, data)
            else:
                [got] = rbac.decide_many([request], data)
            if got.decision != outcome or got.to_dict() != expected[(t + i) % len(cases)][1]:
                failures.append(f"thread {t} round {i}: {got!r}")

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert failures == []
