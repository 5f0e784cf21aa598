"""Policy.filter, Filter.to_sql and portcullis.sqlalchemy against the decision.

For the FLIP, DiracX and flask-rbac bundles (the examples in examples/filters/):
SQLite tables built with SQLAlchemy, generated rows (NULLs and letter case
included), and for every row: the decision on it allows exactly when the row
is in ``select(Model).where(flt.to_sqlalchemy(Model))`` and in the rows the
``to_sql`` clause selects.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any, Optional

import pytest
from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table, create_engine, select
from sqlalchemy.engine import Engine

import portcullis
from portcullis.sqlalchemy import to_sqlalchemy

REPO = Path(__file__).resolve().parents[2]
FILTERS = REPO / "examples" / "filters"


def load(name: str) -> Any:
    return json.loads((FILTERS / name).read_text())


USERS = [
    "b0000000-0000-4000-8000-000000000002",
    "B0000000-0000-4000-8000-000000000002",
    "c0000000-0000-4000-8000-000000000003",
]


@pytest.fixture(scope="module")
def flip() -> portcullis.Policy:
    return portcullis.Policy.from_file(str(REPO / "policies" / "flip.pcl"))


def projects_db() -> tuple[Engine, Table, list[dict[str, Any]]]:
    md = MetaData()
    projects = Table(
        "projects",
        md,
        Column("id", String, primary_key=True),
        Column("owner_id", String, nullable=True),
        Column("deleted", Integer, nullable=True),
    )
    members = Table(
        "project_members",
        md,
        Column("project_id", String, ForeignKey("projects.id")),
        Column("user_id", String, nullable=True),
    )
    engine = create_engine("sqlite://")
    md.create_all(engine)
    rows: list[dict[str, Any]] = []
    member_sets: list[list[Optional[str]]] = [[], [USERS[0]], [USERS[1]], [USERS[2]], [None], [USERS[2], USERS[1]]]
    owners: list[Optional[str]] = [None, *USERS]
    n = 0
    with engine.begin() as conn:
        for owner, deleted, ms in itertools.product(owners, [None, 0, 1], member_sets):
            n += 1
            pid = f"a0000000-0000-4000-8000-{n:012d}"
            conn.execute(projects.insert().values(id=pid, owner_id=owner, deleted=deleted))
            for m in ms:
                conn.execute(members.insert().values(project_id=pid, user_id=m))
            project: dict[str, Any] = {"id": pid, "owner_id": owner, "members": ms}
            if deleted is not None:
                project["deleted"] = bool(deleted)
            rows.append({"id": pid, "resource": {"project": project}})
    return engine, projects, rows


FLIP_PRINCIPALS: list[Any] = [
    {"id": USERS[0], "roles": ["Researcher"]},
    {"id": USERS[2], "roles": ["Researcher"]},
    {"id": USERS[0], "roles": ["Admin"]},
    None,
]


@pytest.mark.parametrize("principal", FLIP_PRINCIPALS)
def test_flip_projects_filter_is_the_decision(flip: portcullis.Policy, principal: Any) -> None:
    engine, projects, rows = projects_db()
    mapping = load("flip-projects.mapping.json")
    request = {"principal": principal, "action": "access_project"}
    flt = flip.filter(request, mapping=mapping)
    assert flt.kind in ("always", "never", "residual")
    assert flt.to_dict()["version"] == 1
    clause, params = flt.to_sql(mapping)
    with engine.connect() as conn:
        by_sqlalchemy = {r.id for r in conn.execute(select(projects).where(flt.to_sqlalchemy(projects)))}
    by_sql = sql_ids(engine, "projects", clause, params)
    allowed = {
        row["id"]
        for row in rows
        if flip.decide({**request, "resource": row["resource"]}).allowed
    }
    assert by_sqlalchemy == allowed
    assert by_sql == allowed
    if principal is not None and "Researcher" in principal["roles"]:
        assert flt.kind == "residual"
        assert 0 < len(allowed) < len(rows)


def sql_ids(engine: Engine, table: str, clause: str, params: list[Any]) -> set[Any]:
    with engine.connect() as conn:
        return {r[0] for r in conn.exec_driver_sql(f'SELECT id FROM "{table}" WHERE {clause}', tuple(params))}


def test_flip_to_sql_matches(flip: portcullis.Policy) -> None:
    engine, _, rows = projects_db()
    mapping = load("flip-projects.mapping.json")
    request = {"principal": FLIP_PRINCIPALS[0], "action": "access_project"}
    flt = flip.filter(request, mapping=str(FILTERS / "flip-projects.mapping.json"))
    clause, params = flt.to_sql(mapping)
    allowed = {r["id"] for r in rows if flip.decide({**request, "resource": r["resource"]}).allowed}
    assert sql_ids(engine, "projects", clause, params) == allowed


def test_flip_anonymous_is_never_with_refusal(flip: portcullis.Policy) -> None:
    flt = flip.filter({"principal": None, "action": "access_project"})
    assert flt.kind == "never"
    assert flt.to_dict()["condition"] is False


@pytest.mark.parametrize("code", ["PCL600", "PCL601", "PCL602", "PCL603", "PCL604"])
def test_refusal_raises_filter_error(code: str) -> None:
    """The diagnostics corpus's filter cases raise with their code."""
    folder = REPO / "tests" / "diagnostics" / "filter"
    (pcl,) = folder.glob(f"{code}-*.pcl")
    stem = pcl.with_suffix("")
    policy = portcullis.Policy.from_file(str(pcl))
    request = json.loads(Path(f"{stem}.request.json").read_text())
    data_path = Path(f"{stem}.data.json")
    mapping_path = Path(f"{stem}.mapping.json")
    data = json.loads(data_path.read_text()) if data_path.exists() else None
    mapping = json.loads(mapping_path.read_text()) if mapping_path.exists() else None
    expected = json.loads(Path(f"{stem}.json").read_text())["findings"][0]
    with pytest.raises(portcullis.FilterError) as info:
        flt = policy.filter(request, data=data, mapping=mapping)
        assert mapping is not None  # only rendering is left to refuse
        flt.to_sql(mapping)
    assert info.value.code == code
    assert info.value.message == expected["message"]
    assert info.value.help == expected.get("help")


