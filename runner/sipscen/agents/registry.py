"""Agent types by name: the language registry's ``AgentType`` records
(``sipscen.language.registry``), each declared in its agent's ``language.py``."""
from __future__ import annotations

from sipscen.agents.base import Agent
from sipscen.language import registry


def agent_class(type_name: str) -> type[Agent]:
    """The implementation of an agent type, imported now (never at validate time)."""
    return registry.agent_types()[type_name].implementation_class()
