"""``record``: record what the call receives into the agent's artifacts folder."""
from pathlib import Path, PurePosixPath

from sipscen.language.registry import StepKind, register_step
from sipscen.core.model import parse_duration
from sipscen.core.paths import path_problem

SCHEMA = {
    "description": "Record the call's received audio to a WAV file in the agent's artifacts.",
    "type": "object", "required": ["file"], "additionalProperties": False,
    "properties": {"file": {"$ref": "#/$defs/file_path"},
                   "duration": {"$ref": "#/$defs/duration"}},
}
OUTSIDE = ("a recording stays inside the agent's artifacts folder: use a relative path "
           "without '..'")


def check(lc, params) -> None:
    if isinstance(params.get("file"), str):
        target = PurePosixPath(params["file"])
        problem = path_problem(params["file"])      # NUL, a name over 255 bytes
        if problem:
            lc.fail(problem, ["file"])
        elif target.is_absolute() or ".." in target.parts:
            lc.fail(OUTSIDE, ["file"])


def scripted(params) -> float:
    return parse_duration(params["duration"]) if params.get("duration") is not None else 0.0


def run(t, params) -> None:
    key = next((k for k in ("file", "path", "value") if params.get(k)), None)
    t.recordings += 1
    name = Path(str(params[key]) if key else f"{t.name}-recording-{t.recordings}.wav")
    if name.is_absolute() or ".." in name.parts:
        raise t.error(f"record: '{name}' must be a relative path inside the agent's "
                      f"artifacts folder (no absolute path, no '..')",
                      "" if key == "value" else str(key))
    path = t.ctx.artifacts_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    t.control.record(str(path))
    if params.get("duration") is not None:
        t.pause(t.duration(params["duration"], "record duration"))
        t.control.stop_record()


register_step(StepKind(
    name="record", schema=SCHEMA, check=check, run=run, scripted=scripted,
    doc="Record what the call receives to a WAV file inside the agent's artifacts folder; "
        "with `duration` it stops by itself, else at `stop_record` or the call's end.",
    example="- record: {file: bob.wav, duration: 2s}"))
