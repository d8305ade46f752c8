"""What a run refuses in agents' and services' settings, refused at validation.

Issue 20: `validate` said ok to ``address: "0"``, ``impair.delay: 20s``,
``media.port_range: [65535, 1024]`` and ``transport: tls`` without a
certificate, which the run then refused. Rather than a second copy of each
rule, validation calls the very check the run calls: an agent type's
``check_config`` (the registry; pjsua's is its settings parser, SIPp's and
baresip's their endpoint check) and a service's ``check_service_config``, on
the model the run gets. Their ScenarioError names a path
(``agents.alice.impair.delay``); here it gets that key's FILE:LINE:COL.
"""
from __future__ import annotations

import re

from sipscen.core.errors import ScenarioError
from sipscen.scenario.marks import MarkedMap, locate
from sipscen.core.model import Scenario
from sipscen.language import registry
from sipscen.core.contact import Contact
from sipscen.capture.visibility import filter_blind
from sipscen.capture.tcpdump import port_filter
from sipscen.language import registry

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


def config_errors(scenario: Scenario, tree: MarkedMap) -> list[ScenarioError]:
    """Every agent's and service's settings as the run checks them; [] when fine."""

    errors: list[ScenarioError] = []
    checks = []
    for spec in scenario.agents:
        agent_type = registry.agent_types().get(spec.type)
        check = agent_type.config_checker() if agent_type is not None else None
        if check is not None:
            checks.append((check, (spec, scenario.file.parent)))
    check_service = registry.service_type().config_checker()
    for service in scenario.services:
        if "kube" not in service.config:        # a discovered Service is not started
            checks.append((check_service, (service,)))
    for check, args in checks:
        try:
            check(*args)
        except ScenarioError as exc:
            errors.append(_located(exc, tree))
    return sorted(errors, key=lambda e: (e.location.file, e.location.line, e.location.col)
                  if e.location else ("", 0, 0))


def capture_errors(scenario: Scenario, tree: MarkedMap) -> list[ScenarioError]:
    """A ``capture.filter`` that drops what a wire-only expectation (sip, leg,
    media, transport) reads whatever ports the run plans (``not udp`` with UDP
    agents): it could only ever be inconclusive, so the file is refused here, at
    the filter. What depends on the planned ports, and the wire part of families
    an agent also reports on, is judged at run time (``capture/visibility.py``)."""
    spec = scenario.capture
    if not spec.enabled or not spec.filter:
        return []

    plans = []
    for base in (20000, 41000):           # two port plans: what both hide is port-independent
        contacts, ports = {}, [base - 2]
        parties = [(a.name, a.config) for a in scenario.agents] + \
                  [(v.name, v.config) for v in scenario.services if "kube" not in v.config]
        for k, (name, cfg) in enumerate(parties):
            port = cfg.get("port")
            port = port if isinstance(port, int) and not isinstance(port, bool) else base + 100 + k
            media = (base + 1000 + 40 * k, base + 1000 + 40 * k + 19)
            host = str(cfg.get("address") or "127.0.0.1").strip("[]")
            contacts[name] = Contact(name, host, port, str(cfg.get("transport") or "udp"),
                                     media_ports=media)
            ports += [port, media]
        blind = filter_blind(port_filter(ports, spec.filter, base - 2), spec.filter, contacts)
        plans.append({(b.channel, b.parties): b for b in blind})
    always = [b for key, b in plans[0].items() if key in plans[1]]
    errors = []
    families = registry.expectations()
    for exp in scenario.expectations:
        family = families.get(exp.kind)
        # only families judged on the wire alone: others keep their agents' verdicts
        # (and e.g. `dtmf: {where: agent}` reads no capture at all)
        if family is None or family.wire_needs is None or family.evidence != "wire":
            continue
        needs = family.needs_for("wire_needs", exp.params)
        named = {exp.params.get(k) for k in ("from", "to", "agent", "via")} | \
            set(exp.params.get("between") or [])
        named = {n for n in named if isinstance(n, str)}
        hit = [b for b in always if b.channel in needs
               and (not named or named & set(b.parties))]
        if hit:
            why = hit[0].why.split(" drops ", 1)[-1]
            why = why.split(" (")[0]
            errors.append(ScenarioError(
                f"the filter drops {why} whatever ports are planned: the {exp.kind} "
                f"expectation at {exp.location} could only be inconclusive (drop the filter, "
                "or the expectation)", locate(tree, ["capture", "filter"]), "capture.filter"))
    return errors


def _located(exc: ScenarioError, tree: MarkedMap) -> ScenarioError:
    """The same error at the FILE:LINE:COL of the key its path names (or of the
    nearest key that is written, e.g. the agent for a default it does not write)."""
    parts: list[str | int] = []
    for m in _PART.finditer(exc.path or ""):
        name, index, quoted = m.groups()
        parts.append(int(index) if index is not None else (quoted if quoted is not None
                                                            else name))
    where = locate(tree, parts) if parts else exc.location
    return ScenarioError(exc.message, where or exc.location, exc.path)
