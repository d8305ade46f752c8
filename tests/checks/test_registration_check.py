"""`registration` expectations read the registrations during the run only."""
from pathlib import Path

from sipscen.checks import evaluate
from sipscen.checks.context import CheckContext
from sipscen.core.errors import Location
from sipscen.core.model import Expectation, Scenario


def verdicts(params, registrations):
    facts = {"bob": {"type": "pjsua", "registrations": registrations}}
    ctx = CheckContext(Scenario(name="t", file=Path("t.yaml")), facts, None)
    exp = Expectation("registration", {"agent": "bob", **params}, Location("t.yaml", 1, 1), "x")
    return {r.name.split(": ")[1]: (r.status, r.actual) for r in evaluate([exp], ctx)}


def reg(code, expires, teardown=False):
    return {"t": 1.0, "code": code, "reason": "", "expires": expires, "at_teardown": teardown}


def test_the_unregistration_at_teardown_proves_nothing():
    got = verdicts({"unregistered": True}, [reg(200, 300), reg(200, 0, teardown=True)])
    assert got == {"unregistered": ("failed", False)}
    assert verdicts({"unregistered": True}, [reg(200, 300), reg(200, 0)]) == {
        "unregistered": ("passed", True)}


def test_status_registered_and_expiry_bounds():
    got = verdicts({"status": "4xx", "registered": False}, [reg(403, 0)])
    assert got == {"status": ("passed", 403), "registered": ("passed", False)}
    got = verdicts({"expires": {"min": "10m"}}, [reg(200, 300)])
    assert got == {"expires": ("failed", [300])}
