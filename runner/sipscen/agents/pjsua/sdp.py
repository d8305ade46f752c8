"""Small SDP helpers shared by the worker and the controller (no pjsua2 here).

Only what the agent needs: the SDES ``a=crypto`` lines of the audio section,
whether the audio stream is SRTP, and the body of a raw SIP message.
"""
from __future__ import annotations

import re

from sipscen.analysis.numbers import wire_int

_CRYPTO = re.compile(r"^a=crypto:(\d+)\s+(\S+)\s+(inline:\S+)", re.IGNORECASE)


def audio_section(sdp: str) -> list[str]:
    """Lines of the first ``m=audio`` section (empty when there is none)."""
    lines = [l.strip() for l in (sdp or "").splitlines()]
    out: list[str] = []
    inside = False
    for line in lines:
        if line.startswith("m="):
            if inside:
                break
            inside = line.startswith("m=audio")
        if inside:
            out.append(line)
    return out


def cryptos(sdp: str) -> list[dict[str, str]]:
    """The audio section's ``a=crypto`` lines as [{tag, suite, key}] in order."""
    found = []
    for line in audio_section(sdp):
        m = _CRYPTO.match(line)
        if m:
            found.append({"tag": m.group(1), "suite": m.group(2).upper(), "key": m.group(3)})
    return found


def is_srtp(sdp: str) -> bool:
    """True when the audio m= line uses a SAVP profile (RTP/SAVP, RTP/SAVPF)."""
    section = audio_section(sdp)
    if not section:
        return False
    parts = section[0].split()
    return len(parts) > 2 and "SAVP" in parts[2].upper()


def audio_port(sdp: str) -> int | None:
    """The port of the audio m= line (0 means the stream was refused)."""
    section = audio_section(sdp)
    if not section:
        return None
    parts = section[0].split()
    return wire_int(parts[1], 0, 65535) if len(parts) > 1 else None


def negotiated_crypto(local_sdp: str, remote_sdp: str, local_is_offerer: bool) -> tuple[dict | None, dict | None]:
    """(local crypto, remote crypto) actually in use after an offer/answer.

    The answer holds exactly one crypto line; the offerer's line in use is the
    one with the same tag (RFC 4568). Returns (None, None) when the answer is
    not SRTP.
    """
    answer = remote_sdp if local_is_offerer else local_sdp
    offer = local_sdp if local_is_offerer else remote_sdp
    answer_cryptos = cryptos(answer)
    if not answer_cryptos or not is_srtp(answer) or audio_port(answer) == 0:
        return None, None
    chosen = answer_cryptos[0]
    offered = next((c for c in cryptos(offer) if c["tag"] == chosen["tag"]), None)
    if local_is_offerer:
        return offered, chosen
    return chosen, offered


def message_body(whole_msg: str) -> str:
    """The body of a raw SIP message (after the first empty line), or ''."""
    if not whole_msg:
        return ""
    for sep in ("\r\n\r\n", "\n\n"):
        head, found, body = whole_msg.partition(sep)
        if found:
            return body
    return ""


def request_line(raw: str) -> tuple[str, str]:
    """(method, Request-URI) of a raw SIP request; ("", "") for anything else."""
    parts = (raw or "").split("\n", 1)[0].strip().split(" ")
    if len(parts) == 3 and parts[2].startswith("SIP/"):
        return parts[0], parts[1]
    return "", ""


def message_headers(raw: str) -> dict[str, str | list[str]]:
    """Header name -> value of a raw SIP message; a header that appears more than
    once -> the list of its values, in order (``sipscen.core.headers`` reads both);
    names as written (compact forms stay compact)."""
    head = (raw or "").replace("\r\n", "\n").split("\n\n", 1)[0]
    out: dict[str, str | list[str]] = {}
    for line in head.split("\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            key = name.strip()
            if key not in out:
                out[key] = value.strip()
            else:
                known = out[key]
                out[key] = (known if isinstance(known, list) else [known]) + [value.strip()]
    return out