def test_bad_mapping_raises_filter_error(flip: portcullis.Policy) -> None:
    with pytest.raises(portcullis.FilterError) as info:
        flip.filter({"principal": None, "action": "access_project"}, mapping={"version": 2})
    assert info.value.code == "PCL602"


def test_unknown_op_raises() -> None:
    class Fake:
        mapping = {"version": 1, "table": "t", "resource": {"a": {"column": "a", "type": "int"}}}

        def to_dict(self) -> dict[str, Any]:
            return {"version": 1, "allows": [], "condition": {"op": "nope", "path": ["a"]}}

    t = Table("t", MetaData(), Column("a", Integer, primary_key=True))
    with pytest.raises(portcullis.FilterError):
        to_sqlalchemy(Fake(), t)  # type: ignore[arg-type]


def products_db() -> tuple[Engine, Table, list[dict[str, Any]]]:
    md = MetaData()
    products = Table(
        "products",
        md,
        Column("id", Integer, primary_key=True),
        Column("account_id", Integer, nullable=True),
        Column("owner", String, nullable=True),
        Column("name", String, nullable=True),
    )
    engine = create_engine("sqlite://")
    md.create_all(engine)
    rows = []
    with engine.begin() as conn:
        for i, (acc, owner) in enumerate(itertools.product([None, 1, 2, 3], [None, "owner", "Owner", "other"])):
            conn.execute(products.insert().values(id=i, account_id=acc, owner=owner, name=f"p{i}"))
            rows.append({"id": i, "account_id": acc, "owner": owner, "name": f"p{i}"})
    return engine, products, rows


def test_flask_rbac_products_rows_follow_the_row_filters() -> None:
    policy = portcullis.Policy.from_file(str(REPO / "policies" / "flask-rbac.pcl"))
    data = json.loads((REPO / "examples" / "data" / "flask-rbac.json").read_text())
    mapping = load("flask-rbac-products.mapping.json")
    base = load("flask-rbac-products.request.json")
    engine, products, rows = products_db()
    headers_variants = [
        base["context"]["headers"],
        {k: v for k, v in base["context"]["headers"].items() if k != "x-auth-user"},
        {**base["context"]["headers"], "x-auth-account": "no-such-account"},
    ]
    for headers in headers_variants:
        request = {**base, "context": {"headers": headers}}
        flt = policy.filter(request, data=data, mapping=mapping)
        decision = policy.decide(request, data=data)
        assert (flt.kind == "always") == decision.allowed
        expected: set[Any] = set()
        if decision.allowed:
            f = decision.filters or {}
            expected = {r["id"] for r in rows if all(r[k] == v for k, v in f.items())}
        with engine.connect() as conn:
            got = {r.id for r in conn.execute(select(products).where(flt.to_sqlalchemy(products)))}
        assert got == expected
        clause, params = flt.to_sql(mapping)
        assert sql_ids(engine, "products", clause, params) == expected


