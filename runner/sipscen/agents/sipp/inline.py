"""Inline raw SIP messages: YAML text -> exact bytes -> a generated SIPp XML.

An author writes each message as it should go on the wire, usually as a YAML
block scalar: every line of the YAML text ends with CRLF; ``\\r``, ``\\n``,
``\\t``, ``\\0``, ``\\xNN`` and ``\\\\`` insert exact bytes (a bare LF, a NUL, a
byte above 0x7f). SIPp keywords such as ``[call_id]``, ``[branch]``,
``[local_ip]``, ``[remote_ip]:[remote_port]`` and ``[len]`` are substituted
by SIPp. Use ``Call-ID: [call_id]`` so that SIPp can match the answer to its
call; an answer it cannot match is still read from its message log (the
verdict comes from there), SIPp only waits the message's whole timeout.

Known SIPp limits: SIPp always ends a message with CRLF (end a body with CRLF
and count it in Content-Length), and a message with no empty line at all gets
one; trailing empty lines after a body are kept exactly (:func:`sipp_text`).
SIPp sends each message once (``-nr``) and answers nothing by itself
(``-default_behaviors none``).

After every message the XML waits for any response (provisional responses
keep it waiting for the final one) or the message's timeout, then goes on.
After the last message a liveness probe (an OPTIONS to the target) proves the
system under test still answers. Verdicts are made by :func:`sipscen.language.inline_expect.judge` from the
message log (:func:`parse_message_log`), never by SIPp itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from sipscen.core.errors import ScenarioError
from sipscen.language.inline_expect import DEFAULT_TIMEOUT, normalise_expect
from sipscen.core.model import parse_duration

# Answers the generated XML waits for; SIPp jumps on as soon as one arrives.
# Any other answer is ignored by SIPp (``-default_behaviors none``: no abort on
# unexpected messages) and costs the message's timeout, but it is still read
# from the message log and judged. SIPp reads at most 64 KiB of XML, so the
# list stays short; a message's own expected codes are added to it.
PROVISIONAL = [100, 180, 181, 182, 183]
FINAL = [200, 202, 400, 401, 403, 404, 405, 406, 407, 408, 410, 413, 414, 415, 416, 420,
         421, 423, 480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 494, 500,
         501, 502, 503, 504, 505, 513, 600, 603, 604, 606]
SIPP_MAX_XML = 65536

PROBE = (
    "OPTIONS sip:[remote_ip]:[remote_port] SIP/2.0\r\n"
    "Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:sipscen-probe@[local_ip]:[local_port]>;tag=probe-[pid]\r\n"
    "To: <sip:[remote_ip]:[remote_port]>\r\n"
    "Call-ID: [call_id]\r\n"
    "CSeq: 99999 OPTIONS\r\n"
    "Contact: <sip:sipscen-probe@[local_ip]:[local_port]>\r\n"
    "Accept: application/sdp\r\n"
    "Content-Length: 0\r\n\r\n"
)

_ESCAPE = re.compile(r"\\(x[0-9A-Fa-f]{2}|[rnt0\\])")


@dataclass(frozen=True)
class InlineMessage:
    index: int
    data: bytes                  # exact bytes before SIPp's keyword substitution
    expected: dict[str, Any]     # normalised: status | class | headers | nothing | any
    timeout: float               # seconds to wait for an answer (the 'nothing' window)
    probe: bool = False

    @property
    def first_line(self) -> str:
        return self.data.split(b"\r\n", 1)[0].split(b"\n", 1)[0].decode("latin-1")


def decode_message(text: str) -> bytes:
    """The author's text -> the bytes meant for the wire (before SIPp keywords).

    A newline of the YAML text becomes CRLF (a bare LF after a real CR; nothing
    after a line that ends with an explicit ``\\r`` or ``\\n`` escape);
    backslash escapes give exact bytes.
    """
    out = bytearray()
    explicit_end = False
    for i, line in enumerate(text.split("\n")):
        if i and not explicit_end:
            out += b"\n" if out.endswith(b"\r") else b"\r\n"
        pos = 0
        explicit_end = False
        for m in _ESCAPE.finditer(line):
            out += line[pos:m.start()].encode("latin-1", errors="strict")
            code = m.group(1)
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\"}.get(code) \
                or bytes([int(code[1:], 16)])
            pos = m.end()
            explicit_end = code in ("r", "n") and pos == len(line)
        out += line[pos:].encode("latin-1", errors="strict")
    return bytes(out)


def _escape_line(line: bytes) -> str:
    """One line for SIPp's CDATA: SIPp trims lines, so edge blanks become \\x20/\\x09."""
    out = []
    last = len(line) - 1
    for i, b in enumerate(line):
        c = chr(b)
        edge = i == 0 or i == last
        if 0x21 <= b <= 0x7E and c != "\\":
            out.append(c)
        elif c == " " and not edge:
            out.append(c)
        else:
            out.append(f"\\x{b:02x}")
    return "".join(out).replace("]]>", "]]\\x3e")


