from collections.abc import Iterable, Mapping
from os import PathLike
from typing import Any, Literal, Optional, Union, final
from sqlalchemy import ColumnElement

__version__: str

DataArg = Union["Data", Mapping[str, object], None]

@final
class Diagnostic:
    """One finding of the compiler or linter."""

    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def severity(self) -> Literal["error", "warning"]: ...
    @property
    def message(self) -> str: ...
    @property
    def file(self) -> Optional[str]: ...
    @property
    def line(self) -> Optional[int]: ...
    @property
    def column(self) -> Optional[int]: ...
    @property
    def help(self) -> Optional[str]: ...
    @property
    def report(self) -> str: ...

class PolicyError(Exception):
    """A policy that does not compile."""

    diagnostics: list[Diagnostic]
    report: str

@final
class Statement:
    """A statement that decided a decision."""

    @property
    def id(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...

@final
class Decision:
    """The answer to a request."""

    @property
    def decision(self) -> Literal["allow", "deny", "unauthenticated"]: ...
    @property
    def allowed(self) -> bool: ...
    @property
    def status(self) -> Literal[200, 401, 403]: ...
    @property
    def reason(self) -> str: ...
    @property
    def statements(self) -> list[Statement]: ...
    @property
    def filters(self) -> Optional[dict[str, Any]]: ...
    @property
    def principal(self) -> Optional[dict[str, Any]]: ...
    @property
    def claims(self) -> Optional[dict[str, Any]]: ...
    @property
    def error(self) -> Optional[dict[str, str]]: ...
    @property
    def cost(self) -> int: ...
    def to_dict(self) -> dict[str, Any]: ...
    def __bool__(self) -> bool:
        """Raises TypeError: ask ``decision.allowed``."""

@final
class Data:
    """Facts beside the request, converted once and reused."""

    def __init__(self, mapping: Optional[Mapping[str, object]] = None) -> None: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Explanation:
    """A decision and why: each reached statement's condition tree."""

    @property
    def decision(self) -> Decision: ...
    @property
    def statements(self) -> list[dict[str, Any]]: ...
    def to_dict(self) -> dict[str, Any]: ...

class Policy:
    """A compiled policy set."""

    @staticmethod
    def from_file(path: Union[str, PathLike[str]]) -> Policy: ...
    @staticmethod
    def from_source(
        text: str,
        name: str = "<policy>",
        base_dir: Union[str, PathLike[str], None] = None,
    ) -> Policy: ...
    def decide(self, request: Mapping[str, object], data: DataArg = None) -> Decision: ...
    def decide_many(
        self, requests: Iterable[Mapping[str, object]], data: DataArg = None
    ) -> list[Decision]: ...
    def explain(self, request: Mapping[str, object], data: DataArg = None) -> Explanation: ...
    def filter(
        self,
        request: Mapping[str, object],
        data: DataArg = None,
        mapping: MappingArg = None,
    ) -> Filter: ...
    @property
    def actions(self) -> list[str]: ...
    @property
    def warnings(self) -> list[Diagnostic]: ...
    @property
    def name(self) -> str: ...

MappingArg = Union[Mapping[str, Any], str, PathLike[str], None]

class FilterError(Exception):
    """A filter that cannot be computed or rendered exactly (PCL6xx)."""

    code: str
    name: str
    message: str
    help: Optional[str]

@final
class Filter:
    """Which resources a request may act on."""

    @property
    def kind(self) -> Literal["always", "never", "residual"]: ...
    @property
    def action(self) -> str: ...
    @property
    def mapping(self) -> Optional[dict[str, Any]]: ...
    @property
    def statements(self) -> list[Statement]: ...
    @property
    def filters(self) -> list[Optional[dict[str, Any]]]: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_sql(
        self,
        mapping: Union[Mapping[str, Any], str, PathLike[str]],
        dialect: Literal["sqlite", "postgres", "postgresql"] = "sqlite",
    ) -> tuple[str, list[Union[int, str, bool]]]: ...
    def to_sqlalchemy(
        self,
        model: Any,
        mapping: MappingArg = None,
        dialect: Literal["sqlite", "postgresql"] = "sqlite",
    ) -> ColumnElement[bool]: ...
