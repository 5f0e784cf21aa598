"""Filters as SQLAlchemy conditions: ``select(Model).where(to_sqlalchemy(f, Model))``.

:func:`to_sqlalchemy` reads the residual form (version 1, ``docs/filtering.md``)
of a :class:`portcullis.Filter` and the mapping it was computed with, and
builds a ``ColumnElement`` over the model's table that holds of a row exactly
when the decision on that row allows (with the deciding statement's row
filters). Every atom is two-valued (a NULL column makes it false, never
unknown), so ``not`` keeps its meaning in SQL. Whatever it cannot render
exactly raises :class:`portcullis.FilterError` (code ``PCL604``); it never
renders a wider condition.

Supported: ``and``/``or``/``not``, ``type``, ``eq``, ``in``, ``lt``/``le``/
``gt``/``ge``, ``eq_path``, ``like``/``starts_with``/``ends_with``/
``contains`` (SQLite ``GLOB``, PostgreSQL ``LIKE`` under ``COLLATE "C"``),
``is_uuid``, ``uuid_eq``, ``uuid_eq_path``, and ``exists`` over a ``many``
relation whose element is a column. Columns are those of the row's own table
(``column`` and ``fields``) and of the rows ``one`` relations join: a path
through a joined row is a correlated ``EXISTS`` (the joined row is there and
the test holds of it), or ``NOT EXISTS`` where a missing row (``null`` or
absent, as the mapping's ``missing`` says) is what the test asks for, as the
SQL renderer writes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Union

from sqlalchemy import ColumnElement, Table, Text, and_, cast, exists, false, func, not_, or_, select, true
from sqlalchemy.sql.expression import ColumnClause

from ._portcullis import Filter, FilterError

__all__ = ["to_sqlalchemy"]

_JSON_TYPE = {"int": "int", "string": "string", "uuid": "string", "bool": "bool"}
_COLLATION = {"sqlite": "BINARY", "postgresql": "C"}


def _refuse(message: str) -> FilterError:
    err = FilterError(f"PCL604: {message}")
    err.code = "PCL604"
    err.name = "filter-unmappable"
    err.message = message
    err.help = 'see docs/filtering.md, "SQLAlchemy": what the Python renderer can say'
    return err


@dataclass(frozen=True)
class _Column:
    col: Any
    type: str
    null: str


@dataclass(frozen=True)
class _Many:
    table: Any  # an alias of the related table, so a table may join itself
    parent: Any  # the table (or alias) of the row the list hangs off
    on: Mapping[str, str]
    element: Optional[_Column]


@dataclass(frozen=True)
class _One:
    """A record from the one row of ``table`` that joins the row."""

    table: Any  # the related Table; each path through it takes a new alias
    on: Mapping[str, str]
    fields: Mapping[str, Any]  # the mapping's `fields`, built per alias
    missing: str  # "null" or "absent": what the field is when no row joins


@dataclass(frozen=True)
class _Hop:
    """One joined row on the way along a path."""

    alias: Any
    parent: Any
    on: Mapping[str, str]
    missing: frozenset[str]  # the types the path has when no row joins


_Field = Union[_Column, _Many, "dict[str, Any]"]


class _Renderer:
    def __init__(self, table: Table, resource: Mapping[str, Any], dialect: str) -> None:
        if dialect not in _COLLATION:
            raise ValueError(f"unknown dialect {dialect!r}; expected 'sqlite' or 'postgresql'")
        self.table = table
        self.dialect = dialect
        self.fields: dict[str, Any] = self._fields(table, resource)
        self.vars: dict[str, _Column] = {}

    def _column(self, table: Any, spec: Mapping[str, Any]) -> _Column:
        name = spec["column"]
        if name not in table.c:
            raise _refuse(f"the column `{name}` is not in the table `{table.name}`")
        ty = spec.get("type")
        if ty not in _JSON_TYPE:
            raise _refuse(f"the column `{name}` has an unknown type {ty!r}")
        return _Column(table.c[name], ty, spec.get("null", "null"))

    def _fields(self, table: Table, specs: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, spec in specs.items():
            if "column" in spec:
                out[key] = self._column(table, spec)
            elif "many" in spec:
                other_name = spec["many"]["table"]
                other = self.table.metadata.tables.get(other_name)
                if other is None:
                    raise _refuse(f"the table `{other_name}` is not in the model's metadata")
                elem = spec.get("element", {})
                alias = other.alias()
                out[key] = _Many(
                    alias,
                    table,
                    dict(spec["many"]["on"]),
                    self._column(alias, elem) if "column" in elem else None,
                )
            elif "one" in spec:
                other_name = spec["one"]["table"]
                other = self.table.metadata.tables.get(other_name)
                if other is None:
                    raise _refuse(f"the table `{other_name}` is not in the model's metadata")
                missing = spec.get("missing", "null")
                if missing not in ("null", "absent"):
                    raise _refuse(f"the `one` field `{key}` has an unknown `missing` {missing!r}")
                out[key] = _One(other, dict(spec["one"]["on"]), spec.get("fields", {}), missing)
            elif "fields" in spec:
                out[key] = self._fields(table, spec["fields"])
            else:
                raise _refuse(f"the mapping field `{key}` is not understood")
        return out

    def _at(self, atom: Mapping[str, Any], key: str = "path", var_key: str = "var") -> tuple[list[_Hop], Any]:
        """The joined rows on the way along the atom's path, and what it
        ends at: a column, a list, a record (a dict), or None (absent)."""
        var = atom.get(var_key)
        path: Sequence[str] = atom.get(key, [])
        if var is not None:
            if var not in self.vars:
                raise _refuse(f"unknown variable {var!r}")
            if path:
                raise _refuse("a path into a list element's fields")
            return [], self.vars[var]
        hops: list[_Hop] = []
        node: Any = self.fields
        parent: Any = self.table
        for i, step in enumerate(path):
            if not isinstance(node, dict) or step not in node:
                return hops, None  # not mapped, or under a scalar: absent from every row
            node = node[step]
            if isinstance(node, _One):
                alias = node.table.alias()
                last = i + 1 == len(path)
                # Reading through a missing row finds nothing: absent.
                missing = frozenset([node.missing]) if last else frozenset(["absent"])
                hops.append(_Hop(alias, parent, node.on, missing))
                parent = alias
                node = self._fields(alias, node.fields)
        return hops, node

    def _through(self, hops: Sequence[_Hop], allowed: frozenset[str], inner: ColumnElement[bool]) -> ColumnElement[bool]:
        """``inner`` where every joined row on the way exists; also true
        where one is missing and the path's type then is among ``allowed``."""
        if not hops:
            return inner
        h = hops[0]
        deeper = self._through(hops[1:], allowed, inner)
        joins = [h.alias.c[their] == h.parent.c[ours] for their, ours in h.on.items()]
        found: ColumnElement[bool] = exists(select(1).select_from(h.alias).where(*joins, deeper))
        if h.missing & allowed:
            return or_(found, not_(exists(select(1).select_from(h.alias).where(*joins))))
        return found

    def cond(self, c: Any) -> ColumnElement[bool]:
        if c is True:
            return true()
        if c is False:
            return false()
        if not isinstance(c, dict):
            raise _refuse(f"not a condition: {c!r}")
        if "and" in c:
            return and_(true(), *[self.cond(x) for x in c["and"]])
        if "or" in c:
            return or_(false(), *[self.cond(x) for x in c["or"]])
        if "not" in c:
            return not_(self.cond(c["not"]))
        return self.atom(c)

    def _str(self, c: _Column) -> Any:
        """The column as text: a PostgreSQL `uuid` column is cast (it takes
        neither a collation nor `lower`), as the SQL renderer does."""
        if self.dialect == "postgresql" and c.type == "uuid":
            return cast(c.col, Text)
        return c.col

    def _text(self, col: Any) -> Any:
        """Text compared byte for byte, whatever the column's collation."""
        return col.collate(_COLLATION[self.dialect])

    def _present(self, c: _Column) -> ColumnElement[bool]:
        return true() if c.null == "never" else c.col.isnot(None)

    def _eq(self, c: _Column, value: Any) -> ColumnElement[bool]:
        if isinstance(value, bool):
            if c.type != "bool":
                return false()
            return and_(self._present(c), c.col == value)
        if isinstance(value, (int, float)):
            if c.type != "int":
                return false()
            if isinstance(value, float):
                if not value.is_integer():
                    return false()
                value = int(value)
            return and_(self._present(c), c.col == value)
        if isinstance(value, str):
            if c.type not in ("string", "uuid"):
                return false()
            return and_(self._present(c), self._text(self._str(c)) == value)
        raise _refuse(f"an `eq` with the value {value!r}")

    def atom(self, a: Mapping[str, Any]) -> ColumnElement[bool]:
        op: str = str(a.get("op"))
        hops, node = self._at(a)
        if node is None:
            # Absent from every row: only `type` with `absent` holds.
            return true() if op == "type" and "absent" in a.get("types", []) else false()
        if op == "type":
            return self._through(hops, frozenset(a["types"]), self._type(node, set(a["types"])))
        if op in ("eq_path", "uuid_eq_path"):
            other_hops, other = self._at(a, "other", "other_var")
            if other is None:
                return false()
            if not isinstance(node, _Column) or not isinstance(other, _Column):
                raise _refuse(f"`{op}` with a path that is not a column")
            inner = self._through(other_hops, frozenset(), self._pair(op, node, other))
            return self._through(hops, frozenset(), inner)
        if op == "exists":
            return self._through(hops, frozenset(), self._exists(a, node))
        if not isinstance(node, _Column):
            raise _refuse(f"the atom `{op}` on a path that is not a column")
        return self._through(hops, frozenset(), self._column_atom(op, node, a))

    def _type(self, node: Any, types: set[str]) -> ColumnElement[bool]:
        if isinstance(node, _Many):
            return true() if "list" in types else false()
        if isinstance(node, dict):
            return true() if "record" in types else false()
        c: _Column = node
        when_null = (c.null == "null" and "null" in types) or (c.null == "absent" and "absent" in types)
        when_set = _JSON_TYPE[c.type] in types
        if c.null == "never":
            when_null = False
        if when_null and when_set:
            return true()
        if when_null:
            isnull: ColumnElement[bool] = c.col.is_(None)
            return isnull
        if when_set:
            return self._present(c)
        return false()

    def _pair(self, op: str, c: _Column, other: _Column) -> ColumnElement[bool]:
        both = and_(self._present(c), self._present(other))
        if op == "uuid_eq_path":
            if c.type != "uuid" or other.type != "uuid":
                raise _refuse("`uuid_eq_path` on columns not declared `uuid`")
            return and_(both, self._text(func.lower(self._str(c))) == func.lower(self._str(other)))
        nulls: ColumnElement[bool] = false()
        if c.null == "null" and other.null == "null":
            nulls = and_(c.col.is_(None), other.col.is_(None))
        if _JSON_TYPE[c.type] != _JSON_TYPE[other.type]:
            return nulls
        if _JSON_TYPE[c.type] == "string":
            return or_(nulls, and_(both, self._text(self._str(c)) == self._str(other)))
        return or_(nulls, and_(both, c.col == other.col))

    def _column_atom(self, op: str, c: _Column, a: Mapping[str, Any]) -> ColumnElement[bool]:
        if op == "eq":
            return self._eq(c, a["value"])
        if op == "in":
            return or_(false(), *[self._eq(c, v) for v in a["values"]])
        if op in ("lt", "le", "gt", "ge"):
            value = a["value"]
            if isinstance(value, bool):
                return false()
            if isinstance(value, (int, float)) and c.type == "int":
                left = c.col
            elif isinstance(value, str) and c.type in ("string", "uuid"):
                left = self._text(self._str(c))
            else:
                return false()
            cmp = {"lt": left < value, "le": left <= value, "gt": left > value, "ge": left >= value}
            return and_(self._present(c), cmp[op])
        if op in ("like", "starts_with", "ends_with", "contains"):
            if c.type not in ("string", "uuid"):
                return false()
            text = a["glob"] if op == "like" else a["value"]
            return and_(self._present(c), self._match(self._str(c), op, text))
        if op == "is_uuid":
            if c.type == "uuid":
                return self._present(c)
            raise _refuse("`is_uuid` on a column not declared `uuid`")
        if op == "uuid_eq":
            if c.type != "uuid":
                raise _refuse("`uuid_eq` on a column not declared `uuid`")
            return and_(self._present(c), self._text(func.lower(self._str(c))) == str(a["value"]).lower())
        raise _refuse(f"the atom `{op}` is not known")

    def _match(self, col: Any, op: str, text: str) -> ColumnElement[bool]:
        if self.dialect == "sqlite":
            esc = "".join(
                {"*": "[*]", "?": "[?]", "[": "[[]"}.get(ch, ch) if not (ch == "*" and op == "like") else "*"
                for ch in text
            )
            pattern = {"like": esc, "starts_with": esc + "*", "ends_with": "*" + esc, "contains": "*" + esc + "*"}[op]
            return col.op("GLOB")(pattern)  # type: ignore[no-any-return]
        esc = "".join(
            "%" if (ch == "*" and op == "like") else ("\\" + ch if ch in "%_\\" else ch) for ch in text
        )
        pattern = {"like": esc, "starts_with": esc + "%", "ends_with": "%" + esc, "contains": "%" + esc + "%"}[op]
        return col.collate("C").like(pattern, escape="\\")  # type: ignore[no-any-return]

    def _exists(self, a: Mapping[str, Any], node: Any) -> ColumnElement[bool]:
        if not isinstance(node, _Many):
            raise _refuse("`exists` over a path that is not a `many` relation")
        if node.element is None:
            raise _refuse("`exists` over a list of records")
        name = a["as"]
        self.vars[name] = node.element
        try:
            where = self.cond(a["where"])
        finally:
            del self.vars[name]
        joins = [node.table.c[their] == node.parent.c[ours] for their, ours in node.on.items()]
        return exists(select(1).select_from(node.table).where(*joins, where))

    def row_filters(self, filters: Mapping[str, Any]) -> ColumnElement[bool]:
        parts: list[ColumnElement[bool]] = []
        for key, value in filters.items():
            node = self.fields.get(key)
            if not isinstance(node, _Column):
                raise _refuse(f"the row filter `{key}` names no column of the mapping")
            parts.append(node.col.is_(None) if value is None else self._eq(node, value))
        return and_(true(), *parts)


