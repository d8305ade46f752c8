"""The vocabulary of scenarios, as one extension point (see ``registry.py``): what each
step kind, wait event, expectation family and agent type means and does. Reading a
file is ``sipscen.scenario``'s job; this package says what its words are.

registry.py    StepKind, WaitEvent, ExpectationFamily, AgentType records and their tables
control.py     CallControl: what an agent type implements so the timeline can drive it
timeline.py    the one interpreter of an agent's steps (waits, signals, consumption,
               current-call tracking)
steps/         one module per step kind
waits.py       the wait events
signals.py     waits for another party's signal (consumed once)
inline_expect.py  the `expect` of a SIPp inline message (normalised, judged)
service_language.py  a service's keys and steps (schema fragments)
schema_gen.py  the JSON Schema, assembled from the fragments
reference.py   the Markdown reference of every step, event and expectation
"""
