"""`Policy.explain` gives what `portcullis eval --explain` gives: the same
tree (`str`), the same JSON (`to_dict`), the same decision as `decide`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

import portcullis
from conftest import REPO

CASES = sorted((REPO / "tests" / "explain").glob("*.case.json"))


def load(case: Path) -> tuple[portcullis.Policy, dict, dict | None]:
    spec = json.loads(case.read_text())
    policy = portcullis.Policy.from_file(REPO / spec["policy"])
    return policy, spec["request"], spec.get("data")


def test_there_are_explain_goldens() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name.removesuffix(".case.json"))
def test_explanation_is_the_golden_the_cli_prints(case: Path) -> None:
    policy, request, data = load(case)
    stem = case.name.removesuffix(".case.json")
    old = os.getcwd()
    os.chdir(REPO)  # the goldens name policy files relative to the repository
    try:
        explained = policy.explain(request, data)
    finally:
        os.chdir(old)
    assert json.loads((case.parent / f"{stem}.out.json").read_text()) == _relative(explained.to_dict())
    text = str(explained).replace(str(REPO) + "/", "")
    assert text == (case.parent / f"{stem}.txt").read_text()
    plain = policy.decide(request, data)
    assert explained.decision.to_dict() == plain.to_dict()
    assert explained.statements == explained.to_dict()["explanation"]["statements"]


def _relative(d: object) -> object:
    """The dict with the repository's absolute path taken off file names."""
    return json.loads(json.dumps(d).replace(str(REPO) + "/", ""))


def test_explain_matches_eval_explain_format_json(cli: Path) -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "flexmeasures.pcl")
    request = json.loads((REPO / "examples/requests/flexmeasures-update-denied.json").read_text())
    data = json.loads((REPO / "examples/data/flexmeasures.json").read_text())
    out = subprocess.run(
        [str(cli), "eval", "--policy", "policies/flexmeasures.pcl",
         "--request", "examples/requests/flexmeasures-update-denied.json",
         "--data", "examples/data/flexmeasures.json", "--explain", "--format", "json"],
        cwd=REPO, capture_output=True, text=True,
    )
    assert out.returncode == 3, out.stderr
    explained = policy.explain(request, portcullis.Data(data))
    assert _relative(explained.to_dict()) == json.loads(out.stdout)
    assert explained.decision.decision == "deny"
    assert explained.statements


def test_secrets_never_appear() -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "flip.pcl")
    case = json.loads((REPO / "tests/explain/flip-authenticate-trust.case.json").read_text())
    explained = policy.explain(case["request"], case.get("data"))
    text = str(explained) + json.dumps(explained.to_dict())
    assert "<secret>" in text
    for secret in _strings(case["request"].get("context", {})):
        if len(secret) >= 16:
            assert secret not in text


def _strings(v: object) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return [s for x in v.values() for s in _strings(x)]
    if isinstance(v, list):
        return [s for x in v for s in _strings(x)]
    return []


def test_a_request_outside_the_contract_is_explained_as_a_deny_naming_the_field() -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "rs-server.pcl")
    explained = policy.explain(
        {"principal": {"login": "a", "roles": []}, "action": "read", "resource": {"owner": "a"}, "context": {"collections": [1]}}
    )
    assert explained.decision.decision == "deny"
    assert "collections" in explained.decision.reason
    assert explained.decision.reason in str(explained)
    explained = policy.explain(
        {"principal": {"login": "a", "roles": []}, "action": "read", "resource": {"owner": "a"}, "context": {"collections": []}},
        data={"local_mode": 1.5},
    )
    assert explained.decision.decision == "deny"
    assert explained.decision.error is not None
    assert "local_mode" in explained.decision.reason


def test_a_request_that_cannot_be_read_is_refused_with_nothing_to_explain() -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "rs-server.pcl")
    explained = policy.explain({"action": "read", "principal": {"login": 2**64}})
    assert explained.decision.decision == "deny"
    assert explained.decision.error["code"] == "PCL401"
    assert "request.principal.login" in str(explained)
    # Refused before any statement ran: nothing to list.
    assert explained.statements == []
    assert "explanation" not in explained.to_dict()
