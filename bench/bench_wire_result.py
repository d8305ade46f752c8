"""Benchmark: reading a load run's wire analysis as typed objects and writing it back.

`WireAnalysis.from_dict` / `to_dict` (analysis/result.py) on a synthetic
`sipscen analyze --json` document of N calls of 5 SIP messages each (a 2 KB raw
message, as a load run's INVITEs are), against a peer in the same process: the
same document with the messages left as dicts (what the code did before
`WireMessage`). Prints CPU time (process_time, best of 3) of each and the ratio.

    .venv/bin/python bench/bench_wire_result.py [--calls 20000]
"""
from __future__ import annotations

import argparse
import json
import time

from sipscen.analysis import result

RAW = "INVITE sip:b@127.0.0.2 SIP/2.0\r\n" + "X-Pad: y\r\n" * 60


def document(calls: int) -> dict:
    def message(i: int, k: int) -> dict:
        return {"time": i + k * 0.01, "src": "127.0.0.1:5060", "dst": "127.0.0.2:5060",
                "summary": "INVITE sip:b@127.0.0.2", "transport": "udp", "method": "INVITE",
                "status": None if k % 2 == 0 else 200, "raw": RAW}
    doc = {"packets": calls * 5, "warnings": [], "rtp_streams": [], "dtmf": [],
           "calls": [{"call_id": f"c{i}", "from": "a", "to": "b", "start": i, "end": i + 1,
                      "status": 200, "answered": True, "sdp": [],
                      "messages": [message(i, k) for k in range(5)]} for i in range(calls)]}
    return json.loads(json.dumps(doc))


def best(doc: dict) -> tuple[float, float]:
    times = []
    for _ in range(3):
        t0 = time.process_time()
        wire = result.WireAnalysis.from_dict(doc)
        t1 = time.process_time()
        out = wire.to_dict()
        t2 = time.process_time()
        assert out == doc
        times.append((t1 - t0, t2 - t1))
    return min(times, key=sum)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    doc = document(args.calls)
    typed = best(doc)
    typed_read = result.WireCall.from_dict
    # the peer: messages left as the JSON's dicts
    result.WireCall.from_dict = classmethod(lambda cls, d: result._FromJson.from_dict.__func__(cls, d))
    try:
        peer = best(doc)
    finally:
        result.WireCall.from_dict = typed_read
    n = args.calls * 5
    print(f"{args.calls} calls, {n} messages (CPU, best of 3)")
    print(f"  typed messages: from_dict {typed[0]:.3f} s, to_dict {typed[1]:.3f} s "
          f"({sum(typed) / n * 1e6:.1f} us a message)")
    print(f"  dict messages:  from_dict {peer[0]:.3f} s, to_dict {peer[1]:.3f} s")
    print(f"  ratio typed / dict: {sum(typed) / sum(peer):.1f}")


if __name__ == "__main__":
    main()
