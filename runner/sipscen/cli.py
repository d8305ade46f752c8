"""The `sipscen` command line: argument parsing and rendering, nothing else.

Exceptions become exit codes in one place (sipscen.core.errors.exit_status_for and
overall_status); ``main(argv, stdout, stderr)`` is what tests call in-process.

Each command imports what it needs inside its own function (the one place in the
package where imports are lazy without a note on each): ``sipscen validate`` or
``schema`` starts in about 0.1 s and 17 MB instead of about 0.7 s and 35 MB with the
engine, analysis, reports, Kubernetes client and scaffold loaded.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from sipscen import __version__
from sipscen.core.errors import (ExitStatus, ReportWriteError, SipscenError, UsageError, exit_status_for,
                            overall_status)
from sipscen.report.text import terminal_safe
from sipscen.scaffold.arguments import add_parser as add_scaffold_parser

if TYPE_CHECKING:
    from rich.console import Console


def _parse_var(text: str) -> tuple[str, str]:
    from sipscen.scenario.unicode_text import surrogate_problem, visible
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {visible(repr(text))}")
    problem = surrogate_problem(text)
    if problem:      # bytes that are not UTF-8 on the command line
        raise argparse.ArgumentTypeError(f"{visible(name)}: {problem}")
    return name, value


def _positive_seconds(text: str) -> float:
    """A duration above 0, read as scenario files read theirs (one parser:
    ``sipscen.core.model.parse_duration``): 15s, 200ms, 1.5m, or seconds."""
    from sipscen.core.model import parse_duration
    try:
        value = parse_duration(text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration above 0 (e.g. 15s, 200ms, 2m), "
                                         f"got {text!r}")
    return value


STDOUT = Path("-")     # `--json -`: the JSON document on standard output, the rest on stderr


def _output_path(text: str) -> Path:
    return STDOUT if text == "-" else Path(text)


def _parents() -> dict[str, argparse.ArgumentParser]:
    """The flags several commands share, declared once (argparse parents)."""
    outputs = argparse.ArgumentParser(add_help=False)
    group = outputs.add_argument_group("reports")
    group.add_argument("--json", type=_output_path, metavar="FILE",
                       help="write the JSON document to FILE ('-': standard output, "
                            "and the console view goes to standard error)")
    group.add_argument("--junit", type=Path, metavar="FILE", help="write a JUnit XML report")
    group.add_argument("--html", type=Path, metavar="FILE",
                       help="write a self-contained HTML report")
    variables = argparse.ArgumentParser(add_help=False)
    variables.add_argument("--var", action="append", type=_parse_var, default=[],
                           metavar="NAME=VALUE", help="set a scenario variable (repeatable)")
    tags = argparse.ArgumentParser(add_help=False)        # a selection a Job can also make
    tags.add_argument("--tag", action="append", default=[], metavar="TAG",
                      help="only scenarios with this tag (repeatable: any of them)")
    tags.add_argument("--exclude-tag", action="append", default=[], metavar="TAG",
                      help="skip scenarios with this tag (repeatable)")
    tags.add_argument("-k", dest="keyword", metavar="PATTERN",
                      help="only scenarios whose name or file contains PATTERN (or matches "
                           "the glob)")
    selection = argparse.ArgumentParser(add_help=False, parents=[tags])
    selection.add_argument("--shard", metavar="K/N",
                           help="run the K-th of N deterministic slices of the selection")
    return {"outputs": outputs, "variables": variables, "tags": tags, "selection": selection}


def build_parser() -> argparse.ArgumentParser:
    shared = _parents()
    parser = argparse.ArgumentParser(
        prog="sipscen", description="Declarative YAML test scenarios for SIP/VoIP platforms.")
    parser.add_argument("--version", action="version", version=f"sipscen {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show Python tracebacks for unexpected errors")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenario files, folders or globs",
                         parents=[shared["variables"], shared["selection"], shared["outputs"]])
    run.add_argument("paths", nargs="+", metavar="FILE")
    run.add_argument("--artifacts", type=Path, default=Path("sipscen-artifacts"), metavar="DIR",
                     help="where each run's pcap, logs and traces go (default: %(default)s)")
    run.add_argument("--timeout", type=_positive_seconds, metavar="DURATION",
                     help="per-scenario timeout, overriding the files' own (15s, 2m, 500ms "
                          "or seconds)")
    run.add_argument("--strict", action="store_true",
                     help="a scenario with no checks (no expect:) fails instead of passing "
                          "with a warning")
    run.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                     help="run N scenarios in parallel")
    run.add_argument("--fail-fast", action="store_true", help="start nothing new after a failure")
    run.add_argument("-q", "--quiet", action="store_true", help="no live progress")
    _mutate_arguments(run)
    job = run.add_argument_group("distributed runs (docs/KUBERNETES.md)")
    job.add_argument("--generator", metavar="K/N",
                     help="be generator K of N of every SIPp load (its share of rate and "
                          "calls); load checks are judged when the N reports are merged")
    job.add_argument("--job-shards", type=int, metavar="N",
                     help="a pod of an Indexed Job of N: --shard K/N, K from JOB_COMPLETION_INDEX")
    job.add_argument("--job-generators", type=int, metavar="N",
                     help="a pod of an Indexed Job of N: --generator K/N, K from "
                          "JOB_COMPLETION_INDEX")
    job.add_argument("--log-report", action="store_true",
                     help="end stdout with the JSON report, framed (read by `sipscen kube collect`)")

    listing = sub.add_parser("list", help="show what `run` would run, without running it",
                             parents=[shared["variables"], shared["selection"]])
    listing.add_argument("paths", nargs="+", metavar="FILE")

    report = sub.add_parser("report", help="work with reports")
    report_sub = report.add_subparsers(dest="report_command", required=True, metavar="ACTION")
    merge = report_sub.add_parser("merge", help="join the JSON reports of several shards",
                                  parents=[shared["outputs"]])
    merge.add_argument("inputs", nargs="+", type=Path, metavar="JSON")

    validate = sub.add_parser("validate", help="check scenario files without running them",
                              parents=[shared["variables"]])
    validate.add_argument("paths", nargs="+", metavar="FILE")

    _judge_parser(sub, shared)

    sub.add_parser("schema", help="print the scenario JSON Schema")
    sub.add_parser("doc", help="print the reference of every step, wait event and expectation")
    _kube_parsers(sub, shared)

    analyze = sub.add_parser("analyze", help="dissect a capture: calls, RTP, DTMF, SRTP")
    analyze.add_argument("capture", type=Path)
    analyze.add_argument("--json", type=_output_path, metavar="FILE",
                         help="write the JSON contract to FILE ('-': standard output)")
    analyze.add_argument("--srtp-key", action="append", default=[], metavar="KEY",
                         help="an SDES key ('SUITE inline:B64' or 'inline:B64'), repeatable")
    analyze.add_argument("--inband", action="store_true",
                         help="also detect in-band DTMF in PCMU/PCMA/L16 audio (decodes every such stream)")
    analyze.add_argument("--wav-dir", type=Path, metavar="DIR",
                         help="write each decodable stream's audio (PCMU, PCMA, L16) as a WAV file in DIR")
    analyze.add_argument("--tls-keylog", action="append", default=[], type=Path, metavar="FILE",
                         help="a TLS key log (SSLKEYLOGFILE format): SIP over secure WebSocket "
                              "is read with it, repeatable")
    add_scaffold_parser(sub)
    return parser


def _judge_parser(sub, shared) -> None:
    judge = sub.add_parser("judge", help="judge a finished run again from its saved evidence, "
                           "against the scenario as it is now (no call is placed)",
                           parents=[shared["variables"], shared["outputs"]])
    judge.add_argument("folder", type=Path, metavar="ARTIFACTS_DIR",
                       help="a run's artifacts folder (or a folder of them)")
    judge.add_argument("scenario", type=Path, nargs="?", metavar="SCENARIO",
                       help="the scenario file (default: the one the run was made from)")
    judge.add_argument("--strict", action="store_true",
                       help="a scenario with no checks fails instead of passing with a warning")
    _mutate_arguments(judge)


def _mutate_arguments(p) -> None:
    group = p.add_argument_group("mutation (docs/JUDGE.md)")
    group.add_argument("--mutate", action="store_true",
                       help="re-judge falsified copies of every expectation on the same "
                            "evidence: a copy that still passes is a check that cannot fail "
                            "(exit 1)")
    group.add_argument("--exemptions", type=Path, metavar="FILE",
                       help="survivors true by design, each with its written reason (YAML)")


def _kube_parsers(sub, shared) -> None:
    kube = sub.add_parser("kube", help="run suites and load tests as Kubernetes Jobs")
    kube_sub = kube.add_subparsers(dest="kube_command", required=True, metavar="ACTION")
    man = kube_sub.add_parser("manifests", help="print the ServiceAccount, Role, RoleBinding "
                              "and Indexed Job (multi-document YAML)",
                              parents=[shared["variables"], shared["tags"]])
    man.add_argument("paths", nargs="+", metavar="PATH",
                     help="scenario files or folders, relative to the checkout in the image")
    split = man.add_mutually_exclusive_group(required=True)
    split.add_argument("--shards", type=int, metavar="N", help="pod K runs shard K+1/N")
    split.add_argument("--generators", type=int, metavar="N",
                       help="every pod runs the selection with 1/N of each SIPp load")
    man.add_argument("--image", required=True, metavar="IMAGE")
    man.add_argument("--namespace", default="default", metavar="NS")
    man.add_argument("--name", default="sipscen", metavar="NAME",
                     help="of the Job, ServiceAccount, Role and RoleBinding")
    man.add_argument("--parallelism", type=int, metavar="P", help="pods at once (default N)")
    man.add_argument("--secret", metavar="SECRET",
                     help="the Secret whose keys give the scenarios' ${env:NAME} values "
                          "(default: NAME-env, e.g. sipscen-env)")
    man.add_argument("--timeout", type=_positive_seconds, metavar="DURATION",
                     help="per-scenario timeout, overriding the files' own")
    col = kube_sub.add_parser("collect", help="watch a Job to its end, merge its pods' reports",
                              parents=[shared["outputs"]])
    col.add_argument("job", metavar="JOB")
    col.add_argument("--namespace", metavar="NS",
                     help="default: the in-cluster namespace, or the kubeconfig context's")
    col.add_argument("--kubeconfig", type=Path, metavar="FILE",
                     help="default: in-cluster config, else $KUBECONFIG or ~/.kube/config")
    col.add_argument("--wait", type=_positive_seconds, default=86400.0, metavar="SECONDS",
                     help="give up watching after this long (default: a day)")
    col.add_argument("-q", "--quiet", action="store_true", help="no progress lines")


def _selection(args):
    from sipscen.engine.select import Selection, parse_shard

    shard = parse_shard(args.shard) if getattr(args, "shard", None) else None
    if getattr(args, "job_shards", None) is not None:
        from sipscen.kube.jobindex import index_from_env
        if shard is not None:
            raise UsageError("give --shard or --job-shards, not both")
        shard = index_from_env(args.job_shards, "--job-shards")
    return Selection(tuple(args.tag), tuple(args.exclude_tag), args.keyword, shard)


def _generator(args) -> tuple[int, int] | None:
    from sipscen.engine.select import parse_part
    from sipscen.kube.jobindex import index_from_env

    if args.generator and args.job_generators is not None:
        raise UsageError("give --generator or --job-generators, not both")
    if args.job_generators is not None and args.job_shards is not None:
        raise UsageError("a pod is either a shard or a generator: give one of "
                         "--job-shards and --job-generators")
    if args.job_generators is not None:
        return index_from_env(args.job_generators, "--job-generators")
    return parse_part(args.generator, "--generator") if args.generator else None


def cmd_run(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.engine import interrupts
    from sipscen.engine.run import RunOptions
    from sipscen.engine.suite import SuiteOptions, SuiteState, run_suite
    from sipscen.report import console as console_report
    from sipscen.scenario.discover import discover

    files = discover(args.paths)
    if not files:
        raise UsageError(f"no scenario files in {' '.join(args.paths)}")
    _check_outputs(args)
    exemptions = _exemptions(args)
    progress = console_report.LiveProgress(out)
    selection, generator = _selection(args), _generator(args)
    options = SuiteOptions(
        run=RunOptions(artifacts_root=args.artifacts, timeout=args.timeout,
                       listener_for=None if args.quiet
                       else lambda sc: progress.bind(sc.name, sc.secrets),
                       generator=generator, strict=args.strict),
        variables=dict(args.var), jobs=max(1, args.jobs), fail_fast=args.fail_fast,
        selection=selection)
    # Every scenario's result lives in `state` from the moment it exists: wherever
    # the first signal lands (a later one is only recorded, sipscen.engine.interrupts),
    # the reports are written with every verdict reached.
    state = SuiteState()
    try:
        run_suite(files, options, state)
        with interrupts.held(deliver=False):
            _write_reports(args, state.results(), out)
    except KeyboardInterrupt:
        state.interrupted = True
        with interrupts.held(deliver=False):
            _write_reports(args, state.results(), out)
    if state.interrupted or interrupts.received():
        with interrupts.held(deliver=False):
            err.print("[bold red]interrupted[/]: every agent, service and capture was stopped")
        return ExitStatus.INTERRUPTED
    status = overall_status(state.results())
    if args.mutate:
        from sipscen.engine.judge import judge_folder
        folders = [Path(r.artifacts["dir"]) for r in state.results() if r.artifacts.get("dir")
                   and (Path(r.artifacts["dir"]) / "evidence.json").is_file()]
        judged = [judge_folder(f, variables=dict(args.var))[1:] for f in folders]
        status = _mutation(args, judged, out, status, exemptions)
    return status


def _mutation(args, judged, out: Console, status: ExitStatus, exemptions) -> ExitStatus:
    """--mutate: each judged run's mutants (``judged``: (scenario, evidence) pairs)
    judged and reported; the exit status."""
    from sipscen.core.errors import mutation_status
    from sipscen.engine.mutation import mutate_scenario
    from sipscen.report.mutation import lines

    from sipscen.engine.mutation import save
    reports = []
    for scenario, ev in judged:
        reports.append(mutate_scenario(scenario, ev, exemptions))
        try:
            save(reports[-1], Path(ev.folder))     # mutation.json next to the evidence
        except ReportWriteError as exc:            # (a read-only folder: said, not fatal)
            out.print(terminal_safe(f"warning: {exc}"), markup=False, highlight=False)
    if not reports:
        out.print("MUTATION: no run with saved evidence to mutate", markup=False)
        return mutation_status(status, True)
    for line in lines(reports):
        out.print(terminal_safe(line), markup=False, highlight=False, soft_wrap=True)
    return mutation_status(status, any(r.failing for r in reports))


def _exemptions(args) -> list:
    """The --exemptions file, read before anything runs (a bad one is exit 2 at once)."""
    from sipscen.engine.mutation import load_exemptions
    return load_exemptions(args.exemptions) if args.mutate else []


def _check_outputs(args) -> None:
    """Refuse unwritable report paths and artifacts folder before running anything,
    so a finished run never loses its reports."""
    artifacts = getattr(args, "artifacts", None)
    if artifacts is not None and artifacts.exists() and not artifacts.is_dir():
        raise UsageError(f"--artifacts {args.artifacts}: not a folder")
    for option in ("json", "junit", "html"):
        path = getattr(args, option)
        if path is not None and path != STDOUT and path.is_dir():
            raise UsageError(f"--{option} {path}: is a folder, expected a file name")


def _write_reports(args, results, out: Console) -> None:
    from sipscen.report import console as console_report

    console_report.render_results(results, out)
    _write_files(args, results)
    if getattr(args, "log_report", False):
        from sipscen.kube.logreport import frame
        from sipscen.report.json_report import to_json_dict
        out.file.write(frame(to_json_dict(results)))
        out.file.flush()


def _write_files(args, results) -> None:
    """Every report asked for; one that cannot be written (a full disk) does not
    keep the others from being written, and then the first failure is raised."""
    from sipscen.report.html import write_html
    from sipscen.report.json_report import write_json
    from sipscen.report.junit import write_junit

    failures: list[ReportWriteError] = []
    if args.json == STDOUT:
        from sipscen.report.json_report import to_json_dict
        args.stdout.write(json.dumps(to_json_dict(results), indent=2, ensure_ascii=False) + "\n")
        args.stdout.flush()
    for path, write in ((args.json, write_json), (args.junit, write_junit),
                        (args.html, write_html)):
        if path and path != STDOUT:
            try:
                write(results, path)
            except ReportWriteError as exc:
                failures.append(exc)
    if failures:
        raise ReportWriteError("; ".join(str(f) for f in failures))


def cmd_judge(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.engine.judge import judge_folders

    _check_outputs(args)
    exemptions = _exemptions(args)
    judged = judge_folders(args.folder, args.scenario, variables=dict(args.var),
                           strict=args.strict)
    results = [result for result, _, _ in judged]
    _write_reports(args, results, out)
    status = overall_status(results)
    if args.mutate:
        status = _mutation(args, [(sc, ev) for _, sc, ev in judged if sc is not None], out,
                           status, exemptions)
    return status


def cmd_list(args, out: Console, err: Console) -> ExitStatus:
    from rich.table import Table
    from rich.text import Text

    from sipscen.core.results import ScenarioResult
    from sipscen.engine.suite import load_all, select
    from sipscen.scenario.discover import discover

    table = Table("#", "name", "tags", "file", "agents", "description", show_lines=False)
    invalid = 0

    def cell(value, style: str = "") -> Text:     # user text: no markup, no control codes
        return Text(terminal_safe(str(value)), style=style)

    for pos, item in select(load_all(discover(args.paths), dict(args.var)), _selection(args)):
        if isinstance(item, ScenarioResult):
            invalid += 1
            table.add_row(str(pos), cell(item.name), "", cell(item.file), "",
                          cell(f"invalid: {item.error}", "red"))
            continue
        table.add_row(str(pos), cell(item.name), cell(", ".join(item.tags)), cell(item.file),
                      cell(", ".join(f"{a.name} ({a.type})" for a in item.agents)),
                      cell(item.description))
    out.print(table)
    return ExitStatus.INVALID_INPUT if invalid else ExitStatus.SUCCESS


def cmd_report(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.report.merge import merge_reports

    results = merge_reports(args.inputs)
    _write_files(args, results)
    out.print(f"merged {len(results)} scenarios from {len(args.inputs)} reports", markup=False)
    return overall_status(results)


def cmd_validate(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.scenario.build import compile_file, duplicate_names
    from sipscen.scenario.discover import discover

    files = discover(args.paths)
    compiled = [(path, *compile_file(path, dict(args.var))) for path in files]
    twice: dict[str, list] = {}
    for e in duplicate_names([s for _, scenarios, _ in compiled for s in scenarios]):
        twice.setdefault(str(Path(e.location.file).resolve()) if e.location else "",
                         []).append(e)
    bad = 0
    for path, scenarios, errors in compiled:
        errors = errors + twice.get(str(scenarios[0].file) if scenarios else "", [])
        for e in errors:
            err.print(terminal_safe(str(e)), markup=False, highlight=False, soft_wrap=True)
        if errors:
            bad += 1
        else:
            out.print(terminal_safe(f"{path}: ok"), markup=False, highlight=False)
    return ExitStatus.INVALID_INPUT if bad or not files else ExitStatus.SUCCESS


def cmd_schema(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.scenario.schema import load_schema

    out.file.write(json.dumps(load_schema(), indent=2) + "\n")
    return ExitStatus.SUCCESS


def cmd_doc(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.language.reference import render

    out.file.write(render())
    return ExitStatus.SUCCESS


def cmd_analyze(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.analysis import analyze_capture

    if not args.capture.is_file():
        raise UsageError(f"{args.capture}: no such file")
    if args.wav_dir is not None:
        if args.wav_dir.exists() and not args.wav_dir.is_dir():
            raise UsageError(f"--wav-dir {args.wav_dir}: not a folder")
        try:
            args.wav_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--wav-dir {args.wav_dir}: cannot create it: {exc.strerror}") from None
    for keylog in args.tls_keylog:
        if not keylog.is_file():
            raise UsageError(f"--tls-keylog {keylog}: no such file")
    analysis = analyze_capture(args.capture, srtp_keys=args.srtp_key, inband=args.inband,
                               wav_dir=args.wav_dir, tls_keylogs=args.tls_keylog)
    if args.json == STDOUT:
        analysis.write_json(args.stdout)    # one call / stream at a time: bounded memory
    elif args.json:
        _write_streamed(args.json, analysis.write_json)
    else:
        from sipscen.report.analysis_console import render_analysis
        render_analysis(analysis, out)
    return ExitStatus.SUCCESS


def cmd_scaffold(args, out: Console, err: Console) -> ExitStatus:
    from sipscen.scaffold.command import run

    return run(args, out, err)


def _write_streamed(path: Path, write) -> None:
    """``write(text stream)`` into ``path``, whole or not at all (core/atomic.py)."""
    from sipscen.core.atomic import write_atomically

    def encoded(f) -> None:
        text = io.TextIOWrapper(f, encoding="utf-8", errors="backslashreplace")
        write(text)
        text.flush()
        text.detach()
    write_atomically(path, "JSON", encoded)


class _LazyConsole:
    """The console of ``stream`` (``_console``), made on first use: a command that never
    prints through it (``sipscen analyze --json -``) does not import rich (0.03 CPU s)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._console = None

    def __getattr__(self, name: str):
        if self._console is None:
            self._console = _console(self._stream)
        return getattr(self._console, name)


