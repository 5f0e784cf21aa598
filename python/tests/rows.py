"""Rows as resources: what a row of a mapped table is, read straight from the
database by the mapping's rules (docs/filtering.md, "The mapping"), with no
filter involved. The filter tests decide each row as this resource and
compare with the rows the filter selects."""

from __future__ import annotations

from typing import Any, Mapping

from sqlalchemy import MetaData, Table, and_, select
from sqlalchemy.engine import Connection

_ABSENT = object()


def _scalar(value: Any, spec: Mapping[str, Any]) -> Any:
    if value is None:
        null = spec.get("null", "null")
        if null == "never":
            raise AssertionError(f"NULL in the NOT NULL column {spec['column']}")
        return _ABSENT if null == "absent" else None
    if spec["type"] == "bool":
        return bool(value)
    if spec["type"] == "uuid":
        return str(value)
    return value


def _record(conn: Connection, md: MetaData, table: Table, row: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, spec in fields.items():
        value = _field(conn, md, table, row, spec)
        if value is not _ABSENT:
            out[key] = value
    return out


def _joined(conn: Connection, md: MetaData, table: Table, row: Any, join: Mapping[str, Any]) -> list[Any]:
    other = md.tables[join["table"]]
    conds = []
    for theirs, ours in join["on"].items():
        mine = row._mapping[table.c[ours]]
        if mine is None:
            return []  # NULL joins nothing
        conds.append(other.c[theirs] == mine)
    return list(conn.execute(select(other).where(and_(*conds))))


def _field(conn: Connection, md: MetaData, table: Table, row: Any, spec: Mapping[str, Any]) -> Any:
    if "column" in spec:
        return _scalar(row._mapping[table.c[spec["column"]]], spec)
    if "one" in spec:
        found = _joined(conn, md, table, row, spec["one"])
        assert len(found) <= 1, "a `one` join must be by a key"
        if not found:
            return _ABSENT if spec.get("missing", "null") == "absent" else None
        other = md.tables[spec["one"]["table"]]
        return _record(conn, md, other, found[0], spec.get("fields", {}))
    if "many" in spec:
        other = md.tables[spec["many"]["table"]]
        element = spec.get("element", {})
        items = []
        for r in _joined(conn, md, table, row, spec["many"]):
            if "column" in element:
                v = r._mapping[other.c[element["column"]]]
                items.append(None if v is None else _scalar(v, element))
            else:
                items.append(_record(conn, md, other, r, element.get("fields", {})))
        return items
    return _record(conn, md, table, row, spec["fields"])


def resources(conn: Connection, table: Table, mapping: Mapping[str, Any], key: str) -> dict[Any, dict[str, Any]]:
    """Every row of ``table`` as the resource the mapping makes of it, by
    the row's ``key`` column."""
    md = table.metadata
    return {
        row._mapping[table.c[key]]: _record(conn, md, table, row, mapping["resource"])
        for row in conn.execute(select(table))
    }
