"""`--mutate`: every expectation of a representative set of library scenarios
is proven able to fail on its run's own evidence. The set is run for real
(PJSUA2, baresip, SIPp, Kamailio + rtpengine, coturn, tcpdump) once, covering
every registered expectation family; then `sipscen judge --mutate` re-judges
falsified copies of each expectation against the saved evidence. The score is
100 % or a survivor is exempted with a written reason
(tests/checks/mutation-exemptions.yaml). Negative controls: vacuous
expectations added to a scenario are reported with their location."""
import os
import shutil
from pathlib import Path

import pytest

from sipscen.engine.mutation import EXEMPT, KILLED, load_exemptions, mutate_folders
from sipscen.language import registry

ROOT = Path(__file__).resolve().parents[2]
EXEMPTIONS = ROOT / "tests" / "checks" / "mutation-exemptions.yaml"
# one or two scenarios per area: callflows, media, SBC relay, DTLS, load,
# malformed, parity; together every expectation family (asserted below)
REPRESENTATIVE = [
    "examples/demo.yaml",                               # call codec srtp dtmf
    "scenarios/callflows/early-media.yaml",             # sip (absence), codec
    "scenarios/callflows/redirect-not-followed.yaml",   # an exempted survivor
    "scenarios/callflows/register-unregister.yaml",     # registration
    "scenarios/parity/caller-id.yaml",                  # incoming
    "scenarios/parity/tls-options.yaml",                # transport
    "scenarios/parity/ice-turn.yaml",                   # ice (coturn)
    "scenarios/sbc/relay-to-baresip.yaml",              # leg log media (rtpengine)
    "scenarios/sbc/dtls-to-sdes.yaml",                  # DTLS-SRTP through the relay
    "scenarios/media/kamailio-audio.yaml",              # audio rtp
    "scenarios/malformed/missing-via.yaml",             # response
    "scenarios/register/register-then-call.yaml",       # load
]

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing on lo needs root")]


@pytest.fixture(scope="module")
def library_runs(tmp_path_factory):
    """The representative set run for real with `run --mutate`: (exit code,
    output, artifacts root)."""
    from sipscen.cli import main
    import io
    base = tmp_path_factory.mktemp("mutation")
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", *[str(ROOT / p) for p in REPRESENTATIVE], "--artifacts",
                 str(base / "art"), "-q", "--mutate", "--exemptions", str(EXEMPTIONS)],
                stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue(), base / "art"


def test_every_expectation_of_the_set_can_fail(library_runs):
    code, text, art = library_runs
    bad = [l for l in text.splitlines() if l.startswith(("ERROR ", "FAIL ", "  error:"))]
    assert code == 0 and not bad, "\n".join(bad) or text
    reports = [r for _, r in mutate_folders(art, exemptions=load_exemptions(EXEMPTIONS))]
    assert len(reports) == len(REPRESENTATIVE), text
    for rep in reports:
        assert not rep.failing, "\n".join(
            [f"{rep.name}:"] + [f"  {e.location} {m.what}: {m.detail}" for e, m in rep.survivors]
            + [f"  {e.location} {e.unproven}" for e in rep.unproven])
        assert not [e for e in rep.expectations if e.skipped], rep.name
    killed_by_family = {}
    for rep in reports:
        for e in rep.expectations:
            killed_by_family[e.kind] = killed_by_family.get(e.kind, 0) + sum(
                m.status == KILLED for m in e.mutants)
    families = set(registry.expectations())
    assert {k for k, n in killed_by_family.items() if n} == families, killed_by_family
    # the exempted survivor is listed with its reason, and is not counted as killed
    exempt = [(rep.name, m) for rep in reports for e in rep.expectations for m in e.mutants
              if m.status == EXEMPT]
    assert [n for n, _ in exempt] == ["redirect-not-followed"]
    assert "the absence of any message between them" in exempt[0][1].detail
    assert "MUTATION OK  demo-srtp-dtmf" in text and "exempt" in text
    import json
    saved = json.loads((_demo_folder(art) / "mutation.json").read_text())
    assert (saved["kind"], saved["score"], saved["killed"]) == ("sipscen-mutation", 1.0, 10)


