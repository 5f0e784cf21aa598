"""Filters over joined rows (`one` relations), rendered by to_sqlalchemy and
to_sql, on SQLite and on a real PostgreSQL server.

FLIP models (each joins its project, whose members are a `many` list) and
FlexMeasures assets (each joins its account): generated rows with NULL and
dangling join keys, NULL columns and UUIDs in both cases; for every row, the
decision on the row as a resource (read from the database by the mapping's
rules, tests/rows.py) allows exactly when the row is selected.

PostgreSQL: the server named by PORTCULLIS_PG_URL (`eval "$(scripts/postgres)"`);
without one the PostgreSQL cases are skipped, except under CI, where they fail.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Uuid, create_engine, select, text
from sqlalchemy.engine import Engine

import portcullis
from rows import resources

REPO = Path(__file__).resolve().parents[2]
FILTERS = REPO / "examples" / "filters"
SCHEMA = "portcullis_pytest"

USERS = [
    "b0000000-0000-4000-8000-000000000002",
    "B0000000-0000-4000-8000-000000000002",
    "c0000000-0000-4000-8000-000000000003",
]


def load(name: str) -> Any:
    return json.loads((FILTERS / name).read_text())


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    if request.param == "sqlite":
        yield create_engine("sqlite://")
        return
    url = os.environ.get("PORTCULLIS_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("PORTCULLIS_PG_URL is not set: CI must start PostgreSQL (scripts/postgres)")
        pytest.skip('set PORTCULLIS_PG_URL (eval "$(scripts/postgres)")')
    url = url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    admin.dispose()
    pg = create_engine(url, connect_args={"options": f"-csearch_path={SCHEMA}"})
    yield pg
    pg.dispose()


def uuid_type(engine: Engine) -> Any:
    # PostgreSQL holds UUIDs in `uuid` columns (reading back in lower
    # case); SQLite in text, as written.
    return Uuid(as_uuid=False) if engine.dialect.name == "postgresql" else String


def selected(engine: Engine, table: Table, flt: portcullis.Filter, mapping: Any, key: str) -> tuple[set[Any], set[Any]]:
    """The keys of the rows the filter selects: through to_sqlalchemy, and
    through the to_sql clause."""
    dialect = engine.dialect.name
    clause, params = flt.to_sql(mapping, dialect)
    with engine.connect() as conn:
        by_sqlalchemy = {r._mapping[table.c[key]] for r in conn.execute(select(table).where(flt.to_sqlalchemy(table, dialect=dialect)))}
        sql = f'SELECT "{key}" FROM "{table.name}" WHERE {clause}'
        if dialect == "postgresql":
            by_sql = {r[0] for r in conn.exec_driver_sql(_pg(sql), tuple(params))}
        else:
            by_sql = {r[0] for r in conn.exec_driver_sql(sql, tuple(params))}
    return by_sqlalchemy, by_sql


def _pg(sql: str) -> str:
    """`$1`, `$2`, ... as psycopg's `%s` (and a literal `%` doubled)."""
    out, i = [], 0
    while i < len(sql):
        ch = sql[i]
        if ch == "$" and i + 1 < len(sql) and sql[i + 1].isdigit():
            j = i + 1
            while j < len(sql) and sql[j].isdigit():
                j += 1
            out.append("%s")
            i = j
            continue
        out.append("%%" if ch == "%" else ch)
        i += 1
    return "".join(out)


# ---------------------------------------------------------------- FLIP models


def flip_models_db(engine: Engine) -> Table:
    u = uuid_type(engine)
    md = MetaData()
    Table("projects", md, Column("pk", Integer, primary_key=True), Column("id", u, nullable=False, unique=True),
          Column("owner_id", u), Column("deleted", Boolean))
    Table("project_members", md, Column("pk", Integer, primary_key=True), Column("project_id", u), Column("user_id", u))
    models = Table("models", md, Column("pk", Integer, primary_key=True), Column("id", u, nullable=False),
                   Column("owner_id", u), Column("project_id", u))
    md.create_all(engine)
    projects, members = md.tables["projects"], md.tables["project_members"]
    member_sets: list[list[Optional[str]]] = [[], [USERS[0]], [USERS[1]], [None], [USERS[2], USERS[1]]]
    pids = []
    with engine.begin() as conn:
        for n, (owner, deleted, ms) in enumerate(itertools.product([None, *USERS], [None, False, True], member_sets)):
            pid = f"a0000000-0000-4000-8000-{n:012d}"
            pids.append(pid)
            conn.execute(projects.insert().values(pk=n, id=pid, owner_id=owner, deleted=deleted))
            for m in ms:
                conn.execute(members.insert().values(project_id=pid, user_id=m))
        dangling = "d0000000-0000-4000-8000-000000000000"
        project_ids: list[Optional[str]] = [None, dangling, *pids[::3]]
        for n, (owner, project) in enumerate(itertools.product([None, USERS[0], USERS[2]], project_ids)):
            mid = f"e0000000-0000-4000-8000-{n:012d}"
            conn.execute(models.insert().values(pk=n, id=mid, owner_id=owner, project_id=project))
    return models


