"""Every conformance and edge-case file, decided through Python, gives the
same results as `portcullis test`, and each decision is the one
`portcullis eval` prints for the same request and data."""

from __future__ import annotations

import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Optional

import pytest

import portcullis

from conftest import POLICIES, REPO

CASE_FILES = sorted((REPO / "tests" / "conformance").glob("*.json")) + sorted(
    (REPO / "tests" / "bundles").glob("*.json")
)


def compare(expect: dict[str, Any], decision: portcullis.Decision) -> Optional[str]:
    """What differs from the expectation, as `src/cases.rs` compares:
    decision exactly, filters exactly, principal as a subset, reason as a
    substring; None when the case passes."""
    diffs = []
    if expect["decision"] != decision.decision:
        diffs.append(f"decision: expected {expect['decision']}, got {decision.decision}")
    if "filters" in expect and expect["filters"] != decision.filters:
        diffs.append(f"filters: expected {expect['filters']}, got {decision.filters}")
    if "principal" in expect:
        want, have = expect["principal"], decision.principal
        if isinstance(want, dict) and isinstance(have, dict):
            ok = all(k in have and have[k] == v and type(have[k]) is type(v) for k, v in want.items())
        else:
            ok = want == have
        if not ok:
            diffs.append(f"principal: expected a superset of {want}, got {have}")
    if "reason" in expect and expect["reason"] not in decision.reason:
        diffs.append(f"reason: expected it to contain {expect['reason']!r}, got {decision.reason!r}")
    return "; ".join(diffs) or None


def merged_data(file: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """The file's data with the case's merged over it, top level only."""
    return {**file.get("data", {}), **case.get("data", {})}


def cli_summary(cli: Path, path: Path) -> tuple[str, set[str]]:
    out = subprocess.run([str(cli), "test", str(path)], cwd=REPO, capture_output=True, text=True)
    assert out.returncode in (0, 1), out.stderr
    lines = out.stdout.splitlines()
    failed = {line.split(": ", 1)[1] for line in lines if line.startswith("FAIL ")}
    return lines[-1], failed


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_case_file_matches_portcullis_test(path: Path, cli: Path, tmp_path: Path) -> None:
    file = json.loads(path.read_text())
    policy = portcullis.Policy.from_file(POLICIES / f"{file['bundle']}.pcl")
    passed, failed, decisions = 0, set(), []
    for case in file["cases"]:
        data = portcullis.Data(merged_data(file, case))
        decision = policy.decide(case["request"], data)
        decisions.append(decision)
        if compare(case["expect"], decision) is None:
            passed += 1
        else:
            failed.add(case["name"])
    summary, cli_failed = cli_summary(cli, path)
    assert summary == f"{passed} passed, {len(failed)} failed"
    assert failed == cli_failed
    # Every case of the shipped files passes.
    assert not failed, failed

    # The whole decision, case by case, as `portcullis eval` gives it.
    def evaluate(i: int) -> dict[str, Any]:
        case = file["cases"][i]
        request, data = tmp_path / f"request{i}.json", tmp_path / f"data{i}.json"
        request.write_text(json.dumps(case["request"]))
        data.write_text(json.dumps(merged_data(file, case)))
        policy_file = POLICIES / f"{file['bundle']}.pcl"
        out = subprocess.run(
            [str(cli), "eval", "--policy", str(policy_file), "--request", str(request), "--data", str(data)],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert out.returncode in (0, 3), out.stderr
        result: dict[str, Any] = json.loads(out.stdout)
        return result

    with ThreadPoolExecutor(max_workers=4) as pool:
        expected = list(pool.map(evaluate, range(len(file["cases"]))))
    for case, decision, want in zip(file["cases"], decisions, expected):
        assert decision.to_dict() == want, case["name"]


def test_every_case_file_is_found() -> None:
    bundles = {f"{b}.json" for b in ("diracx", "flask-rbac", "flexmeasures", "flip", "rs-server")}
    for folder in ("conformance", "bundles"):
        assert bundles <= {p.name for p in CASE_FILES if p.parent.name == folder}
