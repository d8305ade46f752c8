"""Issue 12: a bounded, derandomized fuzz over scenario files and captures through
the command line: exit 0, 1 or 2 only, never "internal error", never a hang.

Hypothesis mutates real files (the examples and the scenario library, a
generated capture in pcap and pcapng): byte flips and inserts, explicit YAML
tags, NUL bytes, huge numbers, long names, cut-offs. Each example has a hard
alarm; the whole run takes seconds.
"""
from __future__ import annotations

import atexit
import importlib.util
import shutil
import io
import signal
import struct
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from sipscen.cli import main

ROOT = Path(__file__).resolve().parents[1]
# a copy of examples/ and scenarios/, so a mutated file still finds its includes,
# XML files, pcaps and SUT configs next to it
TREE = Path(tempfile.mkdtemp(prefix="sipscen-fuzz-"))
atexit.register(shutil.rmtree, TREE, True)
for _folder in ("examples", "scenarios"):
    shutil.copytree(ROOT / _folder, TREE / _folder)
TEXTS = [(p.parent, p.read_text(encoding="utf-8")) for p in sorted(TREE.rglob("*.yaml"))
         if "agents:" in p.read_text(encoding="utf-8")]
PER_EXAMPLE = 20            # seconds: a hang fails the example, it never blocks the suite

FRAGMENTS = ["!!map ", "!!seq ", "!!int ", "!!float ", "!!bool ", "!!timestamp ", "!!binary ",
             "!!set ", "!!omap ", "!!str ", "&a ", "*a ", "<<: ", "\0", "\x1b", "[", "]", "{",
             "}", ":", "- ", "\n  ", "'", '"', "${", "${env:SIPSCEN_FUZZ_UNSET}", "\\x",
             "1" + "0" * 400, "-1", ".nan", ".inf", "9" * 5000, "a" * 300, "../" * 20,
             "\u2603", "\ud7ff", "~", "null", "true", "0x1F", "1e999", "00:00:01"]

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.function_scoped_fixture])


@contextmanager
def alarm(seconds: int):
    def hang(signum, frame):
        raise TimeoutError(f"no answer within {seconds}s: a hang")
    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def cli(*argv) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with alarm(PER_EXAMPLE):
        code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


@st.composite
def mutated_text(draw) -> str:
    folder, text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "cut", "line"]))
        piece = draw(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=8)))
        if kind == "insert":
            text = text[:pos] + piece + text[pos:]
        elif kind == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 20)):]
        elif kind == "replace":
            text = text[:pos] + piece + text[pos + len(piece):]
        elif kind == "cut":
            text = text[:pos]
        else:                       # a whole line at a line start
            start = text.rfind("\n", 0, pos) + 1
            text = text[:start] + draw(st.sampled_from(
                ["timeout: ", "include: ", "parametrize: ", "agents: ", "expect: ",
                 "  x: "])) + piece + "\n" + text[start:]
    return folder, text


@SETTINGS
@given(case=mutated_text())
def test_fuzzed_scenario_files_validate_and_list_cleanly(case):
    folder, text = case
    path = folder / "zz-fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        for command in ("validate", "list"):
            code, output = cli(command, path)
            assert code in (0, 2), (command, code, output[-2000:])
            assert "internal error" not in output and "Traceback" not in output, output[-2000:]
    finally:
        path.unlink()


