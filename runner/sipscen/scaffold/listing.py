"""``sipscen scaffold --list``: the dialogs of a capture, to pick one with ``--call``."""
from __future__ import annotations

from pathlib import Path

from sipscen.core.errors import UsageError
from sipscen.scaffold.flow import summarise, user_of


def list_capture(path: Path) -> str:
    from sipscen.analysis import analyze_capture  # lazy: the analyser: loaded on first use

    if path.is_dir():
        raise UsageError(f"{path}: is a folder, not a capture file")
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    analysis = analyze_capture(path, strict_keys=False)
    roles = {k: set() for k in ("forwarders", "registrars", "challengers", "probed",
                                "probers", "fronts")}
    summaries = summarise(analysis.iter_calls(), roles)
    t0 = min((s.start for s in summaries), default=0.0)
    rows = []
    counts: dict[str, int] = {}
    for s in summaries:
        if s.kind == "probe":
            continue
        counts[s.kind] = counts.get(s.kind, 0) + 1
        who = f"{user_of(s.from_) or '?'} -> {user_of(s.to) or '?'}"
        result = "answered" if s.answered else (str(s.status) if s.status else "-")
        rows.append((s.kind, f"{s.start - t0:.3f}", who, result, str(s.messages),
                     " ".join(s.methods), s.call_id))
    out = [f"{path}: {analysis.packets} packets, "
           + ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items())
           if counts else f"{path}: {analysis.packets} packets, no SIP dialogs"]
    suts = roles["forwarders"] | roles["registrars"] | roles["fronts"]
    if suts:
        out.append("system under test (relays or registers): " + ", ".join(sorted(suts)))
    streams = analysis.stream_count
    if streams:
        out.append(f"{streams} RTP stream(s), {len(analysis.dtmf)} DTMF event(s)")
    for w in analysis.warnings:
        out.append(f"warning: {w}")
    if rows:
        head = ("kind", "start s", "from -> to", "result", "msgs", "methods", "Call-ID")
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head) - 1)]
        fmt = "  ".join(f"{{:{w}}}" for w in widths) + "  {}"
        out.append(fmt.format(*head))
        out += [fmt.format(*r) for r in rows]
    out.append("scaffold one with: sipscen scaffold CAPTURE --call CALL-ID")
    return "\n".join(out) + "\n"
