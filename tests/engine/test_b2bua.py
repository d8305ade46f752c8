"""B2BUA legs with different Call-IDs (issue 10), through baresip's b2bua module:
declared, the legs are linked and the end-to-end checks pass and agree with
bob's own observation; undeclared, the DTMF check at bob says why it counts
nothing instead of a bare ''."""
from __future__ import annotations

import shutil
from dataclasses import replace

import pytest

from sipscen.core.contact import Contact
from sipscen.checks.context import CheckContext
from sipscen.checks.links import b2bua_links
from sipscen.engine.run import RunOptions, run_scenario
from sipscen.core.errors import Location
from sipscen.scenario.build import load_scenario
from sipscen.core.model import Scenario, ServiceSpec

from .conftest import ROOT

SBC = ROOT / "scenarios" / "sbc"
needs_baresip = pytest.mark.skipif(shutil.which("baresip") is None, reason="baresip needed")


def _without_b2bua_declaration(scenario: Scenario) -> Scenario:
    services = tuple(replace(s, config={k: v for k, v in s.config.items() if k != "b2bua"})
                     for s in scenario.services)
    return replace(scenario, services=services)


@pytest.mark.integration
@needs_baresip
@pytest.mark.parametrize("declared", [True, False])
def test_b2bua_legs_linked_only_when_declared(declared, tmp_path, no_leftovers):
    scenario = load_scenario(SBC / "b2bua-dtmf.yaml")
    if not declared:
        scenario = _without_b2bua_declaration(scenario)
    result = run_scenario(scenario, RunOptions(artifacts_root=tmp_path / "art"))
    checks = {c.name: c for c in result.checks}
    bob_ids = {c["call_id"] for c in result.agents["bob"]["calls"]}
    alice_ids = {c["call_id"] for c in result.agents["alice"]["calls"]}
    assert bob_ids and alice_ids and not bob_ids & alice_ids      # two Call-IDs
    at_bob = checks["dtmf alice->bob rfc4733 (at bob)"]
    assert "".join(d["digit"] for d in result.agents["bob"]["dtmf_received"]) == "2580"
    if declared:
        assert result.status == "passed", [c for c in result.checks if c.status != "passed"]
        assert at_bob.actual == "2580"
        assert checks["call alice->bob: reached callee"].status == "passed"
    else:
        assert at_bob.status == "failed" and at_bob.actual == ""
        assert "bob received '2580' on calls not linked to alice" in at_bob.message
        assert "b2bua: true" in at_bob.message


def _msg(t, src, dst, method=None, status=None, summary="", raw=""):
    return {"time": t, "src": src, "dst": dst, "method": method, "status": status,
            "summary": summary, "raw": raw}


def test_header_correlation_links_the_right_leg_of_two_concurrent_calls():
    spec = ServiceSpec("b2b", {"b2bua": {"header": "X-Orig-Call"}}, Location("s.yaml", 1, 1),
                       "services.b2b")
    scenario = Scenario(name="s", file=ROOT / "s.yaml", services=(spec,))
    contacts = {n: Contact(n, "127.0.0.1", p) for n, p in
                (("alice", 5001), ("carol", 5003), ("b2b", 5002), ("bob", 5004))}
    a, c, m, b = ("127.0.0.1:5001", "127.0.0.1:5003", "127.0.0.1:5002", "127.0.0.1:5004")
    inv = "INVITE sip:x SIP/2.0\r\nCall-ID: {cid}\r\n{extra}\r\n\r\n"
    wire = {"calls": [
        {"call_id": "A1", "messages": [_msg(1.0, a, m, "INVITE", raw=inv.format(cid="A1", extra=""))]},
        {"call_id": "C1", "messages": [_msg(1.1, c, m, "INVITE", raw=inv.format(cid="C1", extra=""))]},
        # the leg towards bob was placed last, but belongs to alice's call
        {"call_id": "B1", "messages": [_msg(1.2, m, b, "INVITE",
                                            raw=inv.format(cid="B1", extra="X-Orig-Call: A1"))]},
    ]}
    ctx = CheckContext(scenario, {}, wire, contacts)
    assert b2bua_links(ctx) == [("A1", "B1")]
    assert ctx.call_ids_between("alice", "bob") == {"A1", "B1"}
    assert ctx.call_ids_between("carol", "bob") == set()
    # by timing alone the latest incoming leg (carol's) would have been chosen
    timing = replace(scenario, services=(replace(spec, config={"b2bua": True}),))
    assert b2bua_links(CheckContext(timing, {}, wire, contacts)) == [("C1", "B1")]
