"""A JSON report carried at the end of a pod's log.

``sipscen run --log-report`` prints, after everything else, the JSON report
(the same data as ``--json``, secrets masked) gzip-compressed and base64
encoded between two marker lines. ``sipscen kube collect`` reads each pod's
log and takes the last framed report in it. Pod logs need no volume, no
object store and no write permission; the kubelet keeps 10 MiB of log per
container by default, which holds a compressed report of thousands of
scenarios (large artifacts such as pcaps stay in the pod).
"""
from __future__ import annotations

import base64
import gzip
import json
from typing import Any

BEGIN = "----- sipscen report begin (gzip+base64 JSON) -----"
END = "----- sipscen report end -----"
LINE = 76


def frame(report: dict[str, Any]) -> str:
    data = base64.b64encode(gzip.compress(json.dumps(report).encode("utf-8"), 6)).decode("ascii")
    lines = [data[i:i + LINE] for i in range(0, len(data), LINE)]
    return "\n".join([BEGIN, *lines, END]) + "\n"


class NoReport(ValueError):
    """The log holds no complete framed report."""


def unframe(log: str) -> dict[str, Any]:
    """The last complete framed report in ``log``; NoReport if there is none."""
    end = log.rfind(END)
    if end < 0:
        raise NoReport("no report in the log (the pod ended before writing it?)")
    begin = log.rfind(BEGIN, 0, end)
    if begin < 0:
        raise NoReport("a report end marker without its beginning")
    body = "".join(log[begin + len(BEGIN):end].split())
    try:
        data = json.loads(gzip.decompress(base64.b64decode(body, validate=True)))
    except (ValueError, OSError, EOFError) as exc:
        raise NoReport(f"the framed report is damaged ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("scenarios"), list):
        raise NoReport("the framed data is not a sipscen report")
    return data
