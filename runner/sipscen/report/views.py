"""Report views derived from a :class:`ScenarioResult`: codecs, SRTP, DTMF, lanes, logs.

Every writer (console, JSON, JUnit, HTML) shows the same facts; this module
derives them once from the per-agent facts (``result.agents``, see
docs/ARCHITECTURE.md "Agent facts") and the capture analysis
(``result.wire``, the ``sipscen analyze --json`` contract). It tolerates
missing keys everywhere: an errored scenario may have no facts at all.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

_URI_HOSTPORT = re.compile(r"^sips?:(?:[^@;>]*@)?(\[[^\]]+\]|[^:;>]+)(?::(\d+))?")
_SDP_CONN = re.compile(r"^c=IN IP[46] (\S+)", re.M)
_SDP_AUDIO = re.compile(r"^m=audio (\d+)", re.M)


def _calls(facts: dict[str, Any]) -> list[dict[str, Any]]:
    calls = facts.get("calls") if isinstance(facts, dict) else None
    return [c for c in calls or [] if isinstance(c, dict)]


def norm_addr(addr: Any) -> str:
    """'[::1]:5060' / '::1:5060' / '127.0.0.1:5060' -> canonical 'host:port' (IPv6 bracketed)."""
    text = str(addr or "").strip()
    if text.startswith("["):
        return text
    if text.count(":") > 1:                # bare IPv6 with a trailing port
        host, _, port = text.rpartition(":")
        return f"[{host}]:{port}" if port.isdigit() else f"[{text}]"
    return text


def uri_hostport(uri: str) -> str | None:
    """'sip:bob@127.0.0.1:5062;transport=tcp' -> '127.0.0.1:5062' (default port 5060/5061)."""
    m = _URI_HOSTPORT.match(str(uri or ""))
    if not m:
        return None
    host = m.group(1)
    port = m.group(2) or ("5061" if str(uri).startswith("sips:") else "5060")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def address_labels(result: Any) -> dict[str, str]:
    """Map 'host:port' -> agent name, from each agent's SIP URI / host+port and SDP media."""
    labels: dict[str, str] = {}
    for name, facts in (result.agents or {}).items():
        if not isinstance(facts, dict):
            continue
        candidates = [uri_hostport(facts.get("uri", ""))]
        host = facts.get("host") or facts.get("address")
        if host and facts.get("port"):
            candidates.append(norm_addr(f"{host}:{facts['port']}"))
        if facts.get("hostport"):
            candidates.append(norm_addr(facts["hostport"]))
        candidates += [norm_addr(a) for a in facts.get("addresses") or []]   # ephemeral ports
        for hp in candidates:
            if hp:
                labels.setdefault(hp, name)
        for call in _calls(facts):
            sdp = call.get("local_sdp") or ""
            conn, audio = _SDP_CONN.search(sdp), _SDP_AUDIO.search(sdp)
            if conn and audio:
                labels.setdefault(norm_addr(f"{conn.group(1)}:{audio.group(1)}"), f"{name} (rtp)")
    # services (a SUT proxy) have no facts: the engine's "planned" event names every contact
    for event in result.events or []:
        if isinstance(event, dict) and event.get("kind") == "planned":
            for name, uri in (event.get("contacts") or {}).items():
                hp = uri_hostport(str(uri))
                if hp:
                    labels.setdefault(hp, str(name))
    return labels


def label_for(addr: str, labels: dict[str, str]) -> str:
    """'alice (127.0.0.1:5060)' when known, else the address itself."""
    key = norm_addr(addr)
    return f"{labels[key]} ({key})" if key in labels else key


def codec_view(result: Any) -> dict[str, Any]:
    """Negotiated codecs per agent call, and payload types seen per RTP stream on the wire."""
    agents = []
    for name, facts in (result.agents or {}).items():
        for call in _calls(facts):
            if call.get("codec") or call.get("payload_type") is not None:
                agents.append({
                    "agent": name, "call_id": call.get("call_id"),
                    "direction": call.get("direction"), "codec": call.get("codec"),
                    "clock_rate": call.get("clock_rate"),
                    "payload_type": call.get("payload_type"),
                })
    wire = [{"ssrc": s.get("ssrc"), "src": s.get("src"), "dst": s.get("dst"),
             "payload_types": list(s.get("payload_types") or [])}
            for s in rtp_streams(result)]
    return {"agents": agents, "wire": wire}


def srtp_view(result: Any) -> dict[str, Any]:
    """SRTP state per agent call (active, suite) and per stream on the wire."""
    agents = []
    for name, facts in (result.agents or {}).items():
        for call in _calls(facts):
            srtp = call.get("srtp")
            if isinstance(srtp, dict):
                agents.append({"agent": name, "call_id": call.get("call_id"),
                               "active": bool(srtp.get("active")), "suite": srtp.get("suite")})
    wire = []
    for s in rtp_streams(result):
        srtp = s.get("srtp")
        wire.append({"ssrc": s.get("ssrc"), "src": s.get("src"), "dst": s.get("dst"),
                     "encrypted": bool(srtp),
                     "suite": srtp.get("suite") if isinstance(srtp, dict) else None,
                     "authenticated": srtp.get("authenticated") if isinstance(srtp, dict) else None})
    return {"agents": agents, "wire": wire}


def _digits(events: list[dict[str, Any]]) -> str:
    return "".join(str(e.get("digit", "")) for e in events)