def _load_mapping(mapping: Any) -> Mapping[str, Any]:
    if isinstance(mapping, (str, os.PathLike)):
        with open(mapping, encoding="utf-8") as f:
            loaded: Mapping[str, Any] = json.load(f)
            return loaded
    if isinstance(mapping, Mapping):
        return mapping
    raise TypeError(f"a mapping is a dict or a path, not {type(mapping).__name__}")


def to_sqlalchemy(
    flt: Filter, model: Any, mapping: Any = None, dialect: str = "sqlite"
) -> ColumnElement[bool]:
    """The condition of ``flt`` over ``model`` (a declarative class or a
    ``Table``), with each deciding statement's row filters. ``mapping`` (a
    dict or a JSON path) defaults to the one ``flt`` was computed with.
    Raises :class:`FilterError` for what cannot be rendered exactly."""
    table: Table = getattr(model, "__table__", model)
    if not isinstance(table, Table):
        raise TypeError("model must be a mapped class or a Table")
    if mapping is None:
        mapping = flt.mapping
    if mapping is None:
        raise _refuse("rendering needs the mapping (pass mapping=, or give it to Policy.filter)")
    m = _load_mapping(mapping)
    if m.get("version") != 1:
        raise _refuse(f"mapping version {m.get('version')!r}; expected 1")
    if m.get("table") != table.name:
        raise _refuse(f"the mapping is of the table `{m.get('table')}`, the model of `{table.name}`")
    doc = flt.to_dict()
    if doc.get("version") != 1:
        raise _refuse(f"residual version {doc.get('version')!r}; expected 1")
    r = _Renderer(table, m.get("resource", {}), dialect)
    allows = doc.get("allows", [])
    if any("filters" in a for a in allows):
        return or_(
            false(),
            *[
                and_(r.cond(a["when"]), r.row_filters(a.get("filters") or {}))
                for a in allows
            ],
        )
    return r.cond(doc["condition"])