def escape_interior(secret: str) -> str:
    """How a secret reads inside a CDATA line (see _escape_line), not at its edges."""
    data = secret.encode("latin-1", "replace")
    return "".join(chr(b) if (0x21 <= b <= 0x7E and b != 0x5C) or b == 0x20 else f"\\x{b:02x}"
                   for b in data)


def sipp_text(data: bytes) -> str:
    """Bytes -> CDATA text that SIPp turns back into those bytes (see module doc)."""
    if data.endswith(b"\r\n"):
        data = data[:-2]
    lines = data.split(b"\r\n")
    trailing = 0
    while lines and lines[-1] == b"":
        lines.pop()
        trailing += 1
    # SIPp drops trailing empty lines, ends the message with CRLF, and adds one
    # more CRLF when no empty line separates a body: put back what it won't.
    extra = trailing if b"" in lines else max(0, trailing - 1)
    text = [_escape_line(line) for line in lines]
    if text and extra:
        text[-1] += "\\x0d\\x0a" * extra
    return "\n".join(text)


def parse_messages(config: Mapping[str, Any], location=None, path: str = "",
                   probe: bool = True) -> list[InlineMessage]:
    """The agent's ``messages:`` list (+ the liveness probe) as InlineMessages."""

    raw = config.get("messages") or []
    if not isinstance(raw, list) or not raw:
        raise ScenarioError("messages must be a non-empty list", location, f"{path}.messages")
    out: list[InlineMessage] = []
    for i, item in enumerate(raw):
        where = f"{path}.messages[{i}]"
        if isinstance(item, str):
            item = {"send": item}
        if not isinstance(item, Mapping) or not isinstance(item.get("send"), str):
            raise ScenarioError("each message needs 'send: <raw SIP message>'", location, where)
        try:
            data = decode_message(item["send"].lstrip("\n"))
        except UnicodeEncodeError:
            raise ScenarioError("message has characters outside latin-1: write other bytes "
                                "as \\xNN", location, f"{where}.send") from None
        if not re.match(rb"^[A-Za-z0-9!%'*+.~`_-]+ ", data):
            raise ScenarioError("the first line must start with a method and a space "
                                "(SIPp sends requests only)", location, f"{where}.send")
        try:
            timeout = parse_duration(item.get("timeout", DEFAULT_TIMEOUT))
        except ValueError as exc:
            raise ScenarioError(str(exc), location, f"{where}.timeout") from None
        expected = normalise_expect(item.get("expect"), f"{where}.expect", location)
        if item.get("expect") == "nothing" and "timeout" in item:
            expected["nothing"] = timeout      # the shorthand's window is the message's timeout
        timeout = max(timeout, expected.get("nothing", 0.0))
        out.append(InlineMessage(i, data, expected, timeout))
    if probe:
        out.append(InlineMessage(len(out), PROBE.encode(), {"any": True}, DEFAULT_TIMEOUT,
                                 probe=True))
    return out


