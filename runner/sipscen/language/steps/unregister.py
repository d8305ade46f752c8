"""``unregister``: remove the agent's binding (REGISTER with Expires: 0)."""
from sipscen.language.steps.register import registration_step

registration_step(
    "unregister", "unregister",
    "REGISTER with Expires: 0: the binding is removed.",
    doc="Remove the account's binding at its registrar: a REGISTER with `Expires: 0`. Wait "
        "for `unregistered`.",
    example="- unregister: {}")
