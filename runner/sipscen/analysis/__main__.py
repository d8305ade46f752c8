"""``python -m sipscen.analysis CAPTURE [--srtp-key KEY]...``: the analysis as JSON on stdout.

A minimal entry for scripts and the benchmark; ``sipscen analyze`` is the
user-facing command.
"""
from __future__ import annotations

import argparse
import json
import sys

from sipscen.core.errors import SipscenError, exit_status_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sipscen.analysis")
    parser.add_argument("capture")
    parser.add_argument("--srtp-key", action="append", default=[])
    parser.add_argument("--inband", action="store_true")
    args = parser.parse_args(argv)
    from sipscen.analysis import analyze_capture  # lazy: loads cryptography, numpy
    try:
        analysis = analyze_capture(args.capture, srtp_keys=args.srtp_key, inband=args.inband)
    except SipscenError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return int(exit_status_for(exc))
    sys.stdout.write(json.dumps(analysis.to_dict()) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
