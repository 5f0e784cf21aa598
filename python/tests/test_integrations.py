"""portcullis.flask and portcullis.fastapi on small apps of their own: the
request each builds, the view arguments and resources, and scoping."""

from __future__ import annotations

from typing import Any, Optional

import flask
import pytest
from fastapi import Depends, FastAPI, Header
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import portcullis
from portcullis.fastapi import Guard as FastAPIGuard
from portcullis.flask import Guard as FlaskGuard
from portcullis.flask import scoped

POLICY = """
actions: read, update
principals {
  user == .id
  role in .roles
}
request {
  principal: { id: int, roles: [string] }?
  resource: { id: int, owner_id: int }?
  context: { headers: { *: string } }
}
policy docs for read, update in order {
  anonymous: unauthenticated "log in first" when principal == null
  admin: allow when principal matches role:admin with { filters: {} }
  owner: allow when resource != null and principal matches user:{resource.owner_id}
    with { filters: { owner_id: principal.id } }
  lister: allow when resource == null and action == "read" with { filters: { owner_id: principal.id } }
  deny "only the owner may {action} document {resource.id}"
}
"""

DOCS = {1: {"id": 1, "owner_id": 10}, 2: {"id": 2, "owner_id": 20}}
USERS = {"ann": {"id": 10, "roles": []}, "root": {"id": 1, "roles": ["admin"]}}


@pytest.fixture(scope="module")
def policy() -> portcullis.Policy:
    return portcullis.Policy.from_source(POLICY, name="docs.pcl")


def flask_app(policy: portcullis.Policy) -> flask.Flask:
    app = flask.Flask(__name__)
    guard = FlaskGuard(policy, principal=lambda: USERS.get(flask.request.headers.get("x-user", "")))

    @app.get("/docs/<int:doc_id>")
    @guard.allow("read", resource=lambda doc_id: DOCS.get(doc_id))
    def read(doc_id: int, decision: portcullis.Decision) -> Any:
        return {"id": doc_id, "by": [s.id for s in decision.statements], "same": flask.g.portcullis_decision is decision}

    @app.put("/docs/<int:doc_id>")
    @guard.allow("update", resource=lambda doc_id: DOCS.get(doc_id))
    def update(doc_id: int, decision: portcullis.Decision) -> Any:
        return {"updated": doc_id}

    @app.get("/docs")
    @guard.allow("read")
    def listing(decision: portcullis.Decision) -> Any:
        return {"filters": decision.filters}

    return app


def test_flask_guard_reads_view_arguments_and_the_principal(policy: portcullis.Policy) -> None:
    client = flask_app(policy).test_client()
    r = client.get("/docs/1", headers={"x-user": "ann"})
    assert r.status_code == 200 and r.json == {"id": 1, "by": ["docs.owner"], "same": True}
    r = client.put("/docs/2", headers={"x-user": "ann"})
    assert r.status_code == 403 and b"only the owner may update document 2" in r.data
    r = client.get("/docs/1")
    assert r.status_code == 401 and b"log in first" in r.data
    assert client.get("/docs", headers={"x-user": "ann"}).json == {"filters": {"owner_id": 10}}
    assert client.get("/docs", headers={"x-user": "root"}).json == {"filters": {}}


def test_flask_guard_denies_a_request_outside_the_contract(policy: portcullis.Policy) -> None:
    # A resource the contract does not admit is a 403 naming the field.
    app = flask.Flask(__name__)
    guard = FlaskGuard(policy, principal=lambda: USERS["root"])

    @app.get("/odd")
    @guard.allow("read", resource=lambda: {"id": "one", "owner_id": 1})
    def odd(decision: portcullis.Decision) -> Any:
        return "reached"

    r = app.test_client().get("/odd")
    assert r.status_code == 403 and b"request.resource.id" in r.data


class Base(DeclarativeBase):
    pass


class Doc(Base):
    __tablename__ = "docs"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int]


def test_scoped_filters_a_query_by_the_decision(policy: portcullis.Policy) -> None:
    ann = policy.decide({"principal": USERS["ann"], "action": "read", "resource": None, "context": {"headers": {}}})
    sql = str(scoped(select(Doc), ann).compile(compile_kwargs={"literal_binds": True}))
    assert sql.endswith("WHERE docs.owner_id = 10"), sql
    root = policy.decide({"principal": USERS["root"], "action": "read", "resource": None, "context": {"headers": {}}})
    assert "WHERE" not in str(scoped(select(Doc), root))
    deny = policy.decide({"principal": USERS["ann"], "action": "update", "resource": DOCS[2], "context": {"headers": {}}})
    with pytest.raises(PermissionError, match="deny decision"):
        scoped(select(Doc), deny)
    no_filters = portcullis.Policy.from_source("actions: a\npolicy p for a { allow }").decide({"action": "a"})
    query = select(Doc)
    assert scoped(query, no_filters) is query


def fastapi_app(policy: portcullis.Policy) -> FastAPI:
    def user(x_user: Optional[str] = Header(default=None)) -> Optional[dict[str, Any]]:
        return USERS.get(x_user or "")

    def doc(doc_id: int) -> Optional[dict[str, Any]]:
        return DOCS.get(doc_id)

    guard = FastAPIGuard(policy, principal=user)
    # Not /docs: FastAPI serves its API documentation there.
    app = FastAPI()

    @app.get("/files/{doc_id}")
    async def read(doc_id: int, decision: portcullis.Decision = Depends(guard.require("read", resource=doc))) -> Any:
        return {"id": doc_id, "by": [s.id for s in decision.statements]}

    @app.get("/files")
    async def listing(decision: portcullis.Decision = Depends(guard.require("read"))) -> Any:
        return {"filters": decision.filters}

    return app


def test_fastapi_guard_resolves_principal_and_resource_as_dependencies(policy: portcullis.Policy) -> None:
    client = TestClient(fastapi_app(policy))
    r = client.get("/files/1", headers={"x-user": "ann"})
    assert r.status_code == 200 and r.json() == {"id": 1, "by": ["docs.owner"]}
    r = client.get("/files/2", headers={"x-user": "ann"})
    assert r.status_code == 403 and r.json() == {"detail": "only the owner may read document 2"}
    r = client.get("/files/2")
    assert r.status_code == 401 and r.json() == {"detail": "log in first"}
    assert client.get("/files", headers={"x-user": "ann"}).json() == {"filters": {"owner_id": 10}}
