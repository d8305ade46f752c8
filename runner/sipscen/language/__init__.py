"""The scenario language as one extension point (see ``registry.py``).

registry.py    StepKind, WaitEvent, ExpectationFamily, AgentType records and their tables
control.py     CallControl: what an agent type implements so the timeline can drive it
timeline.py    the one interpreter of an agent's steps (waits, signals, consumption,
               current-call tracking)
steps/         one module per step kind
waits.py       the wait events
schema_gen.py  the JSON Schema, assembled from the fragments
reference.py   the Markdown reference of every step, event and expectation
"""
