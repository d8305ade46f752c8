"""``play``: play a WAV file or a tone into the current call."""
import wave
from pathlib import Path

from sipscen.language.registry import StepKind, register_step
from sipscen.core.model import parse_duration

DEFAULT_TONE = "500ms"

SCHEMA = {
    "description": "Play a 16-bit mono WAV `file` or a `tone` into the call.",
    "type": "object", "additionalProperties": False,
    "properties": {
        "file": {"$ref": "#/$defs/file_path"},
        "tone": {
            "type": "object", "required": ["frequencies"], "additionalProperties": False,
            "properties": {
                "frequencies": {"type": "array", "minItems": 1, "maxItems": 4,
                                "items": {"type": "number", "exclusiveMinimum": 0,
                                          "maximum": 20000}},
                "duration": {"$ref": "#/$defs/duration"},
            },
        },
        "duration": {"$ref": "#/$defs/duration"},
    },
}


def check(lc, params) -> None:
    lc.exactly_one(params, ("file", "tone"))
    lc.file(params, "file", [])
    if isinstance(params.get("tone"), dict):
        lc.durations(params["tone"], ["tone"])


def wav_length(path: Path) -> float:
    """Seconds of a 16-bit mono PCM WAV; OSError/wave.Error/EOFError otherwise."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise wave.Error("PJSIP plays 16-bit mono PCM WAV only")
        return wav.getnframes() / float(wav.getframerate())


def scripted(params) -> float:
    if params.get("duration") is not None:
        return parse_duration(params["duration"])
    if params.get("file") or params.get("value"):
        try:
            return wav_length(Path(str(params.get("file") or params.get("value"))))
        except (OSError, wave.Error, EOFError):
            return 0.0
    return parse_duration((params.get("tone") or {}).get("duration", DEFAULT_TONE))


def run(t, params) -> None:
    length = None
    if params.get("duration") is not None:
        length = t.duration(params["duration"], "play duration")
    file, tone = None, None
    if params.get("file") or params.get("value"):
        path = Path(str(params.get("file") or params.get("value")))
        if not path.is_absolute():
            path = t.ctx.scenario.file.parent / path
        try:
            file_length = wav_length(path)
        except (OSError, wave.Error, EOFError) as exc:
            raise t.fail(f"play: cannot use WAV file {path}: {exc}") from None
        length = length or file_length
        file = str(path)
    else:
        spec = params.get("tone") or {}
        if length is None:
            length = t.duration(spec.get("duration", DEFAULT_TONE), "tone duration")
        tone = {"frequencies": [int(f) for f in (spec.get("frequencies")
                                                 or [spec.get("frequency", 440)])]}
    t.control.play(file, tone, length if params.get("duration") is not None or tone else 0.0)
    if params.get("wait", True):
        t.pause(length)


register_step(StepKind(
    name="play", schema=SCHEMA, check=check, run=run, scripted=scripted,
    doc="Play a WAV file (16-bit mono, relative to the scenario's folder) or a tone of up "
        "to 4 frequencies into the call; lasts as long as it plays (`duration` loops a file).",
    example="- play: {tone: {frequencies: [440, 480], duration: 1s}}"))
