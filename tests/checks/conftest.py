"""Fixtures shared with the engine tests."""
from ..engine.conftest import no_leftovers, processes_with_token  # noqa: F401
