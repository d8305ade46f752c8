"""The ground floor: what every other package stands on.

Results, events, processes, ports, the watchdog, ``Contact``, the loopback
policy, errors and redaction. Nothing here imports anything else from sipscen.
"""