def _base_captures() -> list[bytes]:
    spec = importlib.util.spec_from_file_location("capture_gen", ROOT / "bench" / "capture_gen.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "base.pcap"
        gen.generate_calls(path, 3, rtp_per_stream=5, body_padding=40)
        pcap = path.read_bytes()
    # the same records as pcapng: SHB, an IDB with if_tsresol and if_tsoffset, EPBs
    shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + struct.pack("<I", 28)
    opts = (struct.pack("<HHB3x", 9, 1, 6) + struct.pack("<HHq", 14, 8, 0)
            + struct.pack("<HH", 0, 0))
    idb_body = struct.pack("<HHI", 1, 0, 65535) + opts
    idb = struct.pack("<II", 1, 12 + len(idb_body)) + idb_body + struct.pack("<I", 12 + len(idb_body))
    blocks = [shb, idb]
    pos = 24
    while pos + 16 <= len(pcap):
        sec, usec, caplen, orig = struct.unpack_from("<IIII", pcap, pos)
        frame = pcap[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        ts = sec * 1_000_000 + usec
        pad = (-len(frame)) % 4
        blen = 32 + len(frame) + pad
        blocks.append(struct.pack("<IIIIIII", 6, blen, 0, ts >> 32, ts & 0xFFFFFFFF,
                                  len(frame), orig) + frame + b"\0" * pad
                      + struct.pack("<I", blen))
    return [pcap, b"".join(blocks)]


BASES = _base_captures()


@st.composite
def mutated_capture(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        kind = draw(st.sampled_from(["flip", "insert", "delete", "cut", "u32"]))
        if kind == "flip":
            data[pos] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif kind == "cut":
            del data[pos:]
        elif pos + 4 <= len(data):           # a length field: 0, tiny, huge
            data[pos:pos + 4] = struct.pack("<I", draw(st.sampled_from(
                [0, 1, 4, 12, 28, 0x7FFFFFFF, 0xFFFFFFFF, len(data)])))
    return bytes(data)


@SETTINGS
@given(data=mutated_capture())
def test_fuzzed_captures_analyze_cleanly(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.pcap"
        path.write_bytes(data)
        for argv in (("analyze", "--json", "-", path), ("analyze", path)):
            code, output = cli(*argv)
            assert code in (0, 2), (code, output[-2000:])
            assert "internal error" not in output and "Traceback" not in output, output[-2000:]


def test_the_fuzz_bases_are_valid():
    """The mutations start from inputs that work (else the fuzz tests nothing)."""
    for data in BASES:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "base.pcap"
            path.write_bytes(data)
            code, output = cli("analyze", "--json", "-", path)
            assert code == 0 and '"packets": 42' in output, output[:300]
    assert len(TEXTS) >= 20
    for folder, text in TEXTS:
        path = folder / "zz-copy.yaml"
        path.write_text(text, encoding="utf-8")
        code, output = cli("validate", path)
        path.unlink()
        assert code == 0, output


# --- issue 20: hostile text in names, tags and variables ----------------------------
# lone surrogates (no UTF-8 can hold them), C0/C1 controls and escape sequences,
# bidi overrides, NUL, and ordinary letters around them
HOSTILE = st.lists(st.one_of(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
    st.characters(min_codepoint=0, max_codepoint=0x1F),
    st.characters(min_codepoint=0x7F, max_codepoint=0x9F),
    st.sampled_from(["\x1b[2J", "\x1b]0;t\x07", "\x9b31m", "\u202e", "\u2066", "[bold]", "[/]",
                     "$${", "é", "日"]),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E)), min_size=1, max_size=8).map("".join)
_RAW_CONTROL = [chr(c) for c in range(0x20) if c not in (9, 10)] + \
    [chr(c) for c in range(0x7F, 0xA0)] + ["\u202e", "\u2066"]


def _surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def _yaml_string(text: str) -> str:
    """A YAML double-quoted scalar of ``text`` (JSON's escapes are YAML's too)."""
    import json
    return json.dumps(text)


@SETTINGS
@given(name=HOSTILE, tag=HOSTILE, value=HOSTILE)
def test_hostile_names_tags_and_variables_validate_and_list_cleanly(name, tag, value):
    """Issue 20: a lone surrogate is refused at its FILE:LINE:COL (it used to pass
    validation and lose every report at the end of the run); escape codes never
    reach the console raw."""
    folder = Path(tempfile.mkdtemp(prefix="sipscen-hostile-", dir=TREE))
    path = folder / "s.yaml"
    path.write_text(f"name: {_yaml_string('n' + name)}\ntags: [{_yaml_string('t' + tag)}]\n"
                    f"variables: {{V: {_yaml_string(value)}}}\ndescription: \"${{V}}\"\n"
                    "agents:\n  a: {type: pjsua, steps: [{sleep: 10ms}]}\n", encoding="utf-8")
    try:
        for command in ("validate", "list"):
            code, output = cli(command, path)
            assert code in (0, 2), (command, code, output[-2000:])
            assert "internal error" not in output and "Traceback" not in output, output[-2000:]
            assert not any(c in output for c in _RAW_CONTROL), repr(output[-500:])
            if _surrogate(name + tag + value):
                assert code == 2 and "not valid Unicode: a lone surrogate" in output, output
        code, output = cli("validate", path, "--var", f"V=x{value}")
        assert code in (0, 2) and "internal error" not in output
    finally:
        shutil.rmtree(folder, True)


@SETTINGS
@given(name=HOSTILE, tag=HOSTILE, message=HOSTILE)
def test_every_report_writer_takes_hostile_text(name, tag, message):
    """Whatever text a result carries (an agent's message, a tool's output),
    every report is written, whole, with no .tmp left, and the console shows
    no control code raw."""
    import json
    import xml.etree.ElementTree as ET

    from rich.console import Console

    from sipscen.core.results import CheckResult, ScenarioResult
    from sipscen.report.console import render_results
    from sipscen.report.html import write_html
    from sipscen.report.json_report import write_json
    from sipscen.report.junit import write_junit

    result = ScenarioResult(name=name, file="s.yaml", status="failed", tags=[tag],
                            error=message, warnings=[message],
                            checks=[CheckResult(name=name, status="failed", expected=tag,
                                                actual=message, message=message)])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_json([result], folder / "r.json")
        write_junit([result], folder / "r.xml")
        write_html([result], folder / "r.html")
        assert sorted(p.name for p in folder.iterdir()) == ["r.html", "r.json", "r.xml"]
        json.loads((folder / "r.json").read_text(encoding="utf-8"))
        ET.parse(folder / "r.xml")
    stream = io.StringIO()
    render_results([result], Console(file=stream, width=160, force_terminal=True))
    shown = stream.getvalue()
    # rich's own styling is ESC [ ... m: remove it, then nothing raw may be left
    import re
    plain = re.sub(r"\x1b\[[0-9;]*m", "", shown)
    assert not any(c in plain for c in _RAW_CONTROL), repr(plain[-500:])
    shown.encode("utf-8")
