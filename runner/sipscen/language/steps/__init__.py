"""One module per step kind; each registers a ``StepKind`` (see ``registry.py``)."""
