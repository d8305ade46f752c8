"""Malformed fields in SIP messages: flagged, never fatal.

The parsers (``sip.parse_message``, ``sdp.parse_sdp``, ``dtmf.info_dtmf``)
read a hostile message as far as they can and list what they could not read
as ``(field, value, problem)``; :class:`MalformedFields` turns those into the
analysis's warnings: one per kind of field, naming the frame that first
carried it, the value and the message, then how many more messages had it
(a load test sending 10,000 malformed INVITEs gives one line, not 10,000)::

    frame 7: Content-Length '²' is not a decimal number (INVITE sip:bob@127.0.0.2)
"""
from __future__ import annotations

from sipscen.analysis.numbers import shown

Problem = tuple[str, str, str]          # (field, value as written, what is wrong with it)


class MalformedFields:
    def __init__(self, warnings: list[str]):
        self.warnings = warnings
        self._kinds: dict[str, list[int]] = {}     # field -> [warning index, count, last frame]

    def note(self, frame: int, summary: str, problems: list[Problem]) -> None:
        """The problems of one message (each kind of field counts once per message)."""
        here: set[str] = set()
        for name, value, problem in problems:
            if name in here:
                continue
            here.add(name)
            seen = self._kinds.get(name)
            if seen is not None:
                seen[1] += 1
                seen[2] = frame
                continue
            self._kinds[name] = [len(self.warnings), 1, frame]
            self.warnings.append(f"frame {frame}: {name} {shown(value)} {problem} ({_brief(summary)})")

    def finish(self) -> None:
        """Complete each kind's warning with how many more messages had it."""
        for name, (index, count, last) in self._kinds.items():
            if count > 1:
                self.warnings[index] += (f"; {count - 1} more message(s) with a malformed {name}, "
                                         f"the last in frame {last}")
        self._kinds.clear()


def _brief(text: str, limit: int = 80) -> str:
    """A message's summary for a warning: printable, at most ``limit`` characters."""
    cut = text[:limit]
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return out + "..." if len(text) > limit else out


__all__ = ["MalformedFields", "Problem"]
