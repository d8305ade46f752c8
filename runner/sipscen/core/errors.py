"""Every error sipscen raises on purpose, and the one mapping to exit codes.

The CLI, the pytest plugin and the reports never decide exit codes themselves:
they call :func:`exit_status_for`.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitStatus(enum.IntEnum):
    SUCCESS = 0          # every scenario passed
    CHECK_FAILED = 1     # a scenario ran and a check failed
    INVALID_INPUT = 2    # bad scenario file, bad capture file, bad usage
    INFRASTRUCTURE = 3   # a tool is missing, capture not permitted, a port in use
    INTERRUPTED = 130    # Ctrl-C / SIGINT


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a scenario file, 1-based like editors show it."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class SipscenError(Exception):
    """Root of every error sipscen raises deliberately."""

    status = ExitStatus.INFRASTRUCTURE


class ScenarioError(SipscenError):
    """Invalid scenario input: always points at FILE:LINE:COL and a path."""

    status = ExitStatus.INVALID_INPUT

    def __init__(self, message: str, location: Location | None = None, path: str = ""):
        self.message = message
        self.location = location
        self.path = path
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        at = f"{self.path}: " if self.path else ""
        return f"{where}{at}{self.message}"


class UsageError(SipscenError):
    """Bad command line, or an input file that is not what it should be."""

    status = ExitStatus.INVALID_INPUT


class CaptureFileError(SipscenError):
    """A file that is not a capture, or a link type we do not read."""

    status = ExitStatus.INVALID_INPUT


class InfrastructureError(SipscenError):
    """The machine cannot run the scenario: missing tool, permission, port in use."""

    status = ExitStatus.INFRASTRUCTURE


class ReportWriteError(SipscenError):
    """A report file could not be written (a full disk, a read-only folder)."""

    status = ExitStatus.INFRASTRUCTURE


class KubeAccessError(InfrastructureError):
    """The Kubernetes API refused or could not serve a request sipscen needs
    (403 forbidden: the message names the verb and resource to grant)."""


class AgentError(SipscenError):
    """An agent crashed or broke its protocol while running a scenario."""

    status = ExitStatus.INFRASTRUCTURE


class ServiceExited(SipscenError):
    """A service (the system under test) exited while the scenario ran: the
    scenario is an *error* (exit 1: a finding about the SUT, not the machine)."""
    status = ExitStatus.CHECK_FAILED

    def __init__(self, message: str, service: str = "", exit_code: int | None = None):
        self.service = service
        self.exit_code = exit_code
        super().__init__(message)


class StepFailed(SipscenError):
    """A scenario step could not be carried out (a wait timed out, a call failed to start).

    This is a verdict about the system under test, not about sipscen: it makes the
    scenario *failed*, not *error*.
    """

    status = ExitStatus.CHECK_FAILED

    def __init__(self, message: str, location: Location | None = None):
        self.location = location
        super().__init__(f"{location}: {message}" if location else message)


class ScenarioTimeout(StepFailed):
    """The scenario's overall timeout ran out."""


def exit_status_for(exc: BaseException) -> ExitStatus:
    """The single place where exceptions become exit codes."""
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED
    if isinstance(exc, SipscenError):
        return exc.status
    return ExitStatus.INFRASTRUCTURE


def overall_status(results) -> ExitStatus:
    """The exit code for a finished run of several scenarios: the most severe wins."""
    worst = ExitStatus.SUCCESS
    order = [ExitStatus.SUCCESS, ExitStatus.CHECK_FAILED, ExitStatus.INVALID_INPUT,
             ExitStatus.INFRASTRUCTURE, ExitStatus.INTERRUPTED]
    for r in results:
        if r.status == "passed":
            status = ExitStatus.SUCCESS
        elif r.status == "not_run":     # interrupted: 130; after --fail-fast: the failure decides
            status = ExitStatus(r.exit_status or ExitStatus.SUCCESS)
        elif r.status == "failed":
            status = ExitStatus.CHECK_FAILED
        else:
            status = ExitStatus(r.exit_status or ExitStatus.INFRASTRUCTURE)
        if order.index(status) > order.index(worst):
            worst = status
    return worst


def mutation_status(status: ExitStatus, vacuous: bool) -> ExitStatus:
    """``--mutate``: a surviving mutant or an unproven expectation (an expectation
    that cannot fail here) makes the exit status a failed check (1), unless the
    run's own status is already worse."""
    if vacuous and status == ExitStatus.SUCCESS:
        return ExitStatus.CHECK_FAILED
    return status
