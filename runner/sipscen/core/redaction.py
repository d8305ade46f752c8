"""Secret redaction: the one mechanism for reports, the console and artifacts.

A secret is a value that came from ``${env:NAME}`` (a password, a token) or an
account password. No report may show it: every string anywhere in the data
handed to a writer is scrubbed, including dictionary keys and substrings of
longer strings (a secret inside a SIP message, a log tail or an error
message). No artifact keeps it either: when a run ends, :func:`redact_tree`
masks it in every file of the run's folder (pjsua logs, a service's
stdout/stderr and generated files, SIPp traces, the capture), and the folder
itself is named after the masked scenario name.
"""
from __future__ import annotations

import mmap
import os
from pathlib import Path
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


# --- files: every artifact of a run -------------------------------------------------
# A secret shorter than this is masked in text files only: in a capture or a WAV
# file a 1-3 byte pattern matches packet or sample bytes by chance.
MIN_BINARY_SECRET = 4
_TEXT_PROBE = 8192


def _needles(secrets: Iterable[str] | None) -> list[bytes]:
    """The byte forms a secret takes in a file: UTF-8 (logs, SIP on the wire) and
    latin-1 when that differs (SIPp writes raw bytes), longest first."""
    found: set[bytes] = set()
    for secret in _ordered(secrets):
        found.add(secret.encode("utf-8", "surrogateescape"))
        try:
            found.add(secret.encode("latin-1"))
        except UnicodeEncodeError:
            pass
    return sorted(found, key=len, reverse=True)


def redact_file(path: str | os.PathLike, secrets: Iterable[str] | None) -> bool:
    """Mask every secret in one file, in place; whether anything was masked.

    A text file (no NUL byte in its first 8 KiB) gets ``***`` for each
    secret, written whole through a temporary file and a rename; any other
    file (a capture, audio) has each secret overwritten by as many ``*``
    bytes, so lengths and offsets stay what they were and a capture still
    dissects. Files that hold no secret are only read (memory-mapped).
    """
    needles = _needles(secrets)
    target = Path(path)
    if not needles or target.is_symlink() or not target.is_file():
        return False
    try:
        with open(target, "rb") as f:
            if os.fstat(f.fileno()).st_size == 0:
                return False
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
                present = [n for n in needles if view.find(n) != -1]
                if not present:
                    return False
                text = b"\0" not in view[:_TEXT_PROBE]
    except (OSError, ValueError):
        return False
    if text:
        data = target.read_bytes()
        for needle in present:
            data = data.replace(needle, MASK.encode())
        tmp = target.with_name(target.name + ".masking")
        try:
            tmp.write_bytes(data)
            os.chmod(tmp, target.stat().st_mode & 0o7777)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return True
    masked = False
    with open(target, "r+b") as f, mmap.mmap(f.fileno(), 0) as view:
        for needle in present:
            if len(needle) < MIN_BINARY_SECRET:
                continue
            at = view.find(needle)
            while at != -1:
                view[at:at + len(needle)] = b"*" * len(needle)
                masked = True
                at = view.find(needle, at + len(needle))
        view.flush()
    return masked


def redact_tree(folder: str | os.PathLike, secrets: Iterable[str] | None) -> list[Path]:
    """Mask every secret in every regular file under ``folder`` (the one pass
    over a run's artifacts: agent logs, service stdout/stderr, generated
    files, SIPp traces, the capture); the files that held one. Symbolic links
    are not followed. Never raises for a file it cannot rewrite: that file is
    left as it was."""
    if not _ordered(secrets):
        return []
    changed = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in files:
            path = Path(root) / name
            try:
                if redact_file(path, secrets):
                    changed.append(path)
            except OSError:
                continue
    return changed
