"""The pjsua agent type: PJSUA2 user agents, one worker process each.

controller.py  PjsuaAgent (the Agent contract), runs in the engine's process
settings.py    scenario config -> checked settings (ScenarioError on bad input)
facts.py       worker events -> the "Agent facts" of docs/ARCHITECTURE.md
protocol.py    the controller <-> worker line protocol (JSON per line)
sdp.py         SDP helpers (crypto lines, negotiated SRTP key)
language.py    the pjsua AgentType (its keys, steps, events, facts record)
worker.py      the child process: one Endpoint, one thread (imports pjsua2)
callops.py     the worker's hold/re-INVITE/INFO/transfer/MESSAGE/register commands
config.py      configure command -> endpoint, transport, codecs, account
pjobjects.py   pjsua2 Account/Call subclasses turning callbacks into events

Only worker.py, callops.py, config.py and pjobjects.py import pjsua2.
"""
