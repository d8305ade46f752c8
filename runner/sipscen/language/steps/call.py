"""``call``: place a call to an agent/service by name, or to a URI."""
import ipaddress
import re

from sipscen.language.registry import StepKind, register_step
from sipscen.core.errors import ScenarioError
from sipscen.core.network import require_loopback

# the host of sip:/sips: URI (after an optional user@): an IP literal, [IPv6] or a name
_URI_HOST = re.compile(r"^<?sips?:(?:[^@;?>]*@)?(\[[^\]]+\]|[^:;?>]+)", re.I)

_PARTY = {"type": ["string", "object"], "minLength": 1, "minProperties": 1,
          "additionalProperties": False,
          "properties": {"user": {"type": "string", "minLength": 1,
                                  "pattern": "^[A-Za-z0-9._~!$&'()*+,;=%-]+$"},
                         "display": {"type": "string", "minLength": 1},
                         "domain": {"type": "string", "minLength": 1}}}
IDENTITY = {
    "description": "Caller-ID of this call: `from` and `to` (a URI, or {user, display, "
                   "domain}), `asserted` and `preferred` identities (RFC 3325 headers). "
                   "The Request-URI stays the call's destination.",
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {"from": _PARTY, "to": _PARTY,
                   "asserted": {"type": "string", "minLength": 1,
                                "description": "P-Asserted-Identity (a URI)"},
                   "preferred": {"type": "string", "minLength": 1,
                                 "description": "P-Preferred-Identity (a URI)"}}}

SCHEMA = {
    "description": "Place a call: `to` an agent or service by name, or a `uri`.",
    "type": "object", "additionalProperties": False,
    "properties": {
        "to": {"$ref": "#/$defs/name"},
        "uri": {"type": "string", "minLength": 1},
        "id": {"$ref": "#/$defs/name",
               "description": "name this call: steps, waits and expectations can aim at it"},
        "headers": {"$ref": "#/$defs/headers_to_add"},
        "timeout": {"$ref": "#/$defs/positive_duration",
                    "description": "CANCEL the call when it is not answered by then "
                                   "(the caller sees 487)."},
        "identity": IDENTITY,
        "sdp": {"type": "boolean",
                "description": "false: a late offer (an INVITE without SDP; the callee offers "
                               "in its 200, this agent answers in the ACK)"},
    },
}



def check(lc, params) -> None:
    lc.exactly_one(params, ("to", "uri"))
    check_uri(lc, params)
    if params.get("id") and params["id"] in lc.checker.call_ids.setdefault(lc.agent, set()):
        lc.fail(f"this agent already names a call '{params['id']}'", ["id"])
    elif params.get("id"):
        lc.checker.call_ids[lc.agent].add(params["id"])
        lc.checker.placed_ids.setdefault(lc.agent, set()).add(params["id"])
    lc.ref(params.get("to"), ["to"], services_too=True)


def run(t, params) -> None:
    if not params.get("uri") and not params.get("to"):
        raise t.fail("call needs 'to' (agent/service name) or 'uri'")
    uri = destination(t, params)
    timeout = params.get("timeout")
    seconds = t.duration(timeout, "call timeout") if timeout else None
    name = str(params["id"]) if params.get("id") else None
    if name and name in t.named:
        raise t.fail(f"a call named '{name}' was already placed")
    options = {k: params[k] for k in ("identity", "sdp") if k in params}
    headers = dict(params.get("headers") or {})
    if options:
        call_id = t.control.make_call(uri, seconds, headers, name, options=options)
    else:
        call_id = t.control.make_call(uri, seconds, headers, name)
    t.placed(call_id, name)


def check_uri(lc, params) -> None:
    """Load time: a literal `uri` is a sip:/sips: URI whose host is an IP address
    (never a name to resolve). Whether that address may be sent to is known when the
    step runs (in a Kubernetes pod, the discovered SUT endpoints too)."""
    uri = params.get("uri")
    if not isinstance(uri, str) or "${" in uri:
        return
    match = _URI_HOST.match(uri.strip())
    if match is None:
        lc.fail(f"'{uri}' is not a sip: or sips: URI", ["uri"])
        return
    try:
        ipaddress.ip_address(match.group(1).strip("[]"))
    except ValueError:
        lc.fail(f"'{match.group(1)}' is not an IP address (sipscen talks to loopback "
                "addresses only)", ["uri"])


def destination(t, params) -> str:
    """The URI a step's `uri` or `to` (an agent or service by name) aims at."""
    if params.get("uri"):
        uri = str(params["uri"])
        check_destination(t, uri)
        return uri
    name = str(params.get("to"))
    if name not in t.ctx.contacts:
        raise t.fail(f"{t.step.kind}: unknown agent or service {name!r}")
    return t.ctx.contact(name).uri


def check_destination(t, uri: str) -> None:
    """The URI's host must be an address sipscen may send to (loopback here; in a
    Kubernetes pod also the discovered SUT endpoints): never a name to resolve."""

    match = _URI_HOST.match(uri.strip())
    if match is None:
        raise t.error(f"'{uri}' is not a sip: or sips: URI", "uri")
    try:
        require_loopback(match.group(1), f"{t.step.path}.{t.step.kind}.uri", t.step.location)
    except ScenarioError as exc:
        raise t.error(f"{t.step.kind} to {uri}: {exc.message}", "uri") from None


register_step(StepKind(
    name="call", schema=SCHEMA, check=check, run=run,
    doc="Place a call to another agent or service (`to`) or to any `uri`; the waits "
        "that follow are about this call. `timeout` cancels it when unanswered (487); "
        "`id` names it (for `call:` in later steps, waits and `call` expectations); "
        "`headers` are added to the INVITE; `identity` sets its From, To and asserted "
        "identities (P-Asserted-Identity, P-Preferred-Identity); `sdp: false` places it "
        "with a late offer (no SDP in the INVITE).",
    example="- call: {uri: 'sip:0044123@${sut.hostport}', identity: {from: {user: '+4412345', "
            "display: Alice}}, sdp: false}"))
