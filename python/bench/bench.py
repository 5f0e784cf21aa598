"""Portcullis from Python beside cedarpy and PyCasbin on W1 and W2.

Not a test: one run, one table. The workloads are those of
``../shared/bench/WORKLOADS.md`` (the Rust facts are in
``benches/workloads/facts.rs``; the Portcullis policies are
``benches/workloads/w1_rbac.pcl`` and ``w2_acl.pcl``). Every engine must
return the expected decisions before it is timed. Policies, data and
request objects are built outside the timed loops for every engine, as far
as its API allows: Portcullis gets the request as a dict (converted inside
each call), cedarpy a prebuilt ``PolicySet`` and ``Entities`` with the
request dict, PyCasbin an enforcer holding the rules with the request's
arguments (dicts for W2).

Setup, from the repository root::

    python/run-tests                       # or: pip install ./python into .venv
    .venv/bin/pip install cedarpy casbin
    .venv/bin/python python/bench/bench.py

Prints µs per decision (CPU time of the deciding thread, median of several
timed rounds) for the allowed and the denied request, then batches of
1,000: a ``decide`` loop, ``decide_many`` on one thread, and on two Python
threads (run it on a quiet machine: a busy one has no free core).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import portcullis

REPO = Path(__file__).resolve().parents[2]
WORKLOADS = REPO / "benches" / "workloads"

PERMISSIONS = ["create", "read", "update", "delete"]


# ---------------------------------------------------------------- the facts


def w1_holds(r: int, o: int, p: int) -> bool:
    return (r * 7 + o * 3 + p) % 5 < 3


def w1_matrix() -> dict[str, Any]:
    return {
        "roles": {
            f"role_{r:02}": {
                f"object_{o:02}": [PERMISSIONS[p] for p in range(4) if w1_holds(r, o, p)] for o in range(20)
            }
            for r in range(10)
        }
    }


def w1_request(action: str) -> dict[str, Any]:
    return {"principal": {"role": "role_07"}, "action": action}


W2_ACL: dict[str, list[Any]] = {
    "create-children": [
        "account:7",
        ["account:3", "role:account-admin"],
        "user:14",
        ["account-role:MDC", "role:consultant"],
        "role:site-manager",
    ],
    "read": ["account:3", ["account:7", "role:viewer"], "account-role:Prosumer", ["role:consultant", "account-role:ESCo"], "user:99"],
    "update": ["user:14", ["account:3", "role:CEO"], "account-role:MDC", ["account:7", "role:consultant"], "user:15"],
    "delete": ["user:14", ["account:3", "role:CEO"], "account-role:MDC", ["account:7", "role:account-admin"], "role:site-manager"],
}


def w2_principal(x: str) -> dict[str, Any]:
    return {"id": 5, "roles": ["viewer", x, "auditor"], "account": {"id": 7, "roles": ["ESCo", "Prosumer"]}}


def w2_request(x: str) -> dict[str, Any]:
    return {"principal": w2_principal(x), "action": "update", "resource": {"id": 42, "acl": W2_ACL}}


# ---------------------------------------------------------------- engines

Decide = Callable[[], bool]


class Case:
    """One engine on one workload: a call for the allowed request and one
    for the denied request, each returning whether it allowed."""

    def __init__(self, engine: str, workload: str, allow: Decide, deny: Decide, note: str = "") -> None:
        self.engine, self.workload, self.allow, self.deny, self.note = engine, workload, allow, deny, note


def portcullis_cases() -> list[Case]:
    w1 = portcullis.Policy.from_file(WORKLOADS / "w1_rbac.pcl")
    w1_data = portcullis.Data(w1_matrix())
    w1_allow, w1_deny = w1_request("object_13.update"), w1_request("object_13.create")
    w2 = portcullis.Policy.from_file(WORKLOADS / "w2_acl.pcl")
    w2_allow, w2_deny = w2_request("consultant"), w2_request("CEO")
    return [
        Case("portcullis", "W1", lambda: w1.decide(w1_allow, w1_data).allowed, lambda: w1.decide(w1_deny, w1_data).allowed),
        Case("portcullis", "W2", lambda: w2.decide(w2_allow).allowed, lambda: w2.decide(w2_deny).allowed),
    ]


def cedar_w1_policies() -> str:
    lines = []
    for r in range(10):
        for o in range(20):
            for p, perm in enumerate(PERMISSIONS):
                if w1_holds(r, o, p):
                    lines.append(
                        f'permit(principal == Role::"role_{r:02}", action == Action::"object_{o:02}.{perm}", resource);'
                    )
    return "\n".join(lines)


CEDAR_W2 = """
permit(principal, action, resource) when { principal.roles.contains("admin") };
permit(principal, action == Action::"read", resource) when { principal.roles.contains("admin-reader") };
permit(principal, action == Action::"create-children", resource == Asset::"42") when {
  principal.account.id == 7 || (principal.account.id == 3 && principal.roles.contains("account-admin"))
  || principal.id == 14 || (principal.account.roles.contains("MDC") && principal.roles.contains("consultant"))
  || principal.roles.contains("site-manager") };
