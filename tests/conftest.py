"""Shared fixtures for the whole suite."""
import io

import pytest

from sipscen.cli import main


@pytest.fixture
def sipscen():
    """Run the command line in-process: ``sipscen("run", path, ...) -> (code, out, err)``."""
    def run(*argv):
        out, err = io.StringIO(), io.StringIO()
        code = main([str(a) for a in argv], stdout=out, stderr=err)
        return code, out.getvalue(), err.getvalue()
    return run
