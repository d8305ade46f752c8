"""Values for people: one formatter (report/values.py) for console, JUnit and HTML."""
import io
import re
import xml.etree.ElementTree as ET

from rich.console import Console

from sipscen.core.results import CheckResult, ScenarioResult
from sipscen.report import values
from sipscen.report.console import render_results
from sipscen.report.html import render_html
from sipscen.report.json_report import to_json_dict
from sipscen.report.junit import junit_tree
from sipscen.report.text import check_line

LEG = {"alice->sut": {"addresses": "127.0.0.1:23138->127.0.0.1:12770",
                      "suite": "AES_256_CM_HMAC_SHA1_80", "authenticated": 138, "failed": 0},
       "sut->bob": {"addresses": "127.0.0.1:12772->127.0.0.1:4000",
                    "suite": "AES_256_CM_HMAC_SHA1_80", "authenticated": 120, "failed": 18}}


def test_scalars_lists_and_dicts_read_as_text():
    assert values.text(True) == "yes" and values.text(False) == "no"
    assert values.text(None) == "-" and values.text("") == "(empty)"
    assert values.text(["PCMA", "PCMU"]) == "PCMA, PCMU" and values.text([]) == "none"
    assert values.text(0.1 + 0.2) == "0.3" and values.text(12) == "12"
    assert values.text({"answered": True, "status": 200}) == "answered: yes; status: 200"
    assert values.text("1234#", quote=True) == "'1234#'"
    assert values.text("x" * 1000, limit=50) == "x" * 47 + "..."
    assert "True" not in values.text({"a": [True, {"b": False}]})


def test_tables():
    leg = values.table(LEG)
    assert leg.columns == ["", "addresses", "suite", "authenticated", "failed"]
    assert leg.rows[1] == ["sut->bob", "127.0.0.1:12772->127.0.0.1:4000",
                           "AES_256_CM_HMAC_SHA1_80", "120", "18"]
    pairs = values.table({"answered": True, "codecs": ["PCMA", "G722"]})
    assert pairs.rows == [["answered", "yes"], ["codecs", "PCMA, G722"]]
    listed = values.table([{"call_id": "a", "mos": 4.1}, {"call_id": "b", "loss": 0.5}])
    assert listed.columns == ["call id", "mos", "loss"] and listed.rows[1] == ["b", "", "0.5"]
    assert values.table("PCMA") is None and values.table(["a", "b"]) is None
    many = values.table({str(i): i for i in range(80)})
    assert len(many.rows) == values.MAX_ROWS + 1 and many.rows[-1][0] == "... 30 more"


def result():
    return ScenarioResult(
        name="leg", file="leg.yaml", status="failed", duration=1.0,
        checks=[CheckResult("leg alice<->bob via sut: SRTP", "failed", True, LEG,
                            "SRTP not proven sut->bob", "leg.yaml:9:5"),
                CheckResult("codec", "passed", ["PCMA"], "PCMA", "", "leg.yaml:10:5")])


def test_console_junit_and_html_show_the_same_table():
    r = result()
    buf = io.StringIO()
    render_results([r], Console(file=buf, width=200, no_color=True))
    out = buf.getvalue()
    row = next(line for line in out.splitlines() if "sut->bob    127" in line)
    assert "127.0.0.1:12772->127.0.0.1:4000" in row and "120" in row and "18" in row
    assert "{'" not in out and "True" not in out and "['PCMA']" not in out
    # too wide for its cell: printed whole under the checks table, the cell says where
    assert "(table 1 below)" in out and "table 1: leg alice<->bob via sut: SRTP, actual" in out
    assert row.startswith("    sut->bob")

    failure = junit_tree([r]).find(".//failure")
    assert "expected yes" in failure.get("message")
    assert re.search(r"\n    sut->bob +127\.0\.0\.1:12772->127\.0\.0\.1:4000 +AES_256_CM_HMAC_SHA1_80"
                     r" +120 +18", failure.text)
    assert "{'" not in ET.tostring(junit_tree([r]).getroot(), encoding="unicode")

    html = render_html([r])
    assert "<th>authenticated</th>" in html and "<td>sut-&gt;bob</td>" in html
    assert "{&#39;" not in html and "[&#39;PCMA&#39;]" not in html

    # JSON keeps the raw values
    raw = to_json_dict([r])["scenarios"][0]["checks"][0]
    assert raw["actual"] == LEG and raw["expected"] is True


def test_check_line_quotes_top_level_strings_only():
    c = CheckResult("dtmf", "failed", "1235#", "1234#")
    assert check_line(c) == "dtmf: expected '1235#', actual '1234#'"
    assert check_line(CheckResult("c", "failed", ["PCMA"], False)) == \
        "c: expected PCMA, actual no"


def test_any_json_value_is_shown_without_error():
    """Whatever a check puts in expected/actual (any JSON value, hostile text), the
    formatter gives one bounded line and, at most, a rectangular table."""
    from hypothesis import given, settings, strategies as st
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                               | st.dictionaries(st.text(max_size=10), inner, max_size=5),
                               max_leaves=30)

    @settings(max_examples=300, deadline=None)
    @given(json_values)
    def check(value):
        line = values.text(value, limit=200)
        assert len(line) <= 200
        if not isinstance(value, str):            # a nested string's newline is escaped
            assert "\n" not in line and "\r" not in line
        assert "\n" not in values.text(str(value), quote=True)
        t = values.table(value)
        if t is not None:
            assert all(len(row) == len(t.columns) for row in t.rows)
            assert len(t.rows) <= values.MAX_ROWS + 1
            assert values.block(value, limit=500)

    check()
