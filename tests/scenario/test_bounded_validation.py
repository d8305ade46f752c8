"""Issue 20: `validate` works in bounded resources and says why it refuses.

* A long capture filter (``"port 1 or " * N``, valid BPF) made libpcap's
  compiler peak at 432 MB for 1,000 terms, 1.6 GB for 2,000 and 4 GB at
  5,000, where validate gave up after 5 s and said "ok". Now a filter over
  the bounds is refused before anything is compiled (FILE:LINE:COL, exit 2),
  and a check that does not finish is a refusal, never "ok".
* A regex ``a{4294967296}`` (OverflowError) or 5,000 nested groups
  (RecursionError) anywhere a scenario gives one made validate exit 3.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sipscen.capture import bpf
from sipscen.scenario import validate_file

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("capture_gen", ROOT / "bench" / "capture_gen.py")
capture_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(capture_gen)

needs_libpcap = pytest.mark.skipif(not bpf.available(), reason="libpcap is not installed: filters "
                                   "are checked by tcpdump at run time")


def with_filter(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "filter.yaml"
    path.write_text(f'name: x\nagents: {{a: {{type: pjsua}}}}\ncapture: {{filter: "{text}"}}\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize("terms", [1000, 2000, 5000])
def test_a_long_filter_is_refused_at_its_place(sipscen, tmp_path, terms):
    path = with_filter(tmp_path, "port 1 or " * terms + "port 1")
    code, out, err = sipscen("validate", path)
    assert code == 2 and "ok" not in out, (out, err)
    assert err.splitlines()[0].startswith(
        f"{path}:3:19: capture.filter: invalid capture filter: too long: ")


def test_validate_of_the_5000_term_filter_stays_small(tmp_path):
    """Peak RSS of `sipscen validate` (a child, its own VmHWM): it was 4 GB."""
    path = with_filter(tmp_path, "port 1 or " * 5000 + "port 1")
    _wall, kb, code = capture_gen.run_sipscen_measured(["validate", str(path)], tmp_path / "out", ROOT)
    assert code == 2 and 0 < kb < 150_000, kb


@needs_libpcap
def test_too_many_terms_within_the_length_are_refused(tmp_path):
    ports = " or ".join(f"port {i}" for i in range(1, bpf.MAX_TERMS + 3))      # 65 operators
    assert len(ports) <= bpf.MAX_LENGTH
    (error,) = validate_file(with_filter(tmp_path, ports), environ={})
    assert str(error).startswith(f"{tmp_path}/filter.yaml:3:19: capture.filter: invalid capture "
                                 f"filter: too complex: {bpf.MAX_TERMS + 1} and/or operators")


@needs_libpcap
def test_a_filter_at_the_bounds_is_compiled_and_valid(tmp_path):
    ports = " or ".join(f"port {i}" for i in range(1, bpf.MAX_TERMS + 2))      # 64 operators
    assert validate_file(with_filter(tmp_path, ports), environ={}) == []
    bad = ports.replace("port 7 ", "port 70000 ")
    (error,) = validate_file(with_filter(tmp_path, bad), environ={})
    assert "illegal port number 70000 > 65535" in str(error)


@needs_libpcap
def test_a_check_that_does_not_finish_is_never_ok(tmp_path, monkeypatch):
    """A real compile given less time than it takes (the way a host name that does
    not resolve would hold it): refused, saying so."""
    monkeypatch.setattr(bpf, "TIMEOUT", 1e-6)
    ports = " or ".join(f"port {i}" for i in range(1, bpf.MAX_TERMS + 2))
    (error,) = validate_file(with_filter(tmp_path, ports), environ={})
    assert "invalid capture filter: could not be checked within 1e-06 s" in str(error)


# ------------------------------------------------------------------ regexes
OVERFLOW = "a{4294967296}"
NESTED = "(" * 5000 + "a" + ")" * 5000

AGENTS = ("agents:\n  a:\n    type: pjsua\n    steps:\n{steps}"
          "  s:\n    type: sipp\n    target: 127.0.0.1:5060\n    messages:\n"
          "      - send: 'OPTIONS sip:x SIP/2.0'\n        expect: {expect}\n")
SERVICE = ("services:\n  sut:\n    command: [sleep, '30']\n    ready: {ready}\n"
           "    steps:\n      - wait: {{log: {step}}}\n")

# where a scenario gives a regex -> (the file with REGEX in that place, the path in the error)
PLACES = {
    "sip header": ("expect:\n  - sip: {{from: a, headers: {{X-A: REGEX}}}}\n", "expect[0].sip.headers.X-A"),
    "sip body": ("expect:\n  - sip: {{from: a, body: REGEX}}\n", "expect[0].sip.body"),
    "sip sequence header": ("expect:\n  - sip: {{from: a, sequence: [{{method: INVITE, headers: "
                            "{{X-A: REGEX}}}}]}}\n", "expect[0].sip.sequence[0].headers.X-A"),
    "wait headers": ("", "agents.a.steps[0].wait.headers.X-A"),
    "wait body": ("", "agents.a.steps[0].wait.body"),
    "log matches": ("expect:\n  - log: {{service: sut, matches: [REGEX]}}\n", "expect[0].log.matches[0]"),
    "log absent": ("expect:\n  - log: {{service: sut, absent: [REGEX]}}\n", "expect[0].log.absent[0]"),
    "service ready": ("", "services.sut.ready.log"),
    "service step": ("", "services.sut.steps[0].wait.log"),
    "sipp inline expect": ("", "agents.s.messages[0].expect.header.Via"),
    "response header": ("expect:\n  - response: {{agent: s, header: {{Via: REGEX}}}}\n",
                        "expect[0].response.header.Via"),
}


def regex_scenario(place: str, regex: str) -> str:
    q = "'" + regex + "'"
    steps = {"wait headers": f"      - wait: {{event: incoming, headers: {{X-A: {q}}}}}\n",
             "wait body": f"      - wait: {{event: message, body: {q}}}\n"}.get(
        place, "      - sleep: 1s\n")
    expect = f"{{header: {{Via: {q}}}}}" if place == "sipp inline expect" else "200"
    ready = f"{{log: {q}}}" if place == "service ready" else "{log: started}"
    step = q if place == "service step" else "started"
    text = "name: x\n" + AGENTS.format(steps=steps, expect=expect) + SERVICE.format(ready=ready, step=step)
    return text + PLACES[place][0].format().replace("REGEX", q)


def test_the_regex_places_are_valid_with_a_good_regex(tmp_path):
    for place in PLACES:
        path = tmp_path / "ok.yaml"
        path.write_text(regex_scenario(place, "^x-[0-9]+$"), encoding="utf-8")
        assert validate_file(path, environ={}) == [], place


@pytest.mark.parametrize("regex, why", [(OVERFLOW, "a repetition count is too large"),
                                        (NESTED, "groups nested too deeply")])
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_regex_that_python_cannot_compile_is_a_located_error(sipscen, tmp_path, place, regex, why):
    path = tmp_path / "regex.yaml"
    path.write_text(regex_scenario(place, regex), encoding="utf-8")
    code, out, err = sipscen("validate", path)
    assert code == 2 and "internal error" not in err, err
    first = err.splitlines()[0]
    assert first.startswith(f"{path}:") and f": {PLACES[place][1]}: " in first, first
    assert why in first and len(first) < 400, first
