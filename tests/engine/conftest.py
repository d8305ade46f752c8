from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# The leftover-process helpers live in tests/conftest.py (the whole suite uses them);
# re-exported here for the engine tests that import them from this folder.
from ..conftest import TOKEN_VAR, processes_with_token  # noqa: E402,F401