def _demo_folder(art):
    return next(p for p in art.iterdir() if "demo-srtp-dtmf" in p.name)


VACUOUS = """
  - sip: {from: bob, to: alice, method: INVITE, headers: {X-Never: "."}, count: 0}
"""


def test_vacuous_expectations_are_reported_with_their_location(library_runs, sipscen,
                                                                tmp_path):
    """The negative control: bob sends alice no INVITE at all, so "no X-Never
    header in bob's INVITEs" holds for any reason: a survivor, named by its
    FILE:LINE:COL, and the exit status is 1."""
    _, _, art = library_runs
    scenario = tmp_path / "demo.yaml"
    scenario.write_text((ROOT / "examples" / "demo.yaml").read_text() + VACUOUS)
    lines = scenario.read_text().splitlines()
    sip_line = next(i for i, l in enumerate(lines, 1) if "X-Never" in l)
    code, out, err = sipscen("judge", _demo_folder(art), scenario, "--mutate")
    assert code == 1, out + err
    assert (f"SURVIVED {scenario}:{sip_line}:5: sip (expect[4]): this expectation cannot fail "
            "here: its mutant \"its headers filter dropped") in out, out
    assert "MUTATION BAD demo-srtp-dtmf" in out
    # the same expectations without the vacuous ones: no survivor, exit 0
    plain = tmp_path / "plain.yaml"
    shutil.copy(ROOT / "examples" / "demo.yaml", plain)
    code, out, err = sipscen("judge", _demo_folder(art), plain, "--mutate")
    assert code == 0 and "MUTATION OK  demo-srtp-dtmf: 10/10 mutants killed" in out, out + err


def test_a_failing_expectation_is_not_mutated(library_runs, sipscen, tmp_path):
    _, _, art = library_runs
    scenario = tmp_path / "demo.yaml"
    scenario.write_text((ROOT / "examples" / "demo.yaml").read_text().replace(
        'digits: "1234#", method: rfc4733}', 'digits: "1235#", method: rfc4733}'))
    code, out, err = sipscen("judge", _demo_folder(art), scenario, "--mutate")
    assert code == 1, out + err
    assert "skipped" in out and "not mutated: its own judgement did not pass" in out


def test_a_family_without_a_mutator_is_unproven_not_killed(library_runs, monkeypatch):
    import dataclasses
    _, _, art = library_runs
    families = registry.expectations()
    monkeypatch.setitem(families, "codec", dataclasses.replace(families["codec"], mutate=None))
    (rep,) = [r for _, r in mutate_folders(_demo_folder(art))]
    (codec,) = [e for e in rep.expectations if e.kind == "codec"]
    assert codec.unproven == "no mutator: the family 'codec' declares none"
    assert not codec.mutants and rep.failing and rep.total == rep.killed + 1


def test_an_exemption_needs_a_reason(tmp_path, sipscen, library_runs):
    _, _, art = library_runs
    bad = tmp_path / "ex.yaml"
    bad.write_text("- file: examples/demo.yaml\n  expect: 1\n")
    code, out, err = sipscen("judge", _demo_folder(art), "--mutate", "--exemptions", bad)
    assert code == 2 and f"{bad}:1:3" in err and "written reason" in err, out + err


def test_every_family_mutates_its_own_reference_example():
    """Each registered family's mutator takes the example of its reference entry
    (with no measured values: the results are not needed for a first mutant) and
    makes at least one mutant that differs from it, or says why not."""
    import yaml
    for name, family in registry.expectations().items():
        (item,) = yaml.safe_load(family.example)
        params = item[name]
        mutants, notes = family.mutator()(params, [])
        assert mutants or notes, name
        assert all(m.params != params or m.kind for m in mutants), name
