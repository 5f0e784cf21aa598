"""Shared fixtures: where the repository is, and the `portcullis` CLI the
Python results are compared with."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "policies"
EXAMPLES = REPO / "examples" / "python"

# The example apps are modules of examples/python/.
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


@pytest.fixture(scope="session")
def cli() -> Path:
    """The `portcullis` binary: $PORTCULLIS_BIN, or the crate's debug build
    (built here if missing; cargo returns at once when it is up to date)."""
    given = os.environ.get("PORTCULLIS_BIN")
    if given:
        return Path(given)
    subprocess.run(["cargo", "build", "--quiet", "--bin", "portcullis"], cwd=REPO, check=True)
    return REPO / "target" / "debug" / "portcullis"
