"""A browser agent's facts: the PJSUA fact book (the page reports the same events a
PJSUA worker does), with the browser's own RTP statistics kept whole.

getStats() gives more than PJSUA's RTCP counters: round-trip time (RTCP and
ICE), what the far end reported (``remote_fraction_lost``, ``remote_jitter_ms``),
concealed samples, the DTLS/SRTP ciphers and the selected candidate pair; every
figure is kept in the call's ``rtp``, the ones the checks read under the same
names as PJSUA's (``rx_packets``, ``rx_lost``, ``rx_jitter_ms``, ``tx_packets``).
The page's receiver counts the whole call (hold and resume keep it): it reports no
media sessions, so an ``rtp`` phase at a browser is inconclusive, judged on the wire.
"""
from __future__ import annotations

from typing import Any

from sipscen.agents.pjsua.facts import FactBook
from sipscen.agents.records import BrowserFacts

STATS = "stats"


def suite_name(cipher: str) -> str:
    """getStats' srtpCipher as sipscen names SRTP suites (the DTLS use_srtp profiles of
    analysis/dtls.py): SRTP_AEAD_AES_256_GCM -> AEAD_AES_256_GCM."""
    return cipher[len("SRTP_"):] if cipher.startswith("SRTP_") else cipher


class BrowserFactBook(FactBook):
    def __init__(self) -> None:
        super().__init__("browser")
        self.closed_rx: set[str] = set()       # calls whose received audio is finished

    def apply(self, kind: str, data: dict[str, Any], t: float) -> None:
        if kind != STATS:
            super().apply(kind, data, t)
            if kind == "media":        # one receiver all call long: no media sessions of its
                with self._lock:       # own, so a phase is judged on the wire (rtp_agent.py)
                    call = self._calls.get(data.get("call_id") or "")
                    if call is not None:
                        call.rtp_sessions = []
            return
        with self._lock:
            call = self._call(data)
            if call is not None:
                call.rtp = {k: v for k, v in data.items()
                            if k != "call_id" and isinstance(v, (int, float, str))}
                if data.get("codec") and not call.codec:   # media came before RTP did
                    call.codec = data["codec"]
                    call.clock_rate = data.get("clock_rate")
                    call.payload_type = data.get("payload_type")
                if data.get("srtp_cipher") and call.srtp.get("active"):
                    call.srtp["suite"] = suite_name(data["srtp_cipher"])

    def set_rx(self, call_id: str, rx: dict[str, Any]) -> None:
        with self._lock:
            call = self._call({"call_id": call_id})
            if call is not None:
                call.rx_audio = dict(rx)

    def record(self) -> BrowserFacts:
        return BrowserFacts(**self.common())
