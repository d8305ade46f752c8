"""The part of the scenario JSON Schema that no step, event, expectation or agent
type owns: the top level, services, capture and the shared ``$defs``. The rest
is added from the registry by ``schema_gen.py``."""
from sipscen.core.headers import CHECK_SCHEMA as _HEADER_CHECKS

# a share in percent, 0 to 100: 5%, 0.5, "12.5%" (impairments: agents/impair.py,
# agents/sipp/impair.py, a service's impair: core/netfilter.py)
PERCENT_SCHEMA = {"type": ["number", "string"], "pattern": "^(100(\\.0+)?|\\d{1,2}(\\.\\d+)?)%?$",
                  "minimum": 0, "maximum": 100,
                  "x-error": "not a percentage: {value} (use e.g. 5% or 0.5)"}
_DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
# an agent's `account`: what every agent type that registers shares (pjsua, browser)
ACCOUNT_PROPERTIES = {
    'user': {'type': 'string', 'minLength': 1},
    'domain': {'type': 'string', 'minLength': 1},
    'registrar': {'type': 'string', 'minLength': 1},
    'password': {'type': 'string'},
    'realm': {'type': 'string'},
    'username': {'type': 'string', 'minLength': 1}}
# services.NAME.kube: a Kubernetes Service (sipscen.kube.discovery, docs/KUBERNETES.md)
_KUBE_SERVICE = {
    'description': 'A Kubernetes Service: its ready endpoints (discovery.k8s.io/v1 '
                   'EndpointSlices) for the named port.',
    'type': 'object', 'additionalProperties': False, 'required': ['name', 'port'],
    'properties': {
        'namespace': {'description': "Default: the namespace sipscen runs in (in a cluster), "
                                     "or the kubeconfig context's.",
                      'type': 'string', 'maxLength': 63, 'pattern': _DNS_LABEL},
        'name': {'type': 'string', 'maxLength': 63, 'pattern': _DNS_LABEL},
        'port': {'description': "The name of the Service's port, e.g. sip.",
                 'type': 'string', 'maxLength': 15, 'pattern': _DNS_LABEL}}}


