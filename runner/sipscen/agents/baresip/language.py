"""The baresip agent type as the language sees it: its keys, the step kinds and
wait events it carries out, what its facts report."""
from sipscen.language.registry import AgentType, register_agent_type

AGENT_SCHEMA = {
    "type": "object", "additionalProperties": False,
    "properties": {
        "type": {"const": "baresip"},
        "address": {"$ref": "#/$defs/address"},
        "port": {"$ref": "#/$defs/port"},
        "transport": {"enum": ["udp"]},
        "account": {"type": "object", "additionalProperties": False,
                    "properties": {"user": {"type": "string", "minLength": 1}}},
        "codecs": {"type": "array", "minItems": 1, "uniqueItems": True,
                   "items": {"enum": ["PCMA", "PCMU", "G722", "opus"]}},
        "srtp": {"type": "object", "additionalProperties": False,
                 "properties": {"use": {
                     "enum": ["disabled", "optional", "mandatory", "dtls"],
                     "description": "SDES (optional: srtp, mandatory: srtp-mand) or DTLS-SRTP "
                                    "keying (dtls: baresip's dtls_srtp module)"}}},
        "answer": {"type": "object", "additionalProperties": False,
                   "properties": {"manual": {"type": "boolean",
                                             "description": "an `answer` step answers"}}},
        "media": {"type": "object", "additionalProperties": False,
                  "properties": {"ports": {"type": "integer", "minimum": 4, "maximum": 1000}}},
        "source": {"type": "object", "additionalProperties": False, "required": ["tone"],
                   "description": "what it sends all call long",
                   "properties": {"tone": {
                       "type": "integer", "minimum": 10, "maximum": 20000,
                       "description": "a sine of this many Hz (baresip's ausine; default 440)"}}},
        "steps": {"$ref": "#/$defs/steps"},
    },
}

def check_step(lc, kind: str, params) -> None:
    """What the agent refuses when a step runs, refused at load time instead."""
    def no(key: str, message: str) -> None:
        lc.fail(f"a baresip agent {message}", [key], key=True)

    if kind in ("call", "answer") and params.get("headers"):
        no("headers", "cannot add headers")
    for key, what in (("identity", "cannot set the caller ID"),
                      ("sdp", "always offers SDP in its INVITE")):
        if kind == "call" and key in params:
            no(key, what)
    if kind == "answer" and "reason" in params:
        no("reason", "answers with the standard reason phrase only")
    if kind == "wait" and ("request_uri" in params or "headers" in params):
        no("request_uri" if "request_uri" in params else "headers",
           "does not report the headers or Request-URI it received")
    if kind == "call" and "timeout" in params:
        no("timeout", "cannot cancel an unanswered call (no `timeout`)")
    if kind == "answer" and params.get("code", 200) != 200:
        no("code", "answers with 200 only")
    if kind == "dtmf" and params.get("method", "rfc4733") != "rfc4733":
        no("method", "sends rfc4733 only")


register_agent_type(AgentType(
    name="baresip", implementation="sipscen.agents.baresip.agent:BaresipAgent",
    schema_def="baresip_agent", schema=AGENT_SCHEMA,
    steps=frozenset({"call", "answer", "hangup", "sleep", "signal", "dtmf", "wait"}),
    events=frozenset({"incoming", "answered", "media_active", "disconnected", "dtmf",
                      "signal"}),
    capabilities=frozenset({"calls", "dtmf"}),
    facts_record="sipscen.agents.records:BaresipFacts", check_step=check_step,
    check_config="sipscen.agents.baresip.agent:check_endpoint",
    codecs=frozenset({"PCMA", "PCMU", "G722", "opus"}),
    doc="An independent user agent (Debian's baresip 1.0, driven through its stdin menu): "
        "calls, PCMA/PCMU/G722/opus, a sine as its audio (`source: {tone: HZ}`), SDES or DTLS-SRTP, RFC 4733 DTMF. Its calls are judged "
        "from the capture; the digits it received from its own log."))
