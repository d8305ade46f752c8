"""A run's artifacts folder: made (named without secrets), and masked at the end.

Every log, trace, generated file and the capture of a run lives in its own
folder under ``--artifacts``. The folder's name comes from the scenario's name
with its secrets masked first, so the path the reports show (masked) is the
real one. When the run ends, every file in it has its secrets masked
(``core.redaction.redact_tree``: the one mechanism for artifacts).
"""
from __future__ import annotations

import re
import secrets as _secrets
import time
from pathlib import Path
from typing import Iterable

from sipscen.core.errors import InfrastructureError
from sipscen.core.redaction import redact_text, redact_tree


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:60] or "scenario"


def artifacts_dir_for(scenario_name: str, root: Path, secrets=()) -> Path:
    """A new folder for one run under ``root``, named after the scenario with its
    secrets masked first (the name the reports show is then the folder's real
    name). InfrastructureError naming the folder when it cannot be made."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = _slug(redact_text(scenario_name, secrets))
    # Absolute: tools run with other working directories and get these paths.
    path = root.resolve() / f"{stamp}-{name}-{_secrets.token_hex(2)}"
    try:
        path.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise InfrastructureError(
            f"cannot create the artifacts folder {path.parent} (--artifacts): "
            f"{exc.strerror or exc}") from None
    return path


def mask_secrets(folder: Path, secrets: Iterable[str]) -> list[str]:
    """Mask every secret in every file under ``folder``; the warning to report
    (which files held one), if any."""
    if not secrets:
        return []
    masked = redact_tree(folder, secrets)
    if not masked:
        return []
    names = sorted(str(p.relative_to(folder)) for p in masked)
    more = f" and {len(names) - 10} more" if len(names) > 10 else ""
    return [f"secrets masked in {len(names)} artifact file(s): {', '.join(names[:10])}{more}"]
