"""SDP codec names as the scenario language writes them, and which agent type has them."""
from __future__ import annotations

# static payload types (RFC 3551) -> rtpmap name
STATIC = {0: "PCMU/8000", 3: "GSM/8000", 4: "G723/8000", 8: "PCMA/8000", 9: "G722/8000",
          10: "L16/44100/2", 11: "L16/44100/1", 18: "G729/8000"}
LANGUAGE = {"pcmu": "PCMU", "pcma": "PCMA", "g722": "G722", "speex": "speex", "gsm": "GSM",
            "ilbc": "iLBC", "l16": "L16", "opus": "opus", "g729": "G729", "amr": "AMR",
            "amr-wb": "AMR-WB", "g7221": "G7221"}
PJSUA = frozenset({"PCMU", "PCMA", "G722", "speex", "GSM", "iLBC", "L16"})
BARESIP = frozenset({"PCMU", "PCMA", "G722", "opus"})
NOT_AUDIO = frozenset({"telephone-event", "cn", "red", "ulpfec", "rtx"})


def rtpmap_name(media: dict, pt: int) -> str:
    rtpmap = media.get("rtpmap") or {}
    return str(rtpmap.get(str(pt)) or rtpmap.get(pt) or STATIC.get(pt) or f"payload type {pt}")


def language_name(rtpmap: str) -> str | None:
    """``PCMA/8000`` -> ``PCMA``; None for telephone-event, comfort noise and the unknown."""
    name = rtpmap.split("/", 1)[0].lower()
    if name in NOT_AUDIO:
        return None
    if name == "l16" and rtpmap.endswith("/2"):
        return None       # stereo L16: no agent enables it (PJMEDIA's bridge is mono)
    return LANGUAGE.get(name)


def media_codecs(media: dict) -> tuple[list[str], list[str]]:
    """(language names in the SDP's order, rtpmap names the language has no name for)."""
    names: list[str] = []
    unknown: list[str] = []
    for pt in media.get("payload_types") or []:
        rtpmap = rtpmap_name(media, int(pt))
        name = language_name(rtpmap)
        if name is None:
            if rtpmap.split("/", 1)[0].lower() not in NOT_AUDIO:
                unknown.append(rtpmap)
            continue
        if name not in names:
            names.append(name)
    return names, unknown


def offered_codecs(msg) -> list[str]:
    media = msg.audio
    return media_codecs(media)[0] if media else []


def telephone_event_pts(media: dict) -> list[int]:
    return [int(pt) for pt in media.get("payload_types") or []
            if rtpmap_name(media, int(pt)).lower().startswith("telephone-event")]


def stream_codec(stream: dict) -> str | None:
    """The audio codec an RTP stream carried (from the SDP the analysis linked it to)."""
    codecs = stream.get("codecs") or {}
    for pt in stream.get("payload_types") or []:
        rtpmap = str(codecs.get(str(pt)) or STATIC.get(int(pt)) or "")
        name = language_name(rtpmap) if rtpmap and "by content" not in rtpmap else None
        if name:
            return name
    quality = (stream.get("quality") or {}).get("codec")
    return language_name(str(quality)) if quality else None