def dtmf_view(result: Any) -> dict[str, Any]:
    """DTMF sent and received at each agent, and seen on the wire per direction and method."""
    agents: dict[str, Any] = {}
    for name, facts in (result.agents or {}).items():
        if not isinstance(facts, dict):
            continue
        sent = [e for e in facts.get("dtmf_sent") or [] if isinstance(e, dict)]
        received = [e for e in facts.get("dtmf_received") or [] if isinstance(e, dict)]
        if sent or received or "dtmf_received" in facts or "dtmf_sent" in facts:
            agents[name] = {"sent": _digits(sent), "received": _digits(received),
                            "sent_events": sent, "received_events": received}
    groups: dict[tuple, dict[str, Any]] = {}
    for e in sorted(wire_dtmf(result), key=lambda e: e.get("time") or 0):
        key = (e.get("src"), e.get("dst"), e.get("method"))
        group = groups.setdefault(key, {"src": key[0], "dst": key[1], "method": key[2],
                                        "digits": "", "events": []})
        group["digits"] += str(e.get("digit", ""))
        group["events"].append(e)
    return {"agents": agents, "wire": list(groups.values())}


def _wire_times(result: Any) -> list[float]:
    times = [m.get("time") for c in wire_calls(result) for m in c.get("messages") or []
             if isinstance(m, dict)]
    times += [e.get("time") for e in wire_dtmf(result)]
    return [t for t in times if isinstance(t, (int, float))]


def wire_offset(result: Any) -> float:
    """What to subtract from capture times to put them on the run's clock (``EventBoard.now``).

    Capture times are absolute (epoch seconds) while agent facts and events count
    from the run's start. The first SIP message on the wire is aligned with the
    first ``call_state`` event an agent posted (the caller starting its call);
    without events the first captured packet becomes time 0. Times that are
    already small (relative) are left alone.
    """
    times = _wire_times(result)
    if not times or min(times) < 1e6:
        return 0.0
    sip = [m.get("time") for c in wire_calls(result) for m in c.get("messages") or []
           if isinstance(m, dict) and isinstance(m.get("time"), (int, float))]
    first_state = next((e.get("t") for e in result.events or []
                        if isinstance(e, dict) and e.get("kind") == "call_state"
                        and isinstance(e.get("t"), (int, float))), None)
    if sip and first_state is not None:
        return min(sip) - float(first_state)
    return min(times)


def dtmf_timeline(result: Any) -> list[dict[str, Any]]:
    """Every DTMF event (sent, wire, received) in time order, for the HTML timeline."""
    rows: list[dict[str, Any]] = []
    for name, facts in (result.agents or {}).items():
        if not isinstance(facts, dict):
            continue
        for where, key in (("sent", "dtmf_sent"), ("received", "dtmf_received")):
            for e in facts.get(key) or []:
                if isinstance(e, dict):
                    rows.append({"time": e.get("t"), "where": where, "agent": name,
                                 "digit": e.get("digit"), "method": e.get("method"),
                                 "duration_ms": e.get("duration_ms")})
    labels = address_labels(result)
    offset = wire_offset(result)
    for e in wire_dtmf(result):
        src, dst = (labels.get(norm_addr(e.get(k)), e.get(k)) for k in ("src", "dst"))
        t = e.get("time")
        rows.append({"time": t - offset if isinstance(t, (int, float)) else None, "where": "wire",
                     "agent": f"{src} -> {dst}", "digit": e.get("digit"),
                     "method": e.get("method"), "duration_ms": e.get("duration_ms")})
    return sorted(rows, key=lambda r: (r["time"] is None, r["time"] or 0))


def rtp_streams(result: Any) -> list[dict[str, Any]]:
    wire = result.wire if isinstance(result.wire, dict) else {}
    return [s for s in wire.get("rtp_streams") or [] if isinstance(s, dict)]


def wire_dtmf(result: Any) -> list[dict[str, Any]]:
    wire = result.wire if isinstance(result.wire, dict) else {}
    return [e for e in wire.get("dtmf") or [] if isinstance(e, dict)]


def wire_calls(result: Any) -> list[dict[str, Any]]:
    wire = result.wire if isinstance(result.wire, dict) else {}
    return [c for c in wire.get("calls") or [] if isinstance(c, dict)]


def log_artifacts(result: Any) -> dict[str, str]:
    """Artifacts that are text logs (label -> path), in label order."""
    return {label: path for label, path in sorted((result.artifacts or {}).items())
            if str(path).endswith((".log", ".txt", ".out", ".err")) or label.endswith(".log")}


def log_tail(path: str, max_lines: int = 40, max_bytes: int = 8192) -> str | None:
    """The last lines of a log file (bounded in lines and bytes), or None if unreadable."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except OSError:
        return None
    text = data.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]                    # the first line is probably cut
    return "\n".join(lines[-max_lines:])


def artifact_href(path: str, base_dir: str | Path) -> str:
    """A link to ``path`` relative to ``base_dir`` when possible, else an absolute file URI."""
    p = Path(path)
    try:
        absolute = p if p.is_absolute() else p.resolve()
        rel = os.path.relpath(absolute, Path(base_dir).resolve())
        return Path(rel).as_posix()
    except ValueError:                       # another drive (Windows)
        return p.resolve().as_uri()


def artifacts_folder(result: Any) -> str | None:
    """The common folder of a scenario's artifacts, if it has any."""
    paths = [str(p) for p in (result.artifacts or {}).values() if p]
    if not paths:
        return None
    try:
        common = os.path.commonpath([os.path.abspath(p) for p in paths])
    except ValueError:
        return None
    return common if len(paths) > 1 or not os.path.isfile(common) else os.path.dirname(common)