permit(principal, action == Action::"read", resource == Asset::"42") when {
  principal.account.id == 3 || (principal.account.id == 7 && principal.roles.contains("viewer"))
  || principal.account.roles.contains("Prosumer")
  || (principal.roles.contains("consultant") && principal.account.roles.contains("ESCo"))
  || principal.id == 99 };
permit(principal, action == Action::"update", resource == Asset::"42") when {
  principal.id == 14 || (principal.account.id == 3 && principal.roles.contains("CEO"))
  || principal.account.roles.contains("MDC") || (principal.account.id == 7 && principal.roles.contains("consultant"))
  || principal.id == 15 };
permit(principal, action == Action::"delete", resource == Asset::"42") when {
  principal.id == 14 || (principal.account.id == 3 && principal.roles.contains("CEO"))
  || principal.account.roles.contains("MDC") || (principal.account.id == 7 && principal.roles.contains("account-admin"))
  || principal.roles.contains("site-manager") };
"""


def cedar_cases() -> list[Case]:
    import json

    import cedarpy

    def allowed(result: Any) -> bool:
        return bool(result.decision == cedarpy.Decision.Allow)

    w1 = cedarpy.PolicySet.from_str(cedar_w1_policies())
    none = cedarpy.Entities.from_json_str("[]")

    def w1_req(action: str) -> dict[str, Any]:
        return {"principal": 'Role::"role_07"', "action": f'Action::"{action}"', "resource": 'Object::"object_13"', "context": {}}

    a1, d1 = w1_req("object_13.update"), w1_req("object_13.create")

    w2 = cedarpy.PolicySet.from_str(CEDAR_W2)

    def world(x: str) -> Any:
        return cedarpy.Entities.from_json_str(
            json.dumps(
                [
                    {"uid": {"type": "User", "id": "5"}, "parents": [], "attrs": w2_principal(x)},
                    {"uid": {"type": "Asset", "id": "42"}, "parents": [], "attrs": {}},
                ]
            )
        )

    allow_world, deny_world = world("consultant"), world("CEO")
    r2 = {"principal": 'User::"5"', "action": 'Action::"update"', "resource": 'Asset::"42"', "context": {}}
    return [
        Case(
            "cedarpy",
            "W1",
            lambda: allowed(cedarpy.is_authorized(a1, w1, none)),
            lambda: allowed(cedarpy.is_authorized(d1, w1, none)),
        ),
        Case(
            "cedarpy",
            "W2",
            lambda: allowed(cedarpy.is_authorized(r2, w2, allow_world)),
            lambda: allowed(cedarpy.is_authorized(r2, w2, deny_world)),
            "caller as an entity",
        ),
    ]


CASBIN_W1_MODEL = """
[request_definition]
r = sub, act
[policy_definition]
p = sub, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = r.sub == p.sub && r.act == p.act
"""

CASBIN_W2_MODEL = """
[request_definition]
r = sub, obj, act
[policy_definition]
p = rule, obj, act
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = (p.obj == "*" || r.obj.id == p.obj) && (p.act == "*" || r.act == p.act) && eval(p.rule)
"""


def casbin_w2_rule(item: Any) -> str:
    """One ACL entry as a rule over r.sub: a descriptor, or an AND tuple."""
    if isinstance(item, list):
        return " and ".join(casbin_w2_rule(part) for part in item)
    kind, _, value = item.partition(":")
    return {
        "user": f"r.sub.id == {value}",
        "account": f"r.sub.account.id == {value}",
        "role": f"'{value}' in r.sub.roles",
        "account-role": f"'{value}' in r.sub.account.roles",
    }[kind]


def casbin_cases() -> list[Case]:
    import casbin

    w1 = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_W1_MODEL))
    w1.add_policies(
        [
            [f"role_{r:02}", f"object_{o:02}.{perm}"]
            for r in range(10)
            for o in range(20)
            for p, perm in enumerate(PERMISSIONS)
            if w1_holds(r, o, p)
        ]
    )
    w2 = casbin.Enforcer(casbin.Enforcer.new_model(text=CASBIN_W2_MODEL))
    rows = [["'admin' in r.sub.roles", "*", "*"], ["'admin-reader' in r.sub.roles", "*", "read"]]
    for action, items in W2_ACL.items():
        rows += [[casbin_w2_rule(item), "42", action] for item in items]
    w2.add_policies(rows)
    a2, d2, asset = w2_principal("consultant"), w2_principal("CEO"), {"id": "42"}
    return [
        Case(
            "casbin",
            "W1",
            lambda: bool(w1.enforce("role_07", "object_13.update")),
            lambda: bool(w1.enforce("role_07", "object_13.create")),
        ),
        Case(
            "casbin",
            "W2",
            lambda: bool(w2.enforce(a2, asset, "update")),
            lambda: bool(w2.enforce(d2, asset, "update")),
            "ACL as policy rows",
        ),
    ]


# ---------------------------------------------------------------- timing


def per_call_us(f: Decide, budget_s: float = 0.4, rounds: int = 7) -> float:
    """Median µs per call over `rounds` timed rounds sized to the budget,
    in CPU time of this thread (`time.thread_time`): on a shared machine a
    round that loses the CPU is not charged for it. No engine here decides
    on another thread."""
    f()
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < 0.02:
        f()
        n += 1
    per_round = max(10, int(n / 0.02 * budget_s / rounds))
    samples = []
    for _ in range(rounds):
        t0 = time.thread_time()
        for _ in range(per_round):
            f()
        samples.append((time.thread_time() - t0) / per_round * 1e6)
    return statistics.median(samples)


def fmt(us: Optional[float]) -> str:
    if us is None:
        return "–"
    return f"{us:.2f}" if us < 10 else f"{us:.1f}" if us < 1000 else f"{us:,.0f}"


def batch_us(policy: portcullis.Policy, request: dict[str, Any], data: Any, batch: int, batches: int) -> dict[str, float]:
    """Wall-clock µs per decision over `batches` batches of `batch`
    requests: a `decide` loop, `decide_many` on one thread, and two Python
    threads each running `decide_many` on half the batches (the GIL is
    released while a chunk is decided, so the threads share two cores)."""
    requests = [request] * batch

    def loop(n: int) -> None:
        for _ in range(n):
            for r in requests:
                policy.decide(r, data)

    def many(n: int) -> None:
        for _ in range(n):
            policy.decide_many(requests, data)

    def timed(runs: list[Callable[[], None]]) -> float:
        samples = []
        for _ in range(5):
            pool = [threading.Thread(target=run) for run in runs]
            t0 = time.perf_counter()
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            samples.append((time.perf_counter() - t0) / (batch * batches) * 1e6)
        return statistics.median(samples)

    many(1)
    return {
        "decide loop": timed([lambda: loop(batches)]),
        "decide_many, 1 thread": timed([lambda: many(batches)]),
        "decide_many, 2 threads": timed([lambda: many(batches // 2)] * 2),
    }


def main() -> int:
    cases = portcullis_cases()
    missing = []
    for name, make in (("cedarpy", cedar_cases), ("casbin", casbin_cases)):
        try:
            cases += make()
        except ImportError:
            missing.append(name)
    for c in cases:
        if not (c.allow() is True and c.deny() is False):
            print(f"{c.engine} {c.workload}: wrong decisions (allow {c.allow()}, deny {c.deny()})", file=sys.stderr)
            return 1

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"Python {sys.version.split()[0]}, portcullis {portcullis.__version__}, {os.cpu_count()} cores, load average {load}")
    if missing:
        print(f"not installed, left out: {', '.join(missing)} (pip install cedarpy casbin)")
    print()
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for c in cases:
        results[(c.engine, c.workload)] = (per_call_us(c.allow), per_call_us(c.deny))
    engines = [e for e in ("portcullis", "cedarpy", "casbin") if any(k[0] == e for k in results)]
    print("µs per decision (CPU time of the deciding thread, median of 7 rounds), allowed / denied request")
    print()
    print("| workload | " + " | ".join(engines) + " |")
    print("|---|" + "---|" * len(engines))
    for w in ("W1", "W2"):
        cells = []
        for e in engines:
            got = results.get((e, w))
            cells.append(f"{fmt(got[0])} / {fmt(got[1])}" if got else "–")
        print(f"| {w} | " + " | ".join(cells) + " |")
    notes = [f"{c.engine} {c.workload}: {c.note}" for c in cases if c.note]
    if notes:
        print()
        print("notes: " + "; ".join(notes))

    print()
    print(f"batches of 1,000 (wall-clock µs per decision, allowed request; {os.cpu_count()} cores)")
    print()
    print("| workload | decide loop | decide_many, 1 thread | decide_many, 2 threads | speed-up of 2 threads |")
    print("|---|---|---|---|---|")
    w1 = portcullis.Policy.from_file(WORKLOADS / "w1_rbac.pcl")
    w2 = portcullis.Policy.from_file(WORKLOADS / "w2_acl.pcl")
    for name, policy, request, data in (
        ("W1", w1, w1_request("object_13.update"), portcullis.Data(w1_matrix())),
        ("W2", w2, w2_request("consultant"), None),
    ):
        t = batch_us(policy, request, data, 1000, 200)
        speedup = t["decide_many, 1 thread"] / t["decide_many, 2 threads"]
        row = " | ".join(fmt(v) for v in t.values())
        print(f"| {name} | {row} | {speedup:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
