"""The Flask example (examples/python/flask_rbac_app.py) over HTTP through
Flask's test client: status codes, reasons, and rows scoped by the
decision's filters."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

import flask_rbac_app


@pytest.fixture()
def client() -> FlaskClient:
    return flask_rbac_app.create_app().test_client()


def auth(account: str, role: str, user: str | None = None) -> dict[str, str]:
    headers = {"x-auth-account": account, "x-auth-role": role}
    if user is not None:
        headers["x-auth-user"] = user
    return headers


def names(rows: Any) -> list[str]:
    return [r["name"] for r in rows]


def test_a_member_lists_only_their_own_products(client: FlaskClient) -> None:
    r = client.get("/products", headers=auth("valid_account", "member", "owner"))
    assert r.status_code == 200
    assert r.json == [{"id": 1, "name": "lamp", "account_id": 1, "owner": "owner"}]


def test_a_member_without_a_user_header_is_scoped_to_rows_without_owner(client: FlaskClient) -> None:
    r = client.get("/products", headers=auth("valid_account", "member"))
    assert r.status_code == 200
    assert names(r.json) == ["shelf"]


def test_an_admin_sees_every_product_but_only_their_account(client: FlaskClient) -> None:
    h = auth("valid_account", "admin")
    assert names(client.get("/products", headers=h).json) == ["lamp", "desk", "chair", "shelf"]
    r = client.get("/accounts", headers=h)
    assert r.status_code == 200 and r.json == [{"id": 1, "name": "valid_account"}]
    assert client.get("/accounts/1", headers=h).status_code == 200
    # Out of the admin's scope: the filtered query finds nothing.
    assert client.get("/accounts/2", headers=h).status_code == 404


def test_the_operator_group_grants_operator(client: FlaskClient) -> None:
    h = auth("devel", "admin")
    assert names(client.get("/accounts", headers=h).json) == ["valid_account", "devel", "ops"]
    r = client.delete("/products/3", headers=h)
    assert r.status_code == 200 and r.json == {"deleted": 3}
    assert "chair" not in names(client.get("/products", headers=h).json)


def test_asking_for_operator_outside_the_group_is_forbidden(client: FlaskClient) -> None:
    r = client.get("/products", headers=auth("devel", "operator"))
    assert r.status_code == 403 and r.json == {"error": "You are not operator"}


def test_a_permission_the_role_lacks_is_forbidden(client: FlaskClient) -> None:
    r = client.post("/products", json={"name": "rug"}, headers=auth("valid_account", "member", "owner"))
    assert r.status_code == 403
    assert r.json == {"error": "Access to products.create forbidden for role MEMBER"}
    r = client.delete("/products/1", headers=auth("valid_account", "admin"))
    assert r.status_code == 403
    assert r.json == {"error": "Access to products.delete forbidden for role ADMIN"}


def test_an_admin_creates_a_product_in_their_account(client: FlaskClient) -> None:
    r = client.post("/products", json={"name": "rug"}, headers=auth("valid_account", "admin", "ann"))
    assert r.status_code == 201
    assert r.json == {"id": 5, "name": "rug", "account_id": 1, "owner": "ann"}
    # The member named as owner now sees it.
    assert "rug" in names(client.get("/products", headers=auth("valid_account", "member", "ann")).json)


@pytest.mark.parametrize(
    "headers, reason",
    [
        ({}, "Account name is required in x-auth-account header."),
        ({"x-auth-account": "", "x-auth-role": "admin"}, "Account name is required in x-auth-account header."),
        ({"x-auth-account": "nobody", "x-auth-role": "admin"}, "Invalid auth parameters. Account name is not found."),
        ({"x-auth-account": "valid_account"}, "Role name is required in x-auth-role header."),
        ({"x-auth-account": "valid_account", "x-auth-role": "root"}, "Invalid auth parameters. Role name is not found."),
    ],
)
def test_missing_or_unknown_credentials_are_401(client: FlaskClient, headers: dict[str, str], reason: str) -> None:
    r = client.get("/products", headers=headers)
    assert r.status_code == 401 and r.json == {"error": reason}


def test_header_names_are_case_insensitive(client: FlaskClient) -> None:
    r = client.get("/products", headers={"X-Auth-Account": "valid_account", "X-AUTH-ROLE": "member", "X-Auth-User": "owner"})
    assert r.status_code == 200 and names(r.json) == ["lamp"]


def test_a_repeated_credential_header_is_not_silently_replaced(client: FlaskClient) -> None:
    # A client-sent copy beside the gateway's: joined, it names no account.
    r = client.get(
        "/products",
        headers=[("x-auth-account", "devel"), ("x-auth-account", "valid_account"), ("x-auth-role", "admin")],
    )
    assert r.status_code == 401 and r.json == {"error": "Invalid auth parameters. Account name is not found."}


def test_a_dotted_object_is_scoped_by_account_name_and_creator(client: FlaskClient) -> None:
    r = client.get("/billing/invoices", headers=auth("valid_account", "auditor", "owner"))
    assert r.status_code == 200
    assert r.json == [{"id": 1, "account": "valid_account", "created_by": "owner", "amount": 120}]
    # The auditor holds no permission on accounts.
    r = client.get("/accounts", headers=auth("valid_account", "auditor", "owner"))
    assert r.status_code == 403 and r.json == {"error": "Access to accounts.list forbidden for role AUDITOR"}
