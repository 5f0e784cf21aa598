"""The FastAPI example (examples/python/flip_app.py) over HTTP through
FastAPI's TestClient: users by bearer token, services and trusts by key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

import flip_app

PROJECT = "c0000000-0000-4000-8000-000000000001"
MISSING = "c0000000-0000-4000-8000-0000000000ff"


@pytest.fixture()
def client() -> TestClient:
    return TestClient(flip_app.create_app())


def bearer(who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer token-{who}"}


@pytest.mark.parametrize("who", ["admin", "owner", "member", "viewer"])
def test_owner_members_and_managers_read_the_project(client: TestClient, who: str) -> None:
    r = client.get(f"/projects/{PROJECT}", headers=bearer(who))
    assert r.status_code == 200
    assert r.json()["name"] == "Chest X-ray triage"


def test_the_deciding_statement_reaches_the_route(client: TestClient) -> None:
    assert client.get(f"/projects/{PROJECT}", headers=bearer("admin")).json()["decided_by"] == ["access_project.manager"]
    assert client.get(f"/projects/{PROJECT}", headers=bearer("member")).json()["decided_by"] == [
        "access_project.owner-or-member"
    ]


def test_a_stranger_is_forbidden_with_the_reason(client: TestClient) -> None:
    r = client.get(f"/projects/{PROJECT}", headers=bearer("stranger"))
    assert r.status_code == 403
    assert r.json() == {"detail": "Only the project's owner and members may see it."}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer token-forged"}, {"Authorization": "token-admin"}])
def test_no_established_user_is_401(client: TestClient, headers: dict[str, str]) -> None:
    r = client.get(f"/projects/{PROJECT}", headers=headers)
    assert r.status_code == 401
    assert r.json() == {"detail": "A logged-in user is required."}
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_missing_project_is_403_for_users_and_404_for_managers(client: TestClient) -> None:
    r = client.get(f"/projects/{MISSING}", headers=bearer("owner"))
    assert r.status_code == 403 and r.json() == {"detail": "The project does not exist."}
    assert client.get(f"/projects/{MISSING}", headers=bearer("admin")).status_code == 404


def test_only_the_owner_modifies_the_project(client: TestClient) -> None:
    r = client.put(f"/projects/{PROJECT}", json={"name": "Renamed"}, headers=bearer("member"))
    assert r.status_code == 403 and r.json() == {"detail": "Only the project's owner may modify it."}
    r = client.put(f"/projects/{PROJECT}", json={"name": "Renamed"}, headers=bearer("owner"))
    assert r.status_code == 200
    assert client.get(f"/projects/{PROJECT}", headers=bearer("viewer")).json()["name"] == "Renamed"


def test_contributing_needs_the_permission_as_well_as_membership(client: TestClient) -> None:
    r = client.post(f"/projects/{PROJECT}/models", json={"name": "m"}, headers=bearer("viewer"))
    assert r.status_code == 403
    assert r.json() == {"detail": "Only the owner, or a member allowed to create projects, may contribute."}
    r = client.post(f"/projects/{PROJECT}/models", json={"name": "m"}, headers=bearer("member"))
    assert r.status_code == 201
    model = r.json()["id"]
    # The model is read through its project: members yes, strangers no.
    assert client.get(f"/models/{model}", headers=bearer("viewer")).status_code == 200
    r = client.get(f"/models/{model}", headers=bearer("stranger"))
    assert r.status_code == 403 and r.json() == {"detail": "Only the owner and members of the model's project may see it."}
    r = client.get("/models/0d000000-0000-4000-8000-000000000000", headers=bearer("member"))
    assert r.status_code == 403 and r.json() == {"detail": "The model has no project."}


def test_an_internal_service_authenticates_with_its_key(client: TestClient) -> None:
    assert client.get("/internal/status", headers={"X-Internal-Service-Key": "hub-internal-key"}).json() == {"status": "ok"}
    r = client.get("/internal/status", headers={"X-Internal-Service-Key": "guess"})
    assert r.status_code == 401 and r.json() == {"detail": "Invalid internal service key."}
    r = client.get("/internal/status")
    assert r.status_code == 401 and r.json() == {"detail": "Not authenticated: internal service key is missing."}
    # A logged-in user is no internal service.
    r = client.get("/internal/status", headers=bearer("admin"))
    assert r.status_code == 401


def test_a_trust_authenticates_with_its_key_and_is_identified(client: TestClient) -> None:
    r = client.get("/trust/identity", headers={"Authorization": "trust-one-key"})
    assert r.status_code == 200
    assert r.json() == {"trust": {"id": "7a000000-0000-4000-8000-000000000001", "name": "Trust_1"}}
    r = client.get("/trust/identity", headers={"Authorization": "Bearer trust-one-key"})
    assert r.status_code == 401 and r.json() == {"detail": "Invalid API Key."}
    r = client.get("/trust/identity")
    assert r.status_code == 401 and r.json() == {"detail": "Not authenticated: API key is missing."}
