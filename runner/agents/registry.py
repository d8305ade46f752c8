"""Agent types by name. An agent type registers here and nowhere else."""
from __future__ import annotations

import importlib

from sipscen.agents.base import Agent

# type name -> "module:Class"; imported lazily so `sipscen validate` never loads pjsua2.
AGENT_TYPES: dict[str, str] = {
    "pjsua": "sipscen.agents.pjsua.controller:PjsuaAgent",
    "sipp": "sipscen.agents.sipp.agent:SippAgent",
}


def agent_class(type_name: str) -> type[Agent]:
    module_name, _, class_name = AGENT_TYPES[type_name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
