"""Check a user's SIPp XML before SIPp sees it, and tell which side it plays.

A file that is not well-formed XML, has no ``<scenario>`` root, uses an element
SIPp does not know at the top level, or declares entities (never needed, and a
way to blow up a parser) is a :class:`ScenarioError` pointing at
``FILE:LINE:COL`` — exit 2 instead of SIPp's own cryptic failure at run time.
"""
from __future__ import annotations

import xml.parsers.expat
from dataclasses import dataclass
from pathlib import Path

from sipscen.core.errors import Location, ScenarioError

TOP_LEVEL = {"send", "recv", "pause", "nop", "label", "sendCmd", "recvCmd", "Reference",
             "ResponseTimeRepartition", "CallLengthRepartition", "Global", "User"}
ACTIONS = {"send", "recv", "pause", "nop", "sendCmd", "recvCmd"}


@dataclass(frozen=True)
class SippXml:
    path: Path
    name: str            # the scenario's name attribute (or the file stem)
    first_action: str    # "send" | "recv" | ...

    @property
    def side(self) -> str:
        """"uas" when the scenario starts by waiting for a request, else "uac"."""
        return "uas" if self.first_action in ("recv", "recvCmd") else "uac"


def check_sipp_xml(path: Path, where: str = "", location: Location | None = None) -> SippXml:
    """Parse and sanity-check a SIPp scenario file; ScenarioError with its location."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"SIPp scenario file {path} not found", location, where) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}", location, where) from None

    parser = xml.parsers.expat.ParserCreate()
    state = {"depth": 0, "root": None, "name": path.stem, "first": None}

    def fail(message: str) -> None:
        raise ScenarioError(message, Location(str(path), parser.CurrentLineNumber,
                                              parser.CurrentColumnNumber + 1), where)

    def start(tag: str, attrs: dict) -> None:
        state["depth"] += 1
        if state["depth"] == 1:
            if tag != "scenario":
                fail(f"the root element must be <scenario>, not <{tag}>")
            state["root"] = tag
            state["name"] = attrs.get("name") or path.stem
        elif state["depth"] == 2:
            if tag not in TOP_LEVEL:
                fail(f"<{tag}> is not a SIPp scenario element (expected one of "
                     f"{', '.join(sorted(TOP_LEVEL))})")
            if tag == "recv" and not ({"response", "request"} & set(attrs)):
                fail("<recv> needs a response= or request= attribute")
            if tag in ACTIONS and state["first"] is None:
                state["first"] = tag

    def end(tag: str) -> None:
        state["depth"] -= 1

    def entity(*_args) -> None:
        fail("entity declarations are not allowed in a SIPp scenario")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.EntityDeclHandler = entity
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        raise ScenarioError(
            f"not well-formed SIPp XML: {xml.parsers.expat.ErrorString(exc.code)}",
            Location(str(path), exc.lineno, exc.offset + 1), where) from None
    if state["root"] is None:
        raise ScenarioError("no <scenario> element", Location(str(path), 1, 1), where)
    if state["first"] is None:
        raise ScenarioError("the scenario has no send or recv", Location(str(path), 1, 1),
                            where)
    return SippXml(path, state["name"], state["first"])
