"""Portcullis for FastAPI: a dependency that decides before the route runs.

In the style of DiracX's and FLIP's access-policy dependencies::

    from portcullis.fastapi import Guard

    guard = Guard(policy, principal=current_user)

    @app.get("/projects/{project_id}")
    async def read_project(
        project_id: str,
        decision: Decision = Depends(guard.require("access_project", resource=project_resource)),
    ) -> dict[str, object]:
        ...

``principal`` and ``resource`` are FastAPI dependencies themselves (they
may take path parameters, headers, other dependencies); ``context`` is a
callable of the Starlette request, by default ``{"headers": {...}}`` with
header names in lower case (as ASGI delivers them). A decision that is not
allow raises ``HTTPException`` with its status (401, with
``WWW-Authenticate: Bearer``, or 403) and its reason as the detail; an allow
is the dependency's value.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, Callable, Optional, Union

from fastapi import Depends, HTTPException, Request

from . import Data, Decision, Policy

__all__ = ["Guard", "request_headers"]

DataSource = Union[Data, Mapping[str, object], Callable[[], Union[Data, Mapping[str, object], None]], None]


def request_headers(request: Request) -> dict[str, str]:
    """The request's headers, names in lower case; a header sent more than
    once is joined with ``", "``."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def _none() -> None:
    return None


def _default_context(request: Request) -> Mapping[str, object]:
    return {"headers": request_headers(request)}


class Guard:
    """Decides requests of one FastAPI app against one policy.

    ``data`` is a :class:`portcullis.Data`, a mapping, or a callable of no
    arguments returning either (called on every request).
    """

    def __init__(
        self,
        policy: Policy,
        *,
        data: DataSource = None,
        principal: Optional[Callable[..., Any]] = None,
        context: Optional[Callable[[Request], Mapping[str, object]]] = None,
    ) -> None:
        self.policy = policy
        self._data = data
        self._principal = principal or _none
        self._context = context or _default_context

    def data(self) -> Union[Data, Mapping[str, object], None]:
        """The data for the current request."""
        if callable(self._data):
            return self._data()
        return self._data

    def decide(self, request: Request, action: str, principal: object, resource: object) -> Decision:
        """Decides one request; raises nothing."""
        return self.policy.decide(
            {
                "principal": principal,
                "action": action,
                "resource": resource,
                "context": self._context(request),
            },
            self.data(),
        )

    def require(
        self,
        action: str,
        *,
        resource: Optional[Callable[..., Any]] = None,
    ) -> Callable[..., Awaitable[Decision]]:
        """A dependency for ``Depends(...)``: decides ``action`` and returns
        the decision when it allows, raises ``HTTPException`` otherwise."""

        async def dependency(
            request: Request,
            principal: Any = Depends(self._principal),
            thing: Any = Depends(resource or _none),
        ) -> Decision:
            decision = self.decide(request, action, principal, thing)
            request.state.portcullis_decision = decision
            if decision.allowed:
                return decision
            if decision.status == 401:
                raise HTTPException(status_code=401, detail=decision.reason, headers={"WWW-Authenticate": "Bearer"})
            raise HTTPException(status_code=decision.status, detail=decision.reason)

        return dependency
