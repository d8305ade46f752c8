"""The pjsua agent type as the language sees it: its keys (schema fragment), the
step kinds and wait events it carries out, what its facts report."""
from sipscen.agents.impair import SCHEMA as IMPAIR_SCHEMA
from sipscen.language.registry import AgentType, register_agent_type
from sipscen.language.schema_base import ACCOUNT_PROPERTIES

_PARAMS = {'type': 'object', 'minProperties': 1,
           'propertyNames': {'pattern': "^[A-Za-z0-9!%'*+._~-]+$"},
           'additionalProperties': {'type': ['string', 'number', 'boolean', 'null']}}
CONTACT_SCHEMA = {
    'description': 'The Contact this agent sends (REGISTER, INVITE, answers).',
    'type': 'object', 'additionalProperties': False, 'minProperties': 1,
    'properties': {
        'uri': {'type': 'string', 'pattern': '^<?sips?:',
                'description': 'replace the Contact URI (the one Contact, not a second one)'},
        'uri_params': {**_PARAMS, 'description': 'parameters inside the Contact URI '
                                                 '(name: value; null or true: a flag)'},
        'params': {**_PARAMS, 'description': 'parameters of the Contact header, after the '
                                             'URI (name: value; null or true: a flag)'},
        'outbound': {'description': 'RFC 5626 on REGISTER: reg-id and +sip.instance (default '
                                    'PJSIP\'s generated instance id, reg-id 1); false: '
                                    'none',
                     'type': ['object', 'boolean'], 'additionalProperties': False,
                     'properties': {'instance': {'type': 'string', 'pattern': '^<urn:'},
                                    'reg_id': {'type': 'integer', 'minimum': 1}}},
        'rewrite': {'description': 'rewrite the Contact (and Via) from the received/rport a '
                                   'registrar reports (NAT), re-registering (default true, as '
                                   'PJSIP)',
                    'type': 'boolean'}}}

_SERVER = {'type': 'string', 'minLength': 1,
           'description': 'a service or agent by name, or host:port'}
ICE_SCHEMA = {
    'description': 'ICE (RFC 8445) for the media: relayed candidates gathered at a TURN '
                   'server (`turn`) and checked with the other party. (No STUN server: on the '
                   'loopback PJNATH gathers no host candidate, so a server-reflexive one has '
                   'no base and ICE fails with PJNATH_EICENOHOSTCAND.)',
    'type': 'object', 'additionalProperties': False, 'required': ['turn'],
    'properties': {
        'turn': {'type': 'object', 'additionalProperties': False, 'required': ['server'],
                 'properties': {'server': _SERVER,
                                'username': {'type': 'string', 'minLength': 1},
                                'password': {'type': 'string'},
                                'transport': {'enum': ['udp', 'tcp']}}},
        'rtcp': {'type': 'boolean', 'description': 'ICE for RTCP too (default true)'}}}

