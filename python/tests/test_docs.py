"""The Python examples of the documentation run: every ```python block of
docs/python.md in order in one namespace, and the README's Flask example
served through Flask's test client. Both run from the repository root, as
their paths are written."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO


def python_blocks(path: Path) -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```$", path.read_text(), flags=re.S | re.M)
    assert blocks, f"no python block in {path}"
    return blocks


def test_every_block_of_docs_python_md_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    # A module of its own: SQLAlchemy resolves annotations through sys.modules.
    module = types.ModuleType("docs_python_md")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, block in enumerate(python_blocks(REPO / "docs" / "python.md")):
        exec(compile(block, f"docs/python.md block {i + 1}", "exec"), module.__dict__)
    assert "client" in module.__dict__


def test_the_readme_flask_example_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    [block] = python_blocks(REPO / "README.md")
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(block, "README.md", "exec"), namespace)
    client = namespace["app"].test_client()
    r = client.get("/products", headers={"x-auth-account": "valid_account", "x-auth-role": "member"})
    assert r.status_code == 200 and r.json == {"scope": {"account_id": 1, "owner": None}}
    r = client.get("/products", headers={"x-auth-account": "valid_account", "x-auth-role": "guest"})
    assert r.status_code == 401 and b"Role name is not found" in r.data