DIRACX_PRINCIPALS: list[dict[str, Any]] = [
    {"preferred_username": "alice", "dirac_group": "lhcb_user", "vo": "lhcb", "properties": ["NormalUser"]},
    {"preferred_username": "alice", "dirac_group": "lhcb_user", "vo": "lhcb", "properties": ["NormalUser", "JobSharing"]},
    {"preferred_username": "bob", "dirac_group": "lhcb_admin", "vo": "lhcb", "properties": ["JobAdministrator"]},
    {"preferred_username": "carol", "dirac_group": "lhcb_user", "vo": "lhcb", "properties": []},
]


@pytest.mark.parametrize("principal", DIRACX_PRINCIPALS)
def test_diracx_jobs_filter_is_the_decision(principal: dict[str, Any]) -> None:
    policy = portcullis.Policy.from_file(str(REPO / "policies" / "diracx" / "jobs.pcl"))
    mapping = load("diracx-jobs.mapping.json")
    md = MetaData()
    jobs = Table(
        "jobs",
        md,
        Column("job_id", Integer, primary_key=True),
        Column("owner", String, nullable=True),
        Column("owner_group", String, nullable=True),
        Column("vo", String, nullable=True),
    )
    engine = create_engine("sqlite://")
    md.create_all(engine)
    rows = []
    values = itertools.product([None, "alice", "Alice", "bob"], [None, "lhcb_user", "lhcb_admin"], [None, "lhcb", "LHCb", "belle"])
    with engine.begin() as conn:
        for i, (owner, group, vo) in enumerate(values):
            conn.execute(jobs.insert().values(job_id=i, owner=owner, owner_group=group, vo=vo))
            rows.append({"job_id": i, "owner": owner, "owner_group": group, "vo": vo})
    request = {"principal": principal, "action": "jobs.list"}
    flt = policy.filter(request, mapping=mapping)
    allowed = {r["job_id"] for r in rows if policy.decide({**request, "resource": r}).allowed}
    with engine.connect() as conn:
        got = {r.job_id for r in conn.execute(select(jobs).where(flt.to_sqlalchemy(jobs)))}
        clause, params = flt.to_sql(mapping)
        by_sql = {r[0] for r in conn.exec_driver_sql(f'SELECT job_id FROM "jobs" WHERE {clause}', tuple(params))}
    assert got == by_sql == allowed
    if "NormalUser" in principal["properties"]:
        assert 0 < len(allowed) < len(rows)


def test_text_tests_are_exact_on_sqlite() -> None:
    """`like` and the string tests: case counts, and `%`, `_`, `?`, `[` in
    the pattern stand for themselves."""
    policy = portcullis.Policy.from_source(
        "actions: read\n"
        "policy p for read {\n"
        '  allow when resource.name like "a*_%"\n'
        '  allow when starts_with(resource.name, "[x?")\n'
        '  allow when ends_with(resource.name, "Z")\n'
        "}\n"
    )
    mapping = {"version": 1, "table": "items", "resource": {"name": {"column": "name", "type": "string"}}}
    md = MetaData()
    items = Table("items", md, Column("id", Integer, primary_key=True), Column("name", String, nullable=True))
    engine = create_engine("sqlite://")
    md.create_all(engine)
    names = [None, "", "a_%", "ab_%", "A_%", "a%%", "abc", "[x?y", "[xay", "xz", "xZ", "%Z", "a_"]
    with engine.begin() as conn:
        for i, n in enumerate(names):
            conn.execute(items.insert().values(id=i, name=n))
    flt = policy.filter({"principal": None, "action": "read"}, mapping=mapping)
    assert flt.kind == "residual"
    allowed = {i for i, n in enumerate(names) if policy.decide({"principal": None, "action": "read", "resource": {"name": n}}).allowed}
    with engine.connect() as conn:
        got = {r.id for r in conn.execute(select(items).where(flt.to_sqlalchemy(items)))}
        clause, params = flt.to_sql(mapping)
        by_sql = {r[0] for r in conn.exec_driver_sql(f'SELECT id FROM "items" WHERE {clause}', tuple(params))}
    assert got == by_sql == allowed
    assert allowed == {2, 3, 7, 10, 11}


def test_to_sqlalchemy_refuses_an_unmapped_row_filter() -> None:
    folder = REPO / "tests" / "diagnostics" / "filter"
    policy = portcullis.Policy.from_file(str(folder / "PCL604-filter-unmappable.pcl"))
    mapping = json.loads((folder / "PCL604-filter-unmappable.mapping.json").read_text())
    request = json.loads((folder / "PCL604-filter-unmappable.request.json").read_text())
    flt = policy.filter(request, mapping=mapping)
    rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("owner", String))
    with pytest.raises(portcullis.FilterError) as info:
        flt.to_sqlalchemy(rows)
    assert info.value.code == "PCL604"
