"""``dtmf``: send digits on the current call (RFC 4733, SIP INFO or in-band dual tones)."""
from sipscen.language.registry import StepKind, register_step
from sipscen.core.model import parse_duration

METHODS = ("rfc4733", "sip-info", "inband")
DEFAULT_DURATION = "160ms"      # PJSUA's own default per digit
DEFAULT_GAP = "100ms"

SCHEMA = {
    "description": "Send DTMF digits on the current call.",
    "type": "object", "required": ["digits"], "additionalProperties": False,
    "properties": {
        "digits": {"$ref": "#/$defs/dtmf_digits"},
        "method": {"enum": list(METHODS)},
        "duration": {"$ref": "#/$defs/duration", "description": "per digit, default 160ms"},
        "gap": {"$ref": "#/$defs/duration", "description": "between digits, default 100ms"},
    },
}


def scripted(params) -> float:
    digits = str(params.get("digits", params.get("value", "")))
    per = parse_duration(params.get("duration", DEFAULT_DURATION))
    gap = parse_duration(params.get("gap", DEFAULT_GAP))
    return len(digits) * per + max(0, len(digits) - 1) * gap


def run(t, params) -> None:
    digits = str(params.get("digits", params.get("value", "")))
    if not digits:
        raise t.fail("dtmf needs digits")
    method = str(params.get("method", METHODS[0]))
    if method not in METHODS:
        raise t.fail(f"dtmf method must be one of {', '.join(METHODS)}")
    t.control.send_dtmf(digits, method,
                        t.duration(params.get("duration", DEFAULT_DURATION), "dtmf duration"),
                        t.duration(params.get("gap", DEFAULT_GAP), "dtmf gap"))


register_step(StepKind(
    name="dtmf", schema=SCHEMA, run=run, scripted=scripted,
    doc="Send DTMF digits on the answered call, by RFC 4733 (default), SIP INFO or `inband` "
        "(ITU-T Q.23 dual tones in the audio, about -7 dBm0 per tone); each digit lasts "
        "`duration` (160ms), `gap` (100ms) between digits.",
    example='- dtmf: {digits: "1234#", method: rfc4733, duration: 100ms, gap: 100ms}'))
