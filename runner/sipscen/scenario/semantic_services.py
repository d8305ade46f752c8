"""Load-time checks of a service's start order and steps (called from semantic.py).

* ``after`` names other services, never the service itself, and the order has
  no cycle;
* ``media_ports: [low, high]`` has low <= high;
* ``impair:`` drops packets on their way into the service's media ports, so the
  service has ``media_ports`` (and is a process sipscen starts, not a ``kube`` one);
* steps: each a step kind a service carries out (``language/service_language.py``),
  checked as any agent's steps are.
"""
from __future__ import annotations

from typing import Any
from sipscen.language import registry



def check_service_extras(checker: Any, service: dict, path: list) -> None:
    name = path[-1]
    after = service.get("after") or []
    for i, other in enumerate(after):
        if other == name:
            checker.fail("a service cannot start after itself", path + ["after", i])
        elif other not in checker.services:
            checker.fail(f"unknown service '{other}' — services are: "
                         f"{', '.join(sorted(checker.services))}", path + ["after", i])
    if _in_cycle(name, checker.services):
        checker.fail(f"start order has a cycle through '{name}'", path + ["after"], key=True)
    media = service.get("media_ports")
    if isinstance(media, list) and len(media) == 2 and all(isinstance(v, int) for v in media) \
            and media[0] > media[1]:
        checker.fail(f"media_ports low {media[0]} is above high {media[1]}", path + ["media_ports"])
    if isinstance(service.get("impair"), dict):
        if "kube" in service:
            checker.fail("drops packets in this machine's kernel; a Kubernetes "
                         "Service's media path is not here", path + ["impair"], key=True)
        elif service.get("media_ports") is None:
            checker.fail("drops packets on their way into the service's media ports: "
                         "give media_ports (a count, or [low, high]; e.g. rtpengine's "
                         "--port-min/--port-max as ${NAME.media_min}/${NAME.media_max})",
                         path + ["impair"], key=True)
    for i, step in enumerate(service.get("steps") or []):    # as any agent's steps
        checker.check_step(name, step, path + ["steps", i], registry.service_type())


def _in_cycle(start: str, services: dict) -> bool:
    """Whether following ``after`` from ``start`` comes back to it (bounded walk)."""
    seen: set[str] = set()
    todo = list((services.get(start) or {}).get("after") or [])
    while todo:
        cur = todo.pop()
        if cur == start:
            return True
        if cur in seen or cur not in services:
            continue
        seen.add(cur)
        todo.extend((services.get(cur) or {}).get("after") or [])
    return False
