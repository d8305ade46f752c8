"""Inline CSS and JavaScript of the HTML report (no network: nothing is fetched).

The script only moves text (``textContent``) from hidden, already-escaped
``<pre>`` elements into the message panel; it never builds HTML from data.
"""

CSS = """
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --muted:#57606a; --line:#d0d7de;
        --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0;
       color: #1f2328; background: var(--bg); }
header.top { padding: 16px 24px; background: #24292f; color: #fff; }
header.top h1 { margin: 0 0 4px; font-size: 20px; }
header.top .meta { color: #d0d7de; font-size: 12px; }
main { padding: 8px 24px 40px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
table { border-collapse: collapse; margin: 4px 0 10px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-weight: 600;
         font-size: 12px; text-transform: uppercase; }
.badge.passed { background: var(--pass); } .badge.failed { background: var(--fail); }
.badge.error { background: var(--error); }
.badge.nochecks { background: #9a6700; }
.counts .nochecks { color: #9a6700; }
.warnbox { background: #fff8c5; border: 1px solid #d4a72c; padding: 4px 10px; border-radius: 4px;
           margin: 4px 0; }
.counts span { margin-right: 14px; font-weight: 600; }
.counts .passed { color: var(--pass); } .counts .failed { color: var(--fail); }
.counts .error { color: var(--error); }
section.scenario { border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px 12px;
                   margin: 18px 0; }
section.scenario.failed { border-left: 6px solid var(--fail); }
section.scenario.error { border-left: 6px solid var(--error); }
section.scenario.passed { border-left: 6px solid var(--pass); }
table.checks td:nth-child(2) { min-width: 13em; }
table.checks td.expected, table.checks td.actual { max-width: 32em; overflow-wrap: anywhere; }
tr.check.failed td, tr.check.error td { background: #ffebe9; }
tr.check.failed td.actual { color: var(--fail); font-weight: 600; }
.errorbox { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; border-radius: 4px;
            white-space: pre-wrap; }
.muted { color: var(--muted); }
.ladder-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; background: #fff;
               padding: 4px; }
svg.ladder { display: block; }
svg.ladder .lane line { stroke: #8c959f; stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.ladder .lane-name { font: 600 14px sans-serif; text-anchor: middle; fill: #1f2328; }
svg.ladder .lane-addr { font: 11px monospace; text-anchor: middle; fill: var(--muted); }
svg.ladder .msg { cursor: pointer; }
svg.ladder .msg .hit { fill: transparent; }
svg.ladder .msg:hover .hit, svg.ladder .msg:focus .hit, svg.ladder .msg.selected .hit { fill: #ddf4ff; }
svg.ladder .msg:focus { outline: none; }
svg.ladder .arrow { stroke-width: 2; }
svg.ladder .r1xx .arrow { stroke-dasharray: 5 3; }
svg.ladder .summary { font: 12px monospace; fill: #1f2328; }
svg.ladder .r2xx .summary { fill: var(--pass); } svg.ladder .r3xx .summary { fill: var(--fail); }
svg.ladder .time { font: 11px monospace; fill: var(--muted); }
svg.ladder marker path { fill: #57606a; }
.raw-panel { margin-top: 6px; }
p.legend { margin: 4px 0 0; font: 12px monospace; } p.legend span { margin-right: 16px; }
.raw-panel pre { background: var(--panel); border: 1px solid var(--line); padding: 8px; max-height: 420px;
                 overflow: auto; white-space: pre-wrap; word-break: break-all; margin: 0; }
.dtmf-strip text { font: 600 13px monospace; text-anchor: middle; }
.dtmf-strip .row-label { font: 12px sans-serif; text-anchor: start; fill: var(--muted); }
.dtmf-strip .sent circle { fill: #ddf4ff; stroke: #1f6feb; }
.dtmf-strip .wire circle { fill: #fff8c5; stroke: #bf8700; }
.dtmf-strip .received circle { fill: #dafbe1; stroke: #1a7f37; }
details > summary { cursor: pointer; color: var(--muted); }
nav.index a { margin-right: 10px; }
"""

JS = r"""
(function () {
  function show(group) {
    var section = group.closest('section.scenario');
    var panel = section.querySelector('.raw-panel pre');
    var source = document.getElementById(group.getAttribute('data-raw'));
    if (!panel || !source) { return; }
    panel.textContent = source.textContent;
    section.querySelectorAll('svg.ladder .msg.selected').forEach(function (g) {
      g.classList.remove('selected');
    });
    group.classList.add('selected');
  }
  document.querySelectorAll('svg.ladder .msg').forEach(function (group) {
    group.addEventListener('click', function () { show(group); });
    group.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); show(group); }
    });
  });
  // deep link: report.html#ID-raw-N opens that message as if it had been clicked
  var id = decodeURIComponent(location.hash.slice(1));
  if (id) {
    var target = document.querySelector('svg.ladder .msg[data-raw="' + id.replace(/["\\]/g, '') + '"]');
    if (target) { target.dispatchEvent(new MouseEvent('click', {bubbles: true})); }
  }
})();
"""
