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

_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]|\['([^']*)'\]")


def config_errors(scenario: Scenario, tree: MarkedMap) -> list[ScenarioError]:
    """Every agent's and service's settings as the run checks them; [] when fine."""
    from sipscen.core.network import in_cluster
    from sipscen.engine.services import check_service_config
    from sipscen.language import registry

    if in_cluster():     # the pod's own address is allowed there (imported for its policy)
        import sipscen.kube.discovery  # noqa: F401

    errors: list[ScenarioError] = []
    checks = []
    for spec in scenario.agents:
        agent_type = registry.agent_types().get(spec.type)
        check = agent_type.config_checker() if agent_type is not None else None
        if check is not None:
            checks.append((check, (spec, scenario.file.parent)))
    for service in scenario.services:
        if "kube" not in service.config:        # a discovered Service is not started
            checks.append((check_service_config, (service,)))
    for check, args in checks:
        try:
            check(*args)
        except ScenarioError as exc:
            errors.append(_located(exc, tree))
    return sorted(errors, key=lambda e: (e.location.file, e.location.line, e.location.col)
                  if e.location else ("", 0, 0))


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
