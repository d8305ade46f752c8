"""Capture analysis: pcap/pcapng -> SIP calls, RTP streams, DTMF, SRTP verdicts.

A library with no knowledge of scenarios.  Entry point::

    from sipscen.analysis import analyze_capture
    analysis = analyze_capture("call.pcap", srtp_keys=["inline:..."])
    analysis.to_dict()   # the `sipscen analyze --json` contract
"""
from sipscen.analysis.analyze import Analysis, analyze_capture

__all__ = ["Analysis", "analyze_capture"]