def build_xml(messages: list[InlineMessage], name: str = "sipscen-inline", location=None,
              path: str = "") -> str:
    """A SIPp scenario that sends each message and waits for its answer or timeout."""
    parts = ['<?xml version="1.0" encoding="ISO-8859-1" ?>',
             f'<scenario name="{name}">']
    for m in messages:
        parts.append(f"  <!-- message {m.index}{' (liveness probe)' if m.probe else ''}: "
                     f"{_comment(m.first_line)} -->")
        parts.append(f"  <send><![CDATA[\n{sipp_text(m.data)}\n]]></send>")
        wait, after = f"w{m.index}", f"a{m.index}"
        parts.append(f'  <label id="{wait}"/>')
        ms = max(1, int(round(m.timeout * 1000)))
        codes = sorted(set(PROVISIONAL + FINAL + list(m.expected.get("status", []))))
        for i, code in enumerate(codes):
            target = wait if code < 200 else after
            timeout = f' timeout="{ms}" ontimeout="{after}"' if i == 0 else ""
            # SIPp wants one mandatory recv at the end of a run of optional ones.
            optional = ' optional="true"' if i < len(codes) - 1 else ""
            auth = ' auth="true"' if code in (401, 407) else ""   # for [authentication]
            parts.append(f'  <recv response="{code}"{optional}{auth}{timeout} next="{target}"/>')
        parts.append(f'  <label id="{after}"/>')
    parts.append("</scenario>")
    text = "\n".join(parts) + "\n"
    if len(text.encode("latin-1")) > SIPP_MAX_XML:
        raise ScenarioError(f"these inline messages make {len(text) // 1024} KiB of SIPp XML; "
                            "SIPp reads at most 64 KiB: split them over several sipp agents",
                            location, f"{path}.messages" if path else "")
    return text


def _comment(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text).replace("--", "- -")[:100]


# --- reading what happened -------------------------------------------------------
_ENTRY = re.compile(
    r"^-{20,} (?P<stamp>[^\n]*)\n(?P<proto>\w+) message (?P<dir>sent|received)[^\n]*\n\n",
    re.M)


def parse_message_log(path: Path) -> list[dict[str, Any]]:
    """SIPp's ``-trace_msg`` log -> [{"dir": "sent"|"received", "text": str}] in order."""
    try:
        text = path.read_bytes().decode("latin-1")
    except OSError:
        return []
    matches = list(_ENTRY.finditer(text))
    out = []
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        out.append({"dir": m.group("dir"), "stamp": m.group("stamp").strip(),
                    "text": text[m.end():end].rstrip("\n") + "\n"})
    return out


def _headers(text: str) -> tuple[int | None, str, list[tuple[str, str]]]:
    head = re.split(r"\r?\n\r?\n", text, maxsplit=1)[0]
    lines = head.replace("\r\n", "\n").split("\n")
    m = re.match(r"^SIP/2\.0 ([0-9]{3}) ?(.*)$", lines[0].strip())    # ASCII digits: int() takes them
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return (int(m.group(1)) if m else None), (m.group(2).strip() if m else ""), headers


def _branch(headers: list[tuple[str, str]]) -> str | None:
    for name, value in headers:
        if name.lower() in ("via", "v"):
            m = re.search(r";\s*branch=([^;,\s]+)", value)
            return m.group(1) if m else None
    return None


def _without_retransmissions(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop a sent entry identical to an earlier sent one (a UDP retransmission)."""
    seen: set[str] = set()
    out = []
    for e in log:
        if e["dir"] == "sent":
            if e["text"] in seen:
                continue
            seen.add(e["text"])
        out.append(e)
    return out


def match_responses(messages: list[InlineMessage], log: list[dict[str, Any]]
                    ) -> list[dict[str, Any]]:
    """Per message: what was sent and the answer it got (final if any), from the log.

    Answers are tied to a sent message by Via branch, else to the latest message
    sent before them (an answer to a message without Via has no branch).
    """
    log = _without_retransmissions(log)
    sent = [e for e in log if e["dir"] == "sent"]
    branches = {}
    for i, e in enumerate(sent):
        b = _branch(_headers(e["text"])[2])
        if b:
            branches[b] = i
    got: dict[int, list[dict[str, Any]]] = {}
    n_sent = -1
    for e in log:
        if e["dir"] == "sent":
            n_sent += 1
            continue
        status, reason, headers = _headers(e["text"])
        if status is None or n_sent < 0:
            continue
        index = branches.get(_branch(headers) or "", n_sent)
        got.setdefault(index, []).append(
            {"status": status, "reason": reason,
             "headers": {name: value for name, value in headers}})
    out = []
    for m in messages:
        answers = got.get(m.index, [])
        finals = [a for a in answers if a["status"] >= 200]
        received = finals[0] if finals else (answers[-1] if answers else None)
        sent_line = (sent[m.index]["text"].split("\n", 1)[0].rstrip("\r")
                     if m.index < len(sent) else m.first_line)
        out.append({"index": m.index, "probe": m.probe, "sent": sent_line,
                    "was_sent": m.index < len(sent), "expected": m.expected,
                    "timeout": m.timeout,
                    "received": received,
                    "provisional": [a["status"] for a in answers if a["status"] < 200]})
    return out