AGENT_SCHEMA = {'type': 'object',
 'additionalProperties': False,
 'properties': {'type': {'const': 'pjsua'},
                'address': {'$ref': '#/$defs/address'},
                'port': {'$ref': '#/$defs/port'},
                'transport': {'$ref': '#/$defs/transport'},
                'account': {'type': 'object',
                            'additionalProperties': False,
                            'properties': {**ACCOUNT_PROPERTIES,
                                           'display': {'type': 'string',
                                                       'description': 'the display name of '
                                                                      'its From (and To of '
                                                                      'calls to it)'},
                                           'proxy': {'type': 'string', 'minLength': 1,
                                                     'description': 'outbound proxy for '
                                                                    'REGISTER and calls: an '
                                                                    'agent or service name, or '
                                                                    'a sip: URI (a Route '
                                                                    'header; the Request-URI '
                                                                    'is unchanged)'},
                                           'contact': CONTACT_SCHEMA,
                                           'register_at_start': {
                                               'description': 'REGISTER before the steps start '
                                                              'and be ready only once it '
                                                              'succeeded (default true); false: '
                                                              'a `register` step does',
                                               'type': 'boolean'}}},
                'codecs': {'type': 'array',
                           'minItems': 1,
                           'uniqueItems': True,
                           'items': {'$ref': '#/$defs/codec'}},
                'srtp': {'type': 'object',
                         'additionalProperties': False,
                         'properties': {'use': {'enum': ['disabled', 'optional', 'mandatory']},
                                        'secure_signaling': {'description': 'SIP transport '
                                                             'SRTP needs: 0 any (default), 1 TLS '
                                                             'on the first hop, 2 sips: end to end '
                                                             '(1 or 2 over UDP: the call fails)',
                                                             'type': 'integer',
                                                             'enum': [0, 1, 2]}}},
                'answer': {'type': 'object',
                           'additionalProperties': False,
                           'properties': {'code': {'$ref': '#/$defs/status_code'},
                                          'reason': {'$ref': '#/$defs/reason_phrase'},
                                          'delay': {'$ref': '#/$defs/duration'},
                                          'reject': {'type': 'integer',
                                                     'minimum': 300,
                                                     'maximum': 699},
                                          'manual': {'description': 'Do not answer by itself: an '
                                                                    '`answer` step does.',
                                                     'type': 'boolean'},
                                          'ring': {'description': 'Send an automatic 180 before '
                                                                  'answering (default true).',
                                                   'type': 'boolean'},
                                          'headers': {'$ref': '#/$defs/headers_to_add'}}},
                'transfer': {'description': 'How a REFER received is answered.',
                             'type': 'object',
                             'additionalProperties': False,
                             'properties': {'code': {'description': 'the REFER reply: 202 '
                                                                    '(default) follows it, a '
                                                                    '4xx-6xx refuses it',
                                                     'type': 'integer',
                                                     'minimum': 200,
                                                     'maximum': 699}}},
                'prack': {'description': 'Reliable provisional responses (100rel, PRACK): off '
                                          '(default), supported, required.',
                          'enum': ['off', 'supported', 'required']},
                'session_timer': {'description': 'SIP session timers (RFC 4028).',
                                  'type': 'object',
                                  'additionalProperties': False,
                                  'properties': {'use': {'enum': ['inactive', 'optional',
                                                                  'required', 'always']},
                                                 'expires': {'$ref': '#/$defs/positive_duration',
                                                             'description': 'Session-Expires '
                                                                            '(at least 90s)'}}},
                'follow_redirects': {'description': 'Follow a 3xx answer to a call (default '
                                                    'false: the call ends with the 3xx).',
                                     'type': 'boolean'},
                'tls': {'type': 'object',
                        'additionalProperties': False,
                        'properties': {'cert': {'$ref': '#/$defs/file_path'},
                                       'key': {'$ref': '#/$defs/file_path'},
                                       'ca': {'$ref': '#/$defs/file_path',
                                              'description': 'the CAs it trusts (PEM)'},
                                       'verify_server': {
                                           'description': 'a server it connects to must show '
                                                          'a certificate the `ca` signed for '
                                                          'the address it connects to (default '
                                                          'false)', 'type': 'boolean'},
                                       'verify_client': {
                                           'description': 'a client connecting to it must show '
                                                          'a certificate the `ca` signed '
                                                          '(default false)', 'type': 'boolean'}}},
                'media': {'type': 'object',
                          'additionalProperties': False,
                          'properties': {'port_range': {'description': '[first, last] RTP ports '
                                                                       'this agent may use.',
                                                        'type': 'array',
                                                        'minItems': 2,
                                                        'maxItems': 2,
                                                        'items': {'type': 'integer',
                                                                  'minimum': 1024,
                                                                  'maximum': 65535}},
                                         'ports': {'description': 'How many RTP ports to reserve.',
                                                   'type': 'integer',
                                                   'minimum': 2,
                                                   'maximum': 1000}}},
                'ice': ICE_SCHEMA,
                'impair': IMPAIR_SCHEMA,
                'steps': {'$ref': '#/$defs/steps'}}}

# what the pjsua2-python 2.15.1 wheel negotiates (ep.codecEnum2(); no opus, no G.729)
CODECS = frozenset({"PCMA", "PCMU", "G722", "speex", "GSM", "iLBC", "L16"})


def check_agent(lc, agent) -> None:
    """What the worker would refuse when the run starts, refused at load time."""
    srtp = agent.get("srtp") or {}
    level = srtp.get("secure_signaling") if isinstance(srtp, dict) else None
    if isinstance(level, int) and level >= 1 and agent.get("transport", "udp") != "tls":
        need = "TLS on the first hop" if level == 1 else "sips: end to end"
        lc.fail(f"secure_signaling {level} needs SIP over TLS ({need}); "
                f"this agent's transport is {agent.get('transport', 'udp')} (every call "
                "would fail: PJSIP_ESESSIONINSECURE)", ["srtp", "secure_signaling"])


register_agent_type(AgentType(
    name="pjsua", implementation="sipscen.agents.pjsua.controller:PjsuaAgent",
    schema_def="pjsua_agent", schema=AGENT_SCHEMA,
    steps=frozenset({"call", "answer", "hangup", "sleep", "signal", "dtmf", "play", "record",
                     "stop_record", "wait", "hold", "unhold", "register", "unregister",
                     "message", "transfer", "cancel", "reinvite", "update", "info", "request"}),
    events=frozenset({"incoming", "answered", "media_active", "disconnected", "call_state",
                      "dtmf", "signal", "held", "resumed", "early_media", "registered",
                      "registration_failed", "unregistered", "message", "transfer_requested",
                      "transferred", "transfer_status", "redirected", "request_answered", "tone"}),
    capabilities=frozenset({"calls", "dtmf", "registrations", "messages", "transfers"}),
    facts_record="sipscen.agents.records:PjsuaFacts", check_agent=check_agent, codecs=CODECS,
    check_config="sipscen.agents.pjsua.settings:check_config",
    doc="A PJSUA2 user agent (one worker process): calls, SRTP, codecs, audio, DTMF. It records "
        "what each call receives (rx-N.wav in its artifacts) and detects in-band DTMF in it; "
        "`impair:` puts its media receive path behind a loss/delay/jitter relay."))