BASE: dict = {'$schema': 'https://json-schema.org/draft/2020-12/schema',
 '$id': 'https://sipscen.invalid/schemas/scenario.schema.json',
 'title': 'sipscen scenario',
 'description': 'A declarative SIP/VoIP test scenario: agents with timed steps, services, capture '
                'and expectations. Keys marked x-error carry the message sipscen shows when a '
                'value is wrong.',
 'type': 'object',
 'required': ['name', 'agents'],
 'additionalProperties': False,
 'properties': {'name': {'type': 'string', 'minLength': 1},
                'description': {'type': 'string'},
                'tags': {'type': 'array',
                         'items': {'type': 'string', 'minLength': 1},
                         'uniqueItems': True},
                'timeout': {'$ref': '#/$defs/positive_duration'},
                'variables': {'description': 'Default values for ${NAME} (lowest priority: --var, '
                                             'then environment, then these).',
                              'type': 'object',
                              'propertyNames': {'$ref': '#/$defs/variable_name'},
                              'additionalProperties': {'$ref': '#/$defs/variable_value'}},
                'include': {'description': 'Files (relative to this one) whose agents, services, '
                                           'variables, capture and timeout are merged in; this '
                                           "file's own entries win.",
                            'type': 'array',
                            'items': {'type': 'string', 'minLength': 1}},
                'parametrize': {'description': 'Run the file once per variable set: a list of '
                                               'sets, or a mapping NAME -> list of values '
                                               '(cartesian product).',
                                'type': ['array', 'object'],
                                'items': {'type': 'object',
                                          'minProperties': 1,
                                          'propertyNames': {'$ref': '#/$defs/variable_name'},
                                          'additionalProperties': {'$ref': '#/$defs/variable_value'}},
                                'minItems': 1,
                                'propertyNames': {'$ref': '#/$defs/variable_name'},
                                'additionalProperties': {'type': 'array',
                                                         'minItems': 1,
                                                         'items': {'$ref': '#/$defs/variable_value'}},
                                'minProperties': 1},
                'agents': {'type': 'object',
                           'minProperties': 1,
                           'propertyNames': {'$ref': '#/$defs/name'},
                           'additionalProperties': {'$ref': '#/$defs/agent'}},
                'services': {'type': 'object',
                             'propertyNames': {'$ref': '#/$defs/name'},
                             'additionalProperties': {'$ref': '#/$defs/service'}},
                'capture': {'description': 'Packet capture; on by default on the loopback, '
                                           "filtered to the scenario's ports. `capture: false` "
                                           'turns it off.',
                            'type': ['boolean', 'object'],
                            'additionalProperties': False,
                            'properties': {'enabled': {'type': 'boolean'},
                                           'interface': {'type': 'string', 'minLength': 1},
                                           'filter': {'type': 'string'},
                                           'snaplen': {'type': 'integer', 'minimum': 0},
                                           'buffer': {'$ref': '#/$defs/capture_size',
                                                      'description': 'Kernel capture buffer '
                                                                     '(tcpdump -B; default '
                                                                     '64MiB): raise it when '
                                                                     'the kernel drops packets.'},
                                           'rotate': {'$ref': '#/$defs/capture_size',
                                                      'description': 'Start a new capture '
                                                                     'file every this many '
                                                                     'bytes (tcpdump -C, at '
                                                                     'least 1MB); every file '
                                                                     'is kept and analysed.'}}},
                'expect': {'type': 'array', 'items': {'$ref': '#/$defs/expectation'}}},
 '$defs': {'capture_size': {'type': ['string', 'integer'],
                           'pattern': '^\\s*\\d+(\\.\\d+)?\\s*(B|KB|KiB|MB|MiB|GB|GiB)?\\s*$',
                           'minimum': 1,
                           'x-error': 'not a size: {value} (use e.g. 64MiB or 100MB)'},
           'name': {'type': 'string',
                    'pattern': '^[A-Za-z][A-Za-z0-9_-]*$',
                    'x-error': "invalid name {value}: use a letter, then letters, digits, '_' or "
                               "'-'"},
           'variable_name': {'type': 'string',
                             'pattern': '^[A-Za-z_][A-Za-z0-9_]*$',
                             'x-error': 'invalid variable name {value}: use letters, digits and '
                                        "'_'"},
           'variable_value': {'type': ['string', 'number', 'boolean']},
           'duration': {'description': '200ms, 2s, 1.5m, 1h, or a plain number of seconds.',
                        'type': ['string', 'number'],
                        'pattern': '^\\d+(\\.\\d+)?(ms|s|m|h)?$',
                        'minimum': 0,
                        'x-error': 'not a duration: {value} (use e.g. 200ms, 2s, 1m)'},
           'positive_duration': {'description': 'A duration above 0 (timeouts, waits): 200ms, 2s, '
                                                '1.5m, 1h, or a plain number of seconds.',
                                 'type': ['string', 'number'],
                                 'pattern': '^(?!0*(\\.0*)?(ms|s|m|h)?$)\\d+(\\.\\d+)?(ms|s|m|h)?$',
                                 'exclusiveMinimum': 0,
                                 'x-error': 'not a duration above 0: {value} (use e.g. 200ms, 2s, '
                                            '1m)'},
           'port': {'type': ['integer', 'string'],
                    'pattern': '^auto$',
                    'minimum': 1,
                    'maximum': 65535,
                    'x-error': "port must be an integer 1-65535 or 'auto', got {value}"},
           'address': {'type': 'string', 'minLength': 1},
           'transport': {'enum': ['udp', 'tcp', 'tls']},
           'headers_to_add': {'description': 'SIP headers to add: name -> value.',
                     'type': 'object',
                     'minProperties': 1,
                     'propertyNames': {'pattern': "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$",
                                       'x-error': 'a header name is a SIP token (letters, '
                                                  'digits, -), got {value}'},
                     'additionalProperties': {'type': ['string', 'number']}},
  'status_code': {'type': 'integer', 'minimum': 100, 'maximum': 699},
           'reason_phrase': {'description': 'The reason phrase of the status line (default: '
                                            "the code's standard one).",
                             'type': 'string', 'minLength': 1, 'maxLength': 200,
                             'pattern': '^[^\\r\\n]+$',
                             'x-error': 'a reason phrase is one line of text, got {value}'},
           'status_spec': {'description': 'A status code, a class like 4xx, or a list of codes '
                                          '(any of them).',
                           'type': ['integer', 'string', 'array'],
                           'minimum': 100,
                           'maximum': 699,
                           'pattern': '^[1-6]xx$',
                           'minItems': 1,
                           'items': {'$ref': '#/$defs/status_code'},
                           'x-error': 'expected a status code (e.g. 200), a class (e.g. 2xx) or a '
                                      'list of codes, got {value}'},
           'file_path': {'type': 'string', 'minLength': 1},
           'regex': {'type': 'string', 'format': 'regex'},
           'header_patterns': {'description': 'Header name -> regular expression its value must '
                                              'match.',
                               'type': 'object',
                               'minProperties': 1,
                               'additionalProperties': {'$ref': '#/$defs/regex'}},
           'header_checks': _HEADER_CHECKS,
           'dtmf_digits': {'type': 'string',
                           'pattern': '^[0-9A-D*#]+$',
                           'x-error': 'invalid DTMF digits {value}: use 0-9, A-D, * and #'},
           'codec': {'type': 'string',
                     'pattern': '^(PCMA|PCMU|G722|G7221|opus|speex|GSM|iLBC|L16|G729|AMR|AMR-WB)(/[0-9]+(/[0-9]+)?)?$',
                     'x-error': 'unknown codec {value}: codecs are PCMA, PCMU, G722, G7221, opus, '
                                'speex, GSM, iLBC, L16, G729, AMR, AMR-WB (optionally /RATE)'},
           'service': {'description': 'A process the scenario needs (e.g. the system under test), '
                                      'started before the agents; or, with `kube`, a Kubernetes '
                                      'Service found through its EndpointSlices, not started by '
                                      'sipscen (docs/KUBERNETES.md).',
                       'type': 'object',
                       # a `kube` service has no command (semantic.py refuses one)
                       'if': {'required': ['kube']},
                       'else': {'required': ['command']},
                       'additionalProperties': False,
                       'properties': {'command': {'type': 'array',
                                                  'minItems': 1,
                                                  'items': {'type': 'string'}},
                                      'kube': _KUBE_SERVICE,
                                      'address': {'$ref': '#/$defs/address'},
                                      'port': {'$ref': '#/$defs/port'},
                                      'transport': {'$ref': '#/$defs/transport'},
                                      'ready': {'type': 'object',
                                                'additionalProperties': False,
                                                'minProperties': 1,
                                                'properties': {'sip_options': {'type': 'boolean'},
                                                               'log': {'$ref': '#/$defs/regex'},
                                                               'tcp_port': {'type': 'boolean'},
                                                               'timeout': {'$ref': '#/$defs/positive_duration'}}},
                                      'env': {'type': 'object',
                                              'propertyNames': {
                                                  'pattern': '^[^=\\x00]+$',
                                                  'x-error': 'invalid environment variable '
                                                             'name {value}: not empty, no '
                                                             "'=' and no NUL"},
                                              'additionalProperties': {'type': ['string',
                                                                                'number',
                                                                                'boolean']}},
                                      'stop_signal': {'type': ['string', 'integer'],
                                                      'pattern': '^(SIG)?[A-Z0-9]+$',
                                                      'minimum': 1,
                                                      'x-error': 'stop_signal must be a signal '
                                                                 'name like SIGTERM or a number, '
                                                                 'got {value}'}}},
           'agent_pair': {'type': 'array',
                          'minItems': 2,
                          'maxItems': 2,
                          'items': {'$ref': '#/$defs/name'}}}}
