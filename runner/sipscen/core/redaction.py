"""Secret redaction shared by every report writer.

A secret is a value that came from ``${env:NAME}`` (a password, a token). No
report may show it: every string anywhere in the data handed to a writer is
scrubbed, including dictionary keys and substrings of longer strings (a secret
inside a SIP message, a log tail or an error message).
"""
from __future__ import annotations

from typing import Any, Iterable

MASK = "***"


def _ordered(secrets: Iterable[str] | None) -> list[str]:
    """Non-empty secrets, longest first (so a secret containing another is masked whole)."""
    unique = {str(s) for s in (secrets or ()) if s is not None and str(s) != ""}
    return sorted(unique, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str] | None) -> str:
    """``text`` with every occurrence of every secret replaced by ``***``."""
    for secret in _ordered(secrets):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(obj: Any, secrets: Iterable[str] | None) -> Any:
    """A deep copy of ``obj`` (dicts, lists, tuples, sets, scalars) with secrets masked.

    Strings are scrubbed; numbers and booleans that equal a secret's text are
    replaced by ``***`` too (a numeric PIN is still a secret). Other objects are
    converted with ``str`` first only if they are not plain JSON scalars.
    """
    ordered = _ordered(secrets)
    if not ordered:
        return _copy(obj)
    return _redact(obj, ordered)


def _copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _copy(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_copy(v) for v in obj]
    return obj


def _redact(obj: Any, ordered: list[str]) -> Any:
    if isinstance(obj, str):
        return redact_text(obj, ordered)
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, (int, float)):
        return MASK if str(obj) in ordered else obj
    if isinstance(obj, dict):
        return {_redact(k, ordered) if isinstance(k, str) else k: _redact(v, ordered)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_redact(v, ordered) for v in obj]
    return redact_text(str(obj), ordered)


def secrets_of(results: Iterable[Any], extra: Iterable[str] | None = None) -> list[str]:
    """Every secret the results carry (``ScenarioResult.secrets``) plus ``extra``."""
    found: set[str] = set(extra or ())
    for result in results:
        found.update(getattr(result, "secrets", None) or ())
    return _ordered(found)
