"""The `expect` of a SIPp inline message: its forms, normalised at load time
(``normalise_expect``), and whether an answer meets it (``judge``). Shared by
the SIPp agent, which reads its messages, and the `response` check."""
from __future__ import annotations

import re
from typing import Any, Mapping

from sipscen.core.errors import ScenarioError
from sipscen.core.regex import regex_problem
from sipscen.core.model import parse_duration

_CLASS = re.compile(r"^[1-6]xx$")
DEFAULT_TIMEOUT = 2.0      # seconds an `expect: nothing` waits for no answer


def normalise_expect(value: Any, where: str, location=None) -> dict[str, Any]:
    """The schema's ``expect`` -> a normalised expectation.

    ``{status: 400 | "4xx", header: {Name: REGEX, ...}, nothing: DURATION}``;
    shorthands ``400``, ``"4xx"`` and ``"nothing"`` are accepted too. Result keys:
    ``status`` (list of codes), ``class`` ("4xx"), ``headers`` ({name: regex}),
    ``nothing`` (seconds) or ``any`` (any answer at all).
    """
    if value is None:
        return {"any": True}
    if isinstance(value, bool):
        raise ScenarioError(f"expect must be a code, a class or a mapping, not {value!r}",
                            location, where)
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        value = {"nothing": DEFAULT_TIMEOUT} if value == "nothing" else {"status": value}
    if not isinstance(value, Mapping):
        raise ScenarioError(f"expect must be a code, a class or a mapping, not {value!r}",
                            location, where)
    known = {"status", "header", "nothing"}
    unknown = set(value) - known
    if unknown:
        raise ScenarioError(f"unknown key(s) {sorted(unknown)} (use {sorted(known)})",
                            location, where)
    out: dict[str, Any] = {}
    if "status" in value:
        out.update(normalise_status(value["status"], f"{where}.status", location))
    if "header" in value:
        headers = value["header"]
        if not isinstance(headers, Mapping) or not headers:
            raise ScenarioError("header must map header names to regular expressions",
                                location, f"{where}.header")
        for name, pattern in headers.items():
            problem = regex_problem(str(pattern))
            if problem is not None:
                raise ScenarioError(f"bad regular expression for {name}: {problem}", location,
                                    f"{where}.header.{name}")
        out["headers"] = {str(k): str(v) for k, v in headers.items()}
    if "nothing" in value:
        if out:
            raise ScenarioError("'nothing' cannot be combined with status or header",
                                location, where)
        try:
            out["nothing"] = parse_duration(value["nothing"])
        except ValueError as exc:
            raise ScenarioError(str(exc), location, f"{where}.nothing") from None
    if not out:
        out["any"] = True
    return out


def normalise_status(value: Any, where: str, location=None) -> dict[str, Any]:
    """``400`` | ``"400"`` | ``"4xx"`` | ``[400, 403]`` -> {"status": [...]} or {"class": "4xx"}."""
    if isinstance(value, str) and _CLASS.match(value.strip()):
        return {"class": value.strip()}
    codes = value if isinstance(value, list) else [value]
    out = []
    for code in codes:
        if isinstance(code, str) and code.strip().isdigit():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int) or not 100 <= code <= 699:
            raise ScenarioError(f"expected a status code (e.g. 200) or a class (e.g. 2xx), "
                                f"got {value!r}", location, where)
        out.append(code)
    if not out:
        raise ScenarioError("no status code given", location, where)
    return {"status": out}


def judge(expected: Mapping[str, Any], received: Mapping[str, Any] | None,
          was_sent: bool = True) -> tuple[bool, str]:
    """Whether ``received`` meets ``expected``; and a short text of what happened."""
    if not was_sent:
        return False, "not sent (SIPp stopped before this message)"
    actual = "nothing" if received is None else f"{received['status']} {received['reason']}".strip()
    if expected.get("nothing"):
        return received is None, actual
    if received is None:
        return False, actual
    ok = True
    if "status" in expected:
        ok &= received["status"] in expected["status"]
    if "class" in expected:
        ok &= str(received["status"])[0] == expected["class"][0]
    for name, pattern in (expected.get("headers") or {}).items():
        values = [v for k, v in received["headers"].items() if k.lower() == name.lower()]
        ok &= any(re.search(pattern, v) for v in values)
        actual += f"; {name}: " + (values[0] if values else "(absent)")
    return bool(ok), actual
