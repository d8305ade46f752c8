"""The Markdown reference of the scenario language, generated from the registry:
every agent type, step kind, wait event and expectation family with its doc,
its keys and an example. ``sipscen doc`` prints it; ``docs/REFERENCE.md`` is
this text (``python -m sipscen.language.reference --write``; a test fails on drift).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

from sipscen.language import registry
from sipscen.language.steps import wait as wait_step

SHIPPED = Path(__file__).resolve().parents[3] / "docs" / "REFERENCE.md"


def _keys(schema: Mapping[str, Any]) -> str:
    props = schema.get("properties") or {}
    if not props:
        ref = schema.get("$ref", "")
        return f"a scalar ({ref.rsplit('/', 1)[-1].replace('_', ' ')})" if ref else "no keys"
    required = set(schema.get("required") or ())
    parts = []
    for name, sub in props.items():
        what = sub.get("$ref", "").rsplit("/", 1)[-1] or "/".join(
            sub["type"] if isinstance(sub.get("type"), list) else [str(sub.get("type", ""))])
        if "enum" in sub:
            what = " | ".join(str(v) for v in sub["enum"])
        elif "const" in sub:
            what = repr(sub["const"])
        elif sub.get("properties"):
            inner = sub["properties"]
            what = "{" + ", ".join(
                k + (f" ({' | '.join(map(str, v['enum']))})" if isinstance(v, dict) and
                     "enum" in v else "") for k, v in inner.items()) + "}"
        note = f" — {sub['description'].rstrip('.')}" if sub.get("description") else ""
        parts.append(f"`{name}`{' (required)' if name in required else ''}: {what}{note}")
    return "; ".join(parts)


def render(builtin_only: bool = False) -> str:
    """The reference: the built-in language and every plugin's (unless
    ``builtin_only``, as shipped in docs/)."""
    registry.load()
    types = registry.builtin(registry.AGENT_TYPES, builtin_only)
    out = ["# Scenario language reference", "",
           "Generated from the language registry (`sipscen doc`); do not edit by hand.", ""]
    out += ["## Agent types", ""]
    for t in types.values():
        out += [f"### `{t.name}`", "", t.doc, "",
                f"Keys: {_keys(t.schema)}.  ",
                f"Steps: {', '.join(sorted(t.steps))}.  ",
                f"Wait events: {', '.join(sorted(t.events))}.  ",
                f"Facts report: {', '.join(sorted(t.capabilities)) or 'nothing'}.", ""]
    out += ["## Steps", "", "A step is a one-key mapping `kind: params` in an agent's `steps`.",
            ""]
    for kind in registry.builtin(registry.STEPS, builtin_only).values():
        schema = wait_step.schema() if kind.name == "wait" else kind.schema
        supported = [t.name for t in types.values() if t.carries(kind, kind.name)]
        out += [f"### `{kind.name}`", "", kind.doc, "", f"Keys: {_keys(schema)}.  ",
                f"Agent types: {', '.join(supported)}.", "", "```yaml", kind.example, "```", ""]
    out += ["## Wait events", "", "`wait: {event: NAME, timeout: 10s, ...}`; a signal wait is "
            "`wait: {signal: NAME, agent: OTHER}`.", ""]
    for event in registry.builtin(registry.EVENTS, builtin_only).values():
        supported = [t.name for t in types.values() if event.name in t.events]
        keys = _keys({"properties": event.keys}) if event.keys else "none of its own"
        out += [f"### `{event.name}`", "", event.doc, "", f"Keys: {keys}.  ",
                f"Agent types: {', '.join(supported)}.", "", "```yaml", event.example, "```", ""]
    out += ["## Expectations", "", "An expectation is a one-key mapping in `expect:`.", ""]
    for family in registry.builtin(registry.EXPECTATIONS, builtin_only).values():
        out += [f"### `{family.name}`", "", family.doc, "", f"Keys: {_keys(family.schema)}.", "",
                "```yaml", family.example, "```", ""]
    out += COMMAND_LINE
    return "\n".join(out).rstrip() + "\n"


# The commands, in short (`sipscen COMMAND --help` has every flag).
COMMAND_LINE = [
    "## Command line", "",
    "`sipscen COMMAND --help` lists every flag. Exit codes: 0 passed, 1 a check failed "
    "(or, with `--mutate`, an expectation that cannot fail), 2 invalid input or usage, "
    "3 infrastructure, 130 interrupted.", "",
    "| command | what it does |", "|---|---|",
    "| `run FILE...` | run scenario files, folders or globs; `--json FILE\\|-`, `--junit`, "
    "`--html`, `--artifacts DIR`, `-j N`, `--var`, `--tag`, `-k`, `--shard K/N`, "
    "`--strict`, `--mutate`, `--exemptions FILE` |",
    "| `judge ARTIFACTS_DIR [SCENARIO]` | judge a finished run again from its saved "
    "evidence (`evidence.json`, the capture, the recordings) against the scenario as it is "
    "now, without placing a call; the reports and flags of `run`, `--mutate`, "
    "`--exemptions FILE` (docs/JUDGE.md) |",
    "| `validate FILE...` | check scenario files without running them |",
    "| `list FILE...` | what `run` would run |",
    "| `analyze CAPTURE` | dissect a capture: calls, RTP, DTMF, SRTP (docs/ANALYSIS.md) |",
    "| `scaffold CAPTURE` | a scenario from a customer's capture (docs/SCAFFOLD.md) |",
    "| `report merge JSON...` | join the JSON reports of several shards |",
    "| `kube manifests\\|collect` | run suites and loads as Kubernetes Jobs "
    "(docs/KUBERNETES.md) |",
    "| `schema`, `doc` | the JSON Schema; this reference |", "",
    "`--mutate` re-judges falsified copies of every expectation on the run's own evidence "
    "(other digits, another status or codec, a tone off by twice its tolerance, flags "
    "flipped, thresholds past the measured value, counts +-1, a DTMF leg flipped): a copy "
    "that still passes is reported as \"this expectation cannot fail here\" with its "
    "FILE:LINE:COL. `--exemptions FILE` lists survivors true by design, each with a "
    "written reason.", "",
]


def main(argv: list[str]) -> int:
    if argv == ["--write"]:
        SHIPPED.write_text(render(builtin_only=True), encoding="utf-8")
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