def _console(stream: TextIO) -> Console:
    """A rich console; on a pipe or CI log (not a terminal) a wide fixed width,
    so tables of addresses and SIP summaries are not folded into slivers."""
    from rich.console import Console

    console = Console(file=stream, highlight=False)
    if not console.is_terminal:
        console = Console(file=stream, highlight=False, width=160)
    return console


def cmd_kube(args, out: Console, err: Console) -> ExitStatus:
    if args.kube_command == "manifests":
        from sipscen.kube.manifests import JobRequest, build_manifests, render
        request = JobRequest(
            paths=args.paths, image=args.image, shards=args.shards, generators=args.generators,
            namespace=args.namespace, name=args.name, parallelism=args.parallelism,
            variables=list(args.var), tags=args.tag, exclude_tags=args.exclude_tag,
            keyword=args.keyword, timeout=args.timeout, secret=args.secret)
        out.file.write(render(build_manifests(request)))
        return ExitStatus.SUCCESS
    from sipscen.kube.collect import collect_job

    _check_outputs(args)
    progress = None if args.quiet else (
        lambda line: err.print(terminal_safe(line), markup=False, highlight=False))
    results = collect_job(args.job, namespace=args.namespace, kubeconfig=args.kubeconfig,
                          wait=args.wait, progress=progress)
    _write_reports(args, results, out)
    return overall_status(results)


