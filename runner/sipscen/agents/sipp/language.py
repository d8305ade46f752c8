"""The sipp agent type as the language sees it: its keys (schema fragment), the
step kinds and wait events it carries out (timing only: SIPp runs its own XML),
what its facts report."""
from sipscen.agents.impair import PERCENT_SCHEMA
from sipscen.language.registry import AgentType, register_agent_type

AGENT_SCHEMA = {'type': 'object',
 'additionalProperties': False,
 'properties': {'type': {'const': 'sipp'},
                'address': {'$ref': '#/$defs/address'},
                'port': {'$ref': '#/$defs/port'},
                'transport': {'$ref': '#/$defs/transport'},
                'scenario': {'description': 'A built-in SIPp scenario (uac, uas, ...) or a path to '
                                            'a SIPp XML file.',
                             'type': 'string',
                             'minLength': 1},
                'messages': {'type': 'array',
                             'minItems': 1,
                             'items': {'$ref': '#/$defs/sipp_message'}},
                'answer': {'description': 'A generated callee: nothing at all (not even 100 '
                                          'Trying) for `delay`, then a 180 if `ring`, then '
                                          '`code` with its `reason` phrase (a 2xx with SDP).',
                           'type': 'object', 'additionalProperties': False,
                           'properties': {'delay': {'$ref': '#/$defs/duration'},
                                          'code': {'type': 'integer', 'minimum': 200,
                                                   'maximum': 699},
                                          'reason': {'$ref': '#/$defs/reason_phrase'},
                                          'ring': {'type': 'boolean'}}},
                'probe': {'description': 'Send a liveness OPTIONS after the inline messages '
                                         '(default true).',
                          'type': 'boolean'},
                'target': {'description': 'An agent or service name, or host:port.',
                           'type': 'string',
                           'minLength': 1},
                'user': {'description': 'User part of the Request-URI a calling SIPp sends (sipp '
                                        "-s), e.g. 9000 for the example SUT's UAS prefix.",
                         'type': ['string', 'integer'],
                         'pattern': "^[A-Za-z0-9._~!$&'()*+,;=%-]+$"},
                'rate': {'type': 'number', 'exclusiveMinimum': 0},
                'rate_period': {'$ref': '#/$defs/duration'},
                'calls': {'type': 'integer', 'minimum': 1},
                'limit': {'type': 'integer', 'minimum': 1},
                'duration': {'$ref': '#/$defs/duration'},
                'rate_increase': {'type': 'number', 'exclusiveMinimum': 0},
                'rate_max': {'type': 'number', 'exclusiveMinimum': 0},
                'time_limit': {'$ref': '#/$defs/duration'},
                'media': {'type': 'object',
                          'additionalProperties': False,
                          'properties': {'play_pcap': {'$ref': '#/$defs/file_path'},
                                         'play_dtmf': {'$ref': '#/$defs/dtmf_digits'},
                                         'rtp_echo': {'type': 'boolean'},
                                         'one_way_every': {
                                             'description': 'The caller stays silent in every '
                                                            'Nth call (N, 2N, ...): one-way '
                                                            'media on purpose.',
                                             'type': 'integer', 'minimum': 1}}},
                'impair': {'description': 'Send with loss: the agent plays a copy of its '
                                          'media.play_pcap with this share of the packets '
                                          'left out (seeded).',
                           'type': 'object', 'additionalProperties': False,
                           'required': ['loss'],
                           'properties': {'loss': PERCENT_SCHEMA, 'seed': {'type': 'integer'}}},
                'extra_args': {'type': 'array', 'items': {'type': 'string'}},
                'steps': {'$ref': '#/$defs/steps'}}}
MESSAGE_SCHEMA = {'description': 'A raw SIP message sent exactly as written, and what must come back (a bare string '
                'is just `send`).',
 'type': ['object', 'string'],
 'minLength': 1,
 'required': ['send'],
 'additionalProperties': False,
 'properties': {'send': {'type': 'string', 'minLength': 1},
                'expect': {'description': 'What must come back; shorthands: 400, "4xx", "nothing".',
                           'type': ['object', 'integer', 'string', 'null'],
                           'minimum': 100,
                           'maximum': 699,
                           'pattern': '^([1-6]xx|nothing)$',
                           'x-error': "expect must be a status code, a class like 4xx, 'nothing' "
                                      'or a mapping, got {value}',
                           'additionalProperties': False,
                           'properties': {'status': {'$ref': '#/$defs/status_spec'},
                                          'header': {'$ref': '#/$defs/header_patterns'},
                                          'nothing': {'$ref': '#/$defs/positive_duration'}}},
                'timeout': {'$ref': '#/$defs/positive_duration'}}}

register_agent_type(AgentType(
    name="sipp", implementation="sipscen.agents.sipp.agent:SippAgent",
    schema_def="sipp_agent", schema=AGENT_SCHEMA, extra_defs={"sipp_message": MESSAGE_SCHEMA},
    steps=frozenset({"sleep", "signal", "wait"}),
    events=frozenset({"signal"}),
    capabilities=frozenset({"responses", "load"}),
    facts_record="sipscen.agents.records:SippFacts",
    check_config="sipscen.agents.sipp.agent:check_endpoint",
    doc="SIPp: a built-in or XML scenario, inline raw messages, load. Its steps only time "
        "it: `sleep` and signal waits run before a calling SIPp starts, its `signal` steps "
        "are posted when it has finished (a serving SIPp posts them at once)."))
