"""Capture analysis: pcap/pcapng -> SIP calls, RTP streams, DTMF, SRTP verdicts.

A library with no knowledge of scenarios.  Entry point::

    from sipscen.analysis import analyze_capture  # lazy: loads cryptography, numpy
    analysis = analyze_capture("call.pcap", srtp_keys=["inline:..."])
    analysis.to_dict()   # the `sipscen analyze --json` contract
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from sipscen.analysis.analyze import Analysis, analyze_capture

__all__ = ["Analysis", "analyze_capture"]


def __getattr__(name: str):
    # The analyzer (and numpy, SRTP) is loaded on first use, not with the package:
    # a submodule such as sipscen.analysis.inband (the PJSUA worker's tap) comes
    # without it.
    if name in __all__:
        from sipscen.analysis import analyze  # lazy: numpy and SRTP on first use (see above)
        return getattr(analyze, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