FLIP_PRINCIPALS: list[Any] = [
    {"id": USERS[0], "roles": ["Researcher"]},
    {"id": USERS[2], "roles": ["Researcher"]},
    {"id": USERS[0], "roles": ["Admin"]},
    None,
]


@pytest.mark.parametrize("principal", FLIP_PRINCIPALS, ids=["researcher-b", "researcher-c", "admin", "anonymous"])
def test_flip_models_through_their_project(engine: Engine, principal: Any) -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "flip.pcl")
    mapping = load("flip-models.mapping.json")
    models = flip_models_db(engine)
    request = {"principal": principal, "action": "access_model"}
    flt = policy.filter(request, mapping=mapping)
    with engine.connect() as conn:
        rows = resources(conn, models, mapping, "pk")
    allowed = {pk for pk, resource in rows.items() if policy.decide({**request, "resource": resource}).allowed}
    by_sqlalchemy, by_sql = selected(engine, models, flt, mapping, "pk")
    assert by_sqlalchemy == allowed
    assert by_sql == allowed
    if principal is not None and principal["roles"] == ["Researcher"]:
        assert flt.kind == "residual"
        assert 0 < len(allowed) < len(rows)


# ----------------------------------------------------------- FlexMeasures assets


def assets_db(engine: Engine) -> Table:
    md = MetaData()
    accounts = Table("accounts", md, Column("pk", Integer, primary_key=True), Column("id", Integer, nullable=False, unique=True),
                     Column("consultancy_account_id", Integer))
    assets = Table("assets", md, Column("pk", Integer, primary_key=True), Column("id", Integer, nullable=False),
                   Column("name", String), Column("account_id", Integer))
    md.create_all(engine)
    with engine.begin() as conn:
        for i, consultancy in enumerate([None, 2, None, 2]):
            conn.execute(accounts.insert().values(pk=i, id=i + 1, consultancy_account_id=consultancy))
        for i, (account, named) in enumerate(itertools.product([None, 1, 2, 3, 4, 9], [True, False])):
            conn.execute(assets.insert().values(pk=i, id=10 + i, name=f"asset {i}" if named else None, account_id=account))
    return assets


def user(uid: int, roles: list[str], account: int) -> dict[str, Any]:
    return {"id": uid, "roles": roles, "account": {"id": account, "roles": []}}


@pytest.mark.parametrize(
    "principal",
    [user(5, [], 3), user(6, ["consultant"], 2), user(7, ["admin"], 1), user(8, ["admin-reader"], 1), user(9, ["account-admin"], 4), None],
    ids=["member", "consultant", "admin", "admin-reader", "account-admin", "anonymous"],
)
def test_flexmeasures_assets_through_their_account(engine: Engine, principal: Any) -> None:
    policy = portcullis.Policy.from_file(REPO / "policies" / "flexmeasures.pcl")
    mapping = load("flexmeasures-assets.mapping.json")
    assets = assets_db(engine)
    request = {"principal": principal, "action": "read", "resource": {"type": "GenericAsset"}, "context": {}}
    flt = policy.filter(request, mapping=mapping)
    with engine.connect() as conn:
        rows = resources(conn, assets, mapping, "pk")
    allowed = {
        pk for pk, resource in rows.items()
        if policy.decide({**request, "resource": {**resource, "type": "GenericAsset"}}).allowed
    }
    by_sqlalchemy, by_sql = selected(engine, assets, flt, mapping, "pk")
    assert by_sqlalchemy == allowed
    assert by_sql == allowed
    if principal is not None and principal["roles"] in ([], ["consultant"]):
        assert flt.kind == "residual"
        assert 0 < len(allowed) < len(rows)
