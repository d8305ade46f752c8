"""The browser agent type as the language sees it: its keys, the step kinds and
wait events it carries out, what its facts report, and what it refuses at load time."""
from __future__ import annotations

from sipscen.language.registry import AgentType, register_agent_type
from sipscen.language.schema_base import ACCOUNT_PROPERTIES
from sipscen.agents.browser.chromium import spki_hash
from sipscen.core.model import parse_duration

# What Debian's Chromium (156) offers for audio; every other codec is refused at validate.
CODECS = ("opus", "G722", "PCMU", "PCMA")
TRANSPORTS = ("ws", "wss")

AGENT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "type": {"const": "browser"},
        "transport": {"enum": list(TRANSPORTS),
                      "description": "SIP over WebSocket (ws, default) or secure WebSocket "
                                     "(wss) to the registrar's ws_port / wss_port"},
        "account": {"type": "object", "additionalProperties": False, "required": ["registrar"],
                    "properties": {
                        **ACCOUNT_PROPERTIES,
                        "registrar": {"type": "string", "minLength": 1,
                                      "description": "the service the browser connects to "
                                                     "and registers at (its ws_port or "
                                                     "wss_port), or a ws:// or wss:// URL"},
                        "register_at_start": {"type": "boolean",
                                              "description": "REGISTER when it starts and be "
                                                             "ready only once it succeeded "
                                                             "(default true)"}}},
        "codecs": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "description": "the audio codecs it offers and accepts, in order "
                                  "(default: Chromium's own list)",
                   "items": {"type": "string", "pattern": f"^({'|'.join(CODECS)})$",
                             "x-error": "Chromium has no codec {value}: a browser agent "
                                        "offers opus, G722, PCMU or PCMA"}},
        "answer": {"type": "object", "additionalProperties": False,
                   "properties": {"manual": {"type": "boolean",
                                             "description": "an `answer` step answers"},
                                  "delay": {"$ref": "#/$defs/duration"},
                                  "reject": {"type": "integer", "minimum": 300,
                                             "maximum": 699}}},
        "source": {"type": "object", "additionalProperties": False, "minProperties": 1,
                   "maxProperties": 1,
                   "description": "what it sends all call long, under what `play` adds "
                                  "(default: silence)",
                   "properties": {
                       "tone": {"type": "number", "exclusiveMinimum": 0, "maximum": 8000,
                                "description": "a sine of this many Hz"},
                       "file": {"$ref": "#/$defs/file_path",
                                "description": "a WAV file, looped"}}},
        "tls": {"type": "object", "additionalProperties": False,
                "properties": {"trust": {"$ref": "#/$defs/file_path",
                                         "description": "a PEM certificate the browser "
                                                        "trusts for wss (e.g. the SUT's "
                                                        "self-signed one)"}}},
        "steps": {"$ref": "#/$defs/steps"},
    },
}

STEPS = frozenset({"call", "answer", "hangup", "cancel", "sleep", "signal", "dtmf", "play",
                   "wait", "hold", "unhold", "register", "unregister", "message"})
EVENTS = frozenset({"incoming", "answered", "media_active", "disconnected", "call_state",
                    "dtmf", "signal", "held", "resumed", "registered", "unregistered",
                    "registration_failed", "message"})

# RTCDTMFSender.insertDTMF: a tone lasts 40 ms to 6 s, a gap at least 30 ms
RFC4733_DURATION = (0.040, 6.0)
RFC4733_GAP = 0.030


def check_step(lc, kind: str, params) -> None:
    """Step parameters a browser cannot carry out, refused at load time."""

    def seconds(key: str) -> float | None:
        try:
            return parse_duration(params[key]) if key in params else None
        except ValueError:
            return None          # the generic duration check words that one

    if kind == "hold" and (params or {}).get("mode", "sendonly") != "sendonly":
        lc.fail("a browser agent holds with a=sendonly only (JsSIP)", ["mode"])
    if kind == "message" and params.get("headers"):
        lc.fail("a browser agent cannot add headers to a MESSAGE", ["headers"], key=True)
    if kind == "dtmf" and params.get("method", "rfc4733") == "rfc4733":
        duration, gap = seconds("duration"), seconds("gap")
        lo, hi = RFC4733_DURATION
        if duration is not None and not lo <= duration <= hi:
            lc.fail(f"RTCDTMFSender sends tones of {lo * 1000:g} ms to {hi:g} s", ["duration"])
        if gap is not None and gap < RFC4733_GAP:
            lc.fail(f"RTCDTMFSender leaves at least {RFC4733_GAP * 1000:g} ms between tones",
                    ["gap"])


def check_agent(lc, config) -> None:
    """The browser's own keys: the trusted certificate is a PEM certificate; a `source`
    file exists; a wss browser names a server it can reach securely."""
    tls = config.get("tls")
    if isinstance(tls, dict) and isinstance(tls.get("trust"), str):
        lc.file(tls, "trust", ["tls"])
        try:
            spki_hash(tls["trust"])
        except (OSError, ValueError) as exc:
            lc.fail(f"not a PEM certificate: {exc}", ["tls", "trust"])
    source = config.get("source")
    if isinstance(source, dict):
        lc.file(source, "file", ["source"])
    registrar = (config.get("account") or {}).get("registrar")
    transport = config.get("transport", "ws")
    if isinstance(registrar, str) and "://" not in registrar and ":" in registrar:
        lc.fail(f"a browser connects over WebSocket: name the service it registers at, or "
                f"give a ws:// or wss:// URL (not {registrar!r})", ["account", "registrar"])
    if isinstance(registrar, str) and "://" in registrar:
        scheme = registrar.partition("://")[0].lower()
        if scheme not in TRANSPORTS:
            lc.fail(f"'{registrar}' is not a ws:// or wss:// URL", ["account", "registrar"])
        elif "transport" in config and scheme != transport:
            lc.fail(f"transport {transport} but the registrar's URL is {scheme}://",
                    ["transport"])


register_agent_type(AgentType(
    name="browser", implementation="sipscen.agents.browser.agent:BrowserAgent",
    schema_def="browser_agent", schema=AGENT_SCHEMA, steps=STEPS, events=EVENTS,
    capabilities=frozenset({"calls", "dtmf", "registrations", "messages"}),
    facts_record="sipscen.agents.records:BrowserFacts",
    check_step=check_step, check_agent=check_agent, codecs=frozenset(CODECS),
    doc="A real browser: headless Chromium (Debian's) running JsSIP, driven through "
        "Playwright; SIP over WebSocket (`transport: ws|wss`) to its registrar, media by "
        "ICE + DTLS-SRTP. It sends silence, `source` or what `play` adds (WebAudio), "
        "records what each call receives (rx-N.wav) and detects in-band DTMF in it, and "
        "reports the browser's own RTP statistics (getStats). DTMF by RTCDTMFSender "
        "(rfc4733), SIP INFO or in-band; received RFC 4733 events are not visible to a "
        "page (judge them on the wire). One Chromium per scenario serves every browser "
        "agent, each in its own browser context. docs/WEBRTC.md."))
