"""Benchmark: SRTP unprotect packets per second, per suite (sipscen.analysis.srtp).

Generates a stream with SrtpSender (20 ms PCMA-sized payloads by default,
crossing a sequence-number wrap), then times SrtpReceiver.unprotect over it.
Rates are packets per second of process CPU time (time.process_time), best
of --repeat runs: other processes on a busy machine distort wall-clock
figures far more. Also times: the same stream under a wrong key (every packet probes the
initial ROC range), protect, libsrtp (pylibsrtp) unprotect for the 128-bit
suites as a C reference, and the corpus capture if present.

    .venv/bin/python bench/bench_srtp.py [--packets N] [--payload BYTES] [--repeat R]
"""
from __future__ import annotations

import argparse
import struct
import sys
import time
from pathlib import Path

from sipscen.analysis.srtp import SUITES, SrtpReceiver, SrtpSender, parse_key

ROOT = Path(__file__).resolve().parents[1]
CORPUS_CAPTURE = ROOT / ".." / "shared" / "corpus" / "captures" / "srtp-decrypt-marseillaise-srtp.pcap"
CORPUS_KEY = "AES_CM_128_HMAC_SHA1_80 inline:aSBrbm93IGFsbCB5b3VyIGxpdHRsZSBzZWNyZXRz"


def make_stream(count: int, payload_len: int, start_seq: int = 65536 - 1000) -> list[bytes]:
    payload = bytes(i & 0xFF for i in range(payload_len))
    return [struct.pack("!BBHII", 0x80, 8, (start_seq + i) & 0xFFFF, i * 160, 0x5EC0FFEE) + payload
            for i in range(count)]


def best_rate(func, items: list[bytes], repeat: int) -> float:
    """Best packets/s over ``repeat`` runs of ``func`` applied to every item."""
    best = 0.0
    for _ in range(repeat):
        start = time.process_time()
        for item in items:
            func(item)
        elapsed = time.process_time() - start
        best = max(best, len(items) / elapsed)
    return best


def bench_suite(name: str, plain: list[bytes], repeat: int) -> dict[str, float]:
    suite = SUITES[name]
    key, salt = bytes(range(suite.key_len)), bytes(range(100, 100 + suite.salt_len))
    sender = SrtpSender(name, key, salt)
    protected = [sender.protect(p) for p in plain]
    results: dict[str, float] = {}

    rates = []
    for _ in range(repeat):
        rx = SrtpReceiver(name, key, salt)
        start = time.process_time()
        for packet in protected:
            rx.unprotect(packet)
        rates.append(len(protected) / (time.process_time() - start))
        assert rx.authenticated == len(protected), "benchmark stream did not authenticate"
    results["unprotect"] = max(rates)
    wrong = SrtpReceiver(name, bytes(suite.key_len), salt)
    results["wrong key"] = best_rate(wrong.unprotect, protected[: max(1, len(protected) // 10)], repeat)
    results["protect"] = best_rate(SrtpSender(name, key, salt).protect, plain, repeat)
    return results


def bench_libsrtp(name: str, plain: list[bytes], repeat: int) -> float | None:
    try:
        from pylibsrtp import Policy, Session
    except ImportError:
        return None
    profiles = {"AES_CM_128_HMAC_SHA1_80": Policy.SRTP_PROFILE_AES128_CM_SHA1_80,
                "AES_CM_128_HMAC_SHA1_32": Policy.SRTP_PROFILE_AES128_CM_SHA1_32}
    if name not in profiles:
        return None
    material = bytes(range(16)) + bytes(range(100, 114))
    tx = Session(Policy(key=material, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profiles[name]))
    protected = [tx.protect(p) for p in plain]
    best = 0.0
    for _ in range(repeat):
        rx = Session(Policy(key=material, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profiles[name]))
        start = time.process_time()
        for packet in protected:
            rx.unprotect(packet)
        best = max(best, len(protected) / (time.process_time() - start))
    return best


def bench_corpus(repeat: int) -> tuple[int, float] | None:
    if not CORPUS_CAPTURE.is_file():
        return None
    from scapy.utils import RawPcapReader

    with RawPcapReader(str(CORPUS_CAPTURE)) as reader:
        packets = [bytes(frame[42:]) for frame, _meta in reader]     # Ethernet + IPv4 + UDP
    (suite, key, salt), *_ = parse_key(CORPUS_KEY)
    best = 0.0
    for _ in range(repeat):
        rx = SrtpReceiver(suite, key, salt)
        start = time.process_time()
        for packet in packets:
            rx.unprotect(packet)
        best = max(best, len(packets) / (time.process_time() - start))
        assert rx.authenticated == len(packets)
    return len(packets), best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=30_000)
    parser.add_argument("--payload", type=int, default=160, help="payload bytes (160 = 20 ms PCMA)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    plain = make_stream(args.packets, args.payload)
    print(f"SRTP benchmark: {args.packets} packets, {args.payload}-byte payloads, "
          f"best of {args.repeat}, packets per CPU second, Python {sys.version.split()[0]}")
    print(f"{'suite':26s} {'unprotect/s':>12s} {'wrong key/s':>12s} {'protect/s':>12s} {'libsrtp/s':>12s}")
    for name in SUITES:
        r = bench_suite(name, plain, args.repeat)
        lib = bench_libsrtp(name, plain, args.repeat)
        lib_text = f"{lib:12,.0f}" if lib else f"{'-':>12s}"
        print(f"{name:26s} {r['unprotect']:12,.0f} {r['wrong key']:12,.0f} {r['protect']:12,.0f} {lib_text}")
    corpus = bench_corpus(args.repeat)
    if corpus:
        print(f"corpus marseillaise-srtp.pcap: {corpus[0]} packets, {corpus[1]:,.0f} unprotect/s "
              f"(all authenticated)")
    else:
        print("corpus capture absent: skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
