"""Renderers of :class:`sipscen.core.results.ScenarioResult` lists. They never run anything.

    console.LiveProgress(console)            EventBoard listener, live progress lines
    console.render_results(results, console) checks with expected/actual, then a summary
    json_report.write_json(results, path)    {"scenarios": [...], "summary": {...}}
    junit.write_junit(results, path)         JUnit XML (Jenkins schema)
    html.write_html(results, path)           one self-contained page with SIP ladders
    redact.redact(obj, secrets)              every secret replaced by "***"

Every writer also takes ``secrets=`` (added to each result's ``secrets``).
"""
