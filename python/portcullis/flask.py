"""Portcullis for Flask: a decorator that decides before the view runs.

In the style of flask-rbac's ``@rbac.allow("users.read")``::

    from portcullis.flask import Guard, scoped

    guard = Guard(policy, data=load_data)

    @app.get("/products")
    @guard.allow("products.list")
    def list_products(decision):
        return [p.as_dict() for p in db.session.scalars(scoped(select(Product), decision))]

The decorator builds the request from the Flask request: ``principal`` from
the guard's ``principal`` callable (None by default), ``resource`` from the
callable the view names (called with the view arguments; None by default),
and ``context`` from the guard's ``context`` callable, by default
``{"headers": {...}}`` with header names in lower case. A decision that is
not allow aborts with its status (401 or 403) and its reason as the
description; an allow hands the view the decision (keyword ``decision``)
and leaves it in ``flask.g.portcullis_decision``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Callable, Optional, Protocol, TypeVar, Union, cast

import flask

from . import Data, Decision, Policy

__all__ = ["Guard", "request_headers", "scoped"]

F = TypeVar("F", bound=Callable[..., Any])

DataSource = Union[Data, Mapping[str, object], Callable[[], Union[Data, Mapping[str, object], None]], None]


def request_headers() -> dict[str, str]:
    """The current request's headers, names in lower case. A header sent
    more than once is joined with ``", "`` (as HTTP allows), so a second
    copy can never silently replace the first."""
    headers: dict[str, str] = {}
    for name, value in flask.request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _default_context() -> dict[str, object]:
    return {"headers": request_headers()}


class Guard:
    """Decides requests of one Flask app against one policy.

    ``data`` is a :class:`portcullis.Data`, a mapping, or a callable that
    returns either (called on every request, for data read from the
    database). ``principal`` and ``context`` are callables of no arguments
    that read the current request. Views get the decision as the keyword
    ``decision_arg`` (``decision``; None passes nothing, the decision is
    still in ``flask.g.portcullis_decision``).
    """

    def __init__(
        self,
        policy: Policy,
        *,
        data: DataSource = None,
        principal: Optional[Callable[[], object]] = None,
        context: Optional[Callable[[], Mapping[str, object]]] = None,
        decision_arg: Optional[str] = "decision",
    ) -> None:
        self.policy = policy
        self._data = data
        self._principal = principal
        self._context = context or _default_context
        self.decision_arg = decision_arg

    def data(self) -> Union[Data, Mapping[str, object], None]:
        """The data for the current request."""
        if callable(self._data):
            return self._data()
        return self._data

    def decide(self, action: str, resource: object = None) -> Decision:
        """Decides ``action`` on ``resource`` for the current request."""
        request = {
            "principal": self._principal() if self._principal else None,
            "action": action,
            "resource": resource,
            "context": self._context(),
        }
        return self.policy.decide(request, self.data())

    def allow(
        self,
        action: str,
        *,
        resource: Optional[Callable[..., object]] = None,
    ) -> Callable[[F], F]:
        """Decorates a view: decide ``action`` first, abort with 401 or 403
        and the reason unless allowed, and pass the decision to the view.

        ``resource`` is called with the view's arguments and returns the
        resource (a mapping, or None); by default the resource is None.
        """

        def wrap(view: F) -> F:
            @functools.wraps(view)
            def guarded(*args: Any, **kwargs: Any) -> Any:
                thing = resource(**kwargs) if resource is not None else None
                decision = self.decide(action, thing)
                flask.g.portcullis_decision = decision
                if not decision.allowed:
                    flask.abort(decision.status, description=decision.reason)
                if self.decision_arg is not None:
                    kwargs[self.decision_arg] = decision
                return view(*args, **kwargs)

            return cast(F, guarded)

        return wrap


class SupportsFilterBy(Protocol):
    """A query with ``filter_by`` (SQLAlchemy's ``Select`` and ``Query``)."""

    def filter_by(self, **kwargs: Any) -> Any: ...


Q = TypeVar("Q", bound=SupportsFilterBy)


def scoped(query: Q, decision: Decision) -> Q:
    """Scopes a query by the decision's row filters, as flask-rbac's
    ``Model.filtered(subject)`` does: ``query.filter_by(**decision.filters)``.

    Refuses (``PermissionError``) a decision that is not allow, so a
    forgotten check can never list rows. A decision without filters leaves
    the query as it is: the policy did not scope it.
    """
    if not decision.allowed:
        raise PermissionError(f"cannot scope a query by a {decision.decision} decision: {decision.reason}")
    filters = decision.filters
    if filters is None:
        return query
    if not isinstance(filters, dict):
        raise TypeError(f"the decision's filters are not an object of column to value: {filters!r}")
    return cast(Q, query.filter_by(**filters))