COMMANDS = {"run": cmd_run, "judge": cmd_judge, "kube": cmd_kube, "validate": cmd_validate, "schema": cmd_schema,
            "doc": cmd_doc,
            "analyze": cmd_analyze, "list": cmd_list, "report": cmd_report,
            "scaffold": cmd_scaffold}


def _plugin_warnings(command: str, err) -> None:
    """A plugin that failed to load is said, not fatal (the built-in language works)."""
    if command not in ("run", "validate", "schema", "doc", "judge"):
        return
    from sipscen.language import registry
    registry.load()
    for label, why in registry.PLUGIN_ERRORS:
        err.print(f"sipscen: warning: plugin '{label}' (entry point group "
                  f"{registry.ENTRY_POINT_GROUP}) could not be loaded: {why}",
                  markup=False, highlight=False, soft_wrap=True)


def main(argv: list[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    out = _LazyConsole(stdout)
    err = _LazyConsole(stderr)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:       # argparse: --help is 0, bad usage is 2
        return int(exc.code or 0)
    args.stdout = stdout
    if getattr(args, "json", None) == STDOUT:
        out = err       # standard output carries the JSON document only
    from sipscen.engine import interrupts
    # SIGTERM (a CI job cancelled, `kill`) and SIGHUP (the terminal closed) tear
    # down like Ctrl-C does; only the first signal interrupts (see interrupts.py)
    interrupts.install()
    try:
        return _dispatch(args, out, err)
    finally:
        interrupts.uninstall()


def _dispatch(args, out: Console, err: Console) -> int:
    try:
        _plugin_warnings(args.command, err)
        return int(COMMANDS[args.command](args, out, err))
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/]")
        return int(ExitStatus.INTERRUPTED)
    except SipscenError as exc:
        err.print(terminal_safe(f"sipscen: error: {exc}"), markup=False, highlight=False,
                  soft_wrap=True)
        return int(exit_status_for(exc))
    except Exception as exc:  # noqa: BLE001 - a bug: say so, exit 3, no traceback unless asked
        if args.traceback:
            raise
        err.print(terminal_safe(f"sipscen: internal error: {exc!r} (run with --traceback for "
                                "details)"),
                  markup=False, highlight=False)
        return int(exit_status_for(exc))
