"""``sipscen scaffold``'s arguments, apart from the command (command.py): the CLI
declares every command's parser at each start, and this one must not bring the
scaffold's and the scenario validator's imports into ``sipscen analyze``'s start
(about 0.15 CPU s: jsonschema, the scenario builder)."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> None:
    p = sub.add_parser("scaffold", help="write the scenario that reproduces a captured call")
    p.add_argument("capture", type=Path, metavar="CAPTURE")
    p.add_argument("--list", action="store_true",
                   help="list the calls and registrations found, write nothing")
    p.add_argument("--call", action="append", default=[], metavar="CALL-ID",
                   help="scaffold this call (a Call-ID or a unique prefix; repeatable)")
    p.add_argument("--sut", action="append", default=[], metavar="NAME=HOST:PORT|FILE",
                   help="the system under test: its address in the capture, and/or a "
                        "scenario piece (YAML) whose service NAME runs it (repeatable)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the scenario here")
    p.add_argument("--anonymise", "--anonymize", action="store_true",
                   help="neutral users, hosts, tags and Call-IDs; no SRTP keys or credentials")
    p.add_argument("--srtp-key", action="append", default=[], metavar="KEY",
                   help="an SDES key for SRTP whose SDP is not in the capture (repeatable)")
    p.add_argument("--max-calls", type=_positive, default=None, metavar="N",
                   help="without --call, scaffold at most N calls (default 20)")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return int(text)
