"""The way one party's media takes to another: directly, or through a relay.

Through a relay (rtpengine behind Kamailio, a B2BUA's own media) no RTP flows
between the two ends: the sender's media goes to the relay on one leg and the
relay's to the receiver on the other. A leg belongs to the pair's call when an
address of its streams was announced in the SDP of one of the calls between
them (``CheckContext.call_ids_between``: the same Call-ID through a proxy, both
linked legs of a declared B2BUA), so a relay carrying several calls at once does
not mix them.

``received`` is what reached the receiver (the direct streams, else the relay's
last leg into it); ``carried`` is every stream of that direction on the way
(both legs): "no RTP at all" must see RTP on either leg.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sipscen.checks.context import CheckContext
from sipscen.analysis.result import WireStream
from sipscen.checks.evidence import streams_from


@dataclass
class MediaPath:
    sender: str
    receiver: str
    direct: list[dict[str, Any]] = field(default_factory=list)
    # relay -> (streams sender->relay, streams relay->receiver) on the pair's calls
    relayed: dict[str, tuple[list[dict], list[dict]]] = field(default_factory=dict)

    @property
    def received(self) -> list[dict[str, Any]]:
        if self.direct:
            return self.direct
        return [s for _, last in self.relayed.values() for s in last]

    @property
    def carried(self) -> list[dict[str, Any]]:
        out = list(self.direct)
        for first, last in self.relayed.values():
            out += first + last
        return out

    def describe(self) -> str:
        if self.direct or not self.relayed:
            return ""
        return "through " + ", ".join(sorted(self.relayed))


def on_calls(ctx: CheckContext, stream: WireStream, call_ids: set[str]) -> bool:
    """Whether the SDP of one of ``call_ids`` announced an address of the stream."""
    if stream.call_id in call_ids:
        return True
    calls = ctx.media.calls
    return bool((calls.get(stream.src, set()) | calls.get(stream.dst, set())) & call_ids)


def media_path(ctx: CheckContext, sender: str, receiver: str) -> MediaPath:
    path = MediaPath(sender, receiver, streams_from(ctx, sender, receiver))
    if path.direct:
        return path
    ids = ctx.call_ids_between(sender, receiver)
    if not ids:
        return path
    for relay in ctx.services:
        if relay in (sender, receiver):
            continue
        first = [s for s in streams_from(ctx, sender, relay) if on_calls(ctx, s, ids)]
        last = [s for s in streams_from(ctx, relay, receiver) if on_calls(ctx, s, ids)]
        if first or last:
            path.relayed[relay] = (first, last)
    return path


def relay_between(ctx: CheckContext, a: str, b: str) -> str | None:
    """The service relaying the media of a and b on their calls, when none flows
    directly between them: RTP both ways on both legs (a<->relay, relay<->b)."""
    there, back = media_path(ctx, a, b), media_path(ctx, b, a)
    if there.direct or back.direct:
        return None
    for relay, (first, last) in there.relayed.items():
        other = back.relayed.get(relay)
        if first and last and other and other[0] and other[1]:
            return relay
    return None


def relay_legs(ctx: CheckContext, a: str, b: str, via: str) -> list[tuple[str, str, dict]]:
    """(x, y, {"x->y": streams, "y->x": streams}) for the legs a<->via and via<->b,
    only the streams of the pair's calls."""
    there, back = media_path(ctx, a, b), media_path(ctx, b, a)
    first, last = there.relayed.get(via, ([], []))
    back_first, back_last = back.relayed.get(via, ([], []))
    return [(a, via, {f"{a}->{via}": first, f"{via}->{a}": back_last}),
            (via, b, {f"{via}->{b}": last, f"{b}->{via}": back_first})]
