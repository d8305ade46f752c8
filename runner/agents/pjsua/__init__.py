"""The pjsua agent type: PJSUA2 user agents, one worker process each.

controller.py  PjsuaAgent (the Agent contract), runs in the engine's process
steps.py       carries out the agent's scenario steps
settings.py    scenario config -> checked settings (ScenarioError on bad input)
facts.py       worker events -> the "Agent facts" of docs/ARCHITECTURE.md
protocol.py    the controller <-> worker line protocol (JSON per line)
sdp.py         SDP helpers (crypto lines, negotiated SRTP key)
worker.py      the child process: one Endpoint, one thread (imports pjsua2)
config.py      configure command -> endpoint, transport, codecs, account
pjobjects.py   pjsua2 Account/Call subclasses turning callbacks into events

Only worker.py, config.py and pjobjects.py import pjsua2.
"""
