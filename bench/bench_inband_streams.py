"""Benchmark: `sipscen analyze --inband` against the number of RTP streams (issue 20).

`--inband` decodes every G.711 / G.722 / opus stream and looks for in-band
DTMF in it. It used to grow quadratically with the streams (every stream's
digits were looked up by scanning every detector: 2.5k / 5k / 10k / 20k
streams took 0.46 / 1.08 / 2.70 / 9.38 s, 100k did not finish in 300 s) and
to hold a buffer and a detector for every stream of the capture (300k
one-packet SSRCs: 2.17 GB, against 241 MB without `--inband`).

Captures (generated, ``capture_gen.generate_streams``): calls 5 ms apart,
each with SIP and SDP and two short streams (2-8 packets) of mixed codecs
(PCMA 30 ms, PCMU 20 ms, G.722, opus with variable frames, G.729), 1 % loss,
every tenth G.711 stream carrying an in-band digit; and one capture of
one-packet SSRCs (``--one-packet``). Each file is analysed by a child
process with and without ``--inband`` (peer runs in the same session); the
figures are wall time, CPU time and the child's own peak RSS (VmHWM), then
per stream, to show linearity. Figures, not assertions.

    .venv/bin/python bench/bench_inband_streams.py [--streams 2500 20000 100000] [--one-packet 300000]
"""
from __future__ import annotations

import argparse
import json
import resource
import struct
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_analyze import PcapWriter  # noqa: E402
from capture_gen import generate_streams, run_sipscen_measured  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def one_packet_ssrcs(path: Path, count: int) -> dict:
    """``count`` PCMU packets 1 ms apart on one flow, each with an SSRC of its own."""
    hdr = struct.Struct("!BBHII").pack
    with open(path, "wb") as f:
        w = PcapWriter(f)
        for i in range(count):
            w.udp(1_700_000_000 + i * 0.001, bytes([127, 0, 0, 1]), 20000, bytes([127, 0, 0, 2]),
                  40000, hdr(0x80, 0, 1, 160, 0x1000 + i) + bytes(range(160)))
        w.flush()
    return {"packets": w.count, "streams": count, "digits": 0}


def measure(cap: Path, out: Path, inband: bool) -> tuple[float, float, int, int]:
    """(wall s, CPU s, peak RSS KiB, exit code) of one ``analyze --json`` child."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = ["analyze", "--json", "-", *(["--inband"] if inband else []), str(cap)]
    wall, kb, code = run_sipscen_measured(args, out, ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, kb, code


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, nargs="*", default=[2500, 20000, 100000])
    ap.add_argument("--one-packet", type=int, default=300000,
                    help="also a capture of this many one-packet SSRCs (0: none)")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sipscen-bench-inband-") as tmp:
        cases = [(n, "mixed") for n in args.streams]
        if args.one_packet:
            cases.append((args.one_packet, "one-packet"))
        for n, kind in cases:
            cap = Path(tmp) / f"{kind}-{n}.pcap"
            g0 = time.perf_counter()
            info = generate_streams(cap, n) if kind == "mixed" else one_packet_ssrcs(cap, n)
            print(f"{kind} {n:,} streams: {info['packets']:,} packets, {cap.stat().st_size / 1e6:.0f} MB, "
                  f"{info['digits']} in-band digits planted (generated in {time.perf_counter() - g0:.1f} s)",
                  flush=True)
            for inband in (False, True):
                out = Path(tmp) / "out.json"
                wall, cpu, kb, code = measure(cap, out, inband)
                found = None
                if code == 0:
                    data = json.loads(out.read_text())
                    found = sum(1 for d in data["dtmf"] if d["method"] == "inband")
                label = "--inband" if inband else "plain   "
                print(f"  {label}: wall {wall:6.2f} s, CPU {cpu:6.2f} s, peak RSS {kb / 1024:6.0f} MB, "
                      f"exit {code}" + (f", {found} in-band digits" if inband else ""), flush=True)
                rows.append((kind, n, inband, wall, cpu, kb, code))
            out.unlink(missing_ok=True)
            cap.unlink()
    print("\nper stream (linear: the figures stay flat as the streams grow):")
    print(f"  {'capture':>20}  {'':8}  {'CPU us/stream':>13}  {'RSS KB/stream':>13}  "
          f"{'--inband / plain CPU':>20}  {'RSS':>6}")
    plain = {(k, n): (cpu, kb) for k, n, inb, _w, cpu, kb, _c in rows if not inb}
    for kind, n, inband, _wall, cpu, kb, code in rows:
        base_cpu, base_kb = plain[(kind, n)]
        ratio = f"{cpu / base_cpu:19.2f}x  {kb / base_kb:5.2f}x" if inband and base_cpu else ""
        print(f"  {f'{kind} {n:,}':>20}  {'--inband' if inband else 'plain':8}  "
              f"{cpu * 1e6 / n:13.0f}  {kb / n:13.2f}  {ratio}")
    return 0 if all(r[-1] == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
