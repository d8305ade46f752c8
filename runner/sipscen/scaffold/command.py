"""``sipscen scaffold``: the command line around :func:`sipscen.scaffold.build.scaffold`.

Prints the scenario (or writes it with ``-o``), every warning on stderr, and
checks that what it wrote validates like any scenario file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sipscen.core.errors import ExitStatus, InfrastructureError, ReportWriteError, UsageError
from sipscen.scenario.build import validate_file
from sipscen.scaffold.listing import list_capture
from sipscen.scaffold.build import Options, parse_sut, scaffold


def run(args, out, err) -> ExitStatus:

    if args.list:
        out.file.write(list_capture(args.capture))
        return ExitStatus.SUCCESS
    options = Options(calls=list(args.call), sut=[parse_sut(s) for s in args.sut],
                      output=args.output, anonymise=args.anonymise,
                      srtp_keys=list(args.srtp_key))
    if args.max_calls:
        options.max_calls = args.max_calls
    if args.output is not None and args.output.is_dir():
        raise UsageError(f"-o {args.output}: is a folder")
    result = scaffold(args.capture, options)
    for w in result.warnings:
        err.print(f"warning: {w}", markup=False, highlight=False, soft_wrap=True)
    problems = _write_and_validate(result.text, args.output)
    if args.output is None:
        out.file.write(result.text)
    if problems:
        for p in problems:
            err.print(f"sipscen: error: the scaffold does not validate: {p}", markup=False,
                      highlight=False, soft_wrap=True)
        raise InfrastructureError("the scaffold does not validate (a bug in sipscen "
                                  "scaffold: please report it with the capture)")
    where = f" to {args.output}" if args.output else ""
    err.print(f"scaffolded {result.calls} call(s), agents "
              f"{', '.join(f'{n} ({k})' for n, k in result.agents.items())}{where}",
              markup=False, highlight=False, soft_wrap=True)
    return ExitStatus.SUCCESS


def _write_and_validate(text: str, output: Path | None) -> list[str]:

    folder = output.resolve().parent if output is not None else Path.cwd()
    try:
        fd, tmp = tempfile.mkstemp(prefix=".sipscen-scaffold-", suffix=".yaml", dir=folder)
    except OSError as exc:
        if output is not None:
            raise ReportWriteError(f"cannot write {output}: {exc.strerror}") from None
        return []       # stdout and an unwritable folder: nothing to check against
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        errors = [str(e).replace(tmp, str(output or "the scaffold")) for e in validate_file(tmp)]
        if output is not None:
            os.replace(tmp, output)
            tmp = None
        return errors
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
