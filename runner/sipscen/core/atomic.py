"""Write a file whole or not at all (reports, saved evidence, analysis JSON).

The text goes to ``NAME.tmp`` next to the target, is flushed to the disk, and
replaces the target in one rename. When that fails (a full disk, a read-only
folder) the temporary file is removed and a ReportWriteError says which
report and why; a previous report of that name is left as it was.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, IO

from sipscen.core.errors import ReportWriteError


def write_atomically(path: str | os.PathLike, what: str, write: Callable[[IO[bytes]], None]
                     ) -> Path:
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as exc:      # a full disk, a bug, Ctrl-C: never a .tmp left
        try:
            tmp.unlink()
        except OSError:
            pass
        if not isinstance(exc, Exception):
            raise
        reason = (exc.strerror or str(exc)) if isinstance(exc, OSError) else repr(exc)
        raise ReportWriteError(f"cannot write the {what} report {target}: {reason}") from None
    return target


def write_text_atomically(path: str | os.PathLike, what: str, text: str) -> Path:
    """``text`` as UTF-8; a lone surrogate (which UTF-8 cannot hold; validation
    refuses them in scenarios, but a tool's output may carry one) is written as
    the escape ``\\udXXX``, never an error."""
    return write_atomically(path, what, lambda f: f.write(text.encode("utf-8",
                                                                      "backslashreplace")))
