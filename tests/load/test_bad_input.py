"""Bad load-with-media input: FILE:LINE:COL, a message, exit 2, no traceback."""
from __future__ import annotations

import pytest

CASES = {
    "capture: {buffer: lots}\n": ("2:19", "capture.buffer: not a size: 'lots'"),
    "capture: {rotate: -5MB}\n": ("2:19", "capture.rotate"),
    "AGENT    impair: {loss: 5%}\n": ("7:13", "impair: thins the pcap it plays"),
    "AGENT    media: {one_way_every: 3}\n": ("7:28", "one_way_every silences a calling"),
    "EXPECT  - load: {agent: uas, loss_p95_max: \"x%\"}\n": ("10:38", "not a percentage"),
    "EXPECT  - load: {agent: uas, jitter_p95_max: fast}\n": ("10:40", "not a duration: 'fast'"),
    "EXPECT  - load: {agent: uas, mos_p5_min: 7}\n": ("10:36", "mos_p5_min: 7 is greater"),
}


@pytest.mark.parametrize("line", list(CASES))
def test_bad_input_is_said_at_its_place(tmp_path, sipscen, line):
    capture = line if line.startswith("capture") else ""
    agent = line[5:] if line.startswith("AGENT") else ""
    expect = line[6:] if line.startswith("EXPECT") else ""
    capture = capture or "timeout: 10s\n"
    agent = agent or "    calls: 1\n"
    text = (f"name: bad\n{capture}agents:\n  uas:\n    type: sipp\n"
            f"    scenario: uas\n{agent}expect:\n  - load: {{agent: uas}}\n{expect}")
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    code, out, err = sipscen("validate", path)
    where, what = CASES[line]
    assert code == 2, (out, err)
    assert f"{path}:{where}:" in err and what in err, err
    assert "Traceback" not in err
