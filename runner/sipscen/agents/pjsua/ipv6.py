"""Which Python runs a PJSUA worker on IPv6 (no pjsua2 imported here).

The pjsua2-python 2.15.1 wheel sipscen installs is built without IPv6
(``PJ_HAS_IPV6`` 0): an account on [::1] aborts the worker in ``pjsua_acc_add``
(measured: ``Assertion cfg->ipv6_sip_use == PJSUA_IPV6_DISABLED``). The 2.10
wheel of the same project has IPv6 (a call over [::1] measured end to end), so
``./setup.sh`` puts it in a virtual environment of its own, ``.venv-ipv6`` next
to ``.venv``, with sipscen beside it; a pjsua agent whose address is IPv6 runs
its worker there. ``SIPSCEN_PJSUA_IPV6_PYTHON`` names another interpreter.
"""
from __future__ import annotations

import os
from pathlib import Path

ENV = "SIPSCEN_PJSUA_IPV6_PYTHON"
VENV = ".venv-ipv6"
PJSUA2_VERSION = "2.10.post6"       # the pjsua2-python release built with IPv6


def interpreter() -> str | None:
    """The Python whose pjsua2 has IPv6, or None when this machine has none."""
    given = os.environ.get(ENV)
    if given:
        return given if os.access(given, os.X_OK) else None
    root = Path(__file__).resolve().parents[4]        # runner/sipscen/agents/pjsua -> repo
    candidate = root / VENV / "bin" / "python"
    return str(candidate) if os.access(candidate, os.X_OK) else None


def missing_reason() -> str:
    return (f"the installed pjsua2 is built without IPv6; ./setup.sh installs pjsua2-python "
            f"{PJSUA2_VERSION} (which has it) in {VENV}/ for IPv6 agents "
            f"(or set {ENV} to a Python that has it)")
