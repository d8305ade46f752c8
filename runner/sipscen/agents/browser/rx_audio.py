"""What a browser agent hears: each call's received audio as a WAV, and the in-band
DTMF in it.

The page (``page/agent.js``) taps the call's remote track with an AudioWorklet
and posts 100 ms chunks of 16-bit PCM; :class:`RxAudio` appends them to
``rx-N.wav`` in the agent's artifacts folder (the header is kept valid after
every chunk) and feeds the same samples to the in-band DTMF detector that the
PJSUA agent's tap uses (``sipscen.analysis.inband``), so a digit is a ``dtmf``
event (``method: inband``) while the call goes on. ``started_at`` (board
seconds) is when the first sample was heard, so the checks read the file on
the board's clock as they read a PJSUA tap's.
"""
from __future__ import annotations

import base64
import wave
from pathlib import Path
from typing import Any


class RxAudio:
    def __init__(self, path: Path, rate: int, started_at: float):
        self.path = path
        self.rate = rate
        self.started_at = started_at
        self.samples = 0
        self._wav = wave.open(str(path), "wb")
        self._wav.setnchannels(1)
        self._wav.setsampwidth(2)
        self._wav.setframerate(rate)
        self._detector = None
        self._sent = 0
        if rate % 8000 == 0:
            from sipscen.analysis.inband import InbandDetector  # lazy: numpy: only with audio
            self._detector = InbandDetector(rate)

    def add(self, pcm_b64: str) -> list[dict[str, Any]]:
        """One chunk (base64 of little-endian int16): written, and the digits it completed."""
        if self._wav is None:
            return []
        data = base64.b64decode(pcm_b64)
        data = data[:len(data) // 2 * 2]
        self._wav.writeframes(data)
        self.samples += len(data) // 2
        if self._detector is None:
            return []
        import numpy as np  # lazy: numpy only when a recording is written
        self._detector.feed(np.frombuffer(data, dtype="<i2").astype(np.int16))
        return self._new_digits()

    def _new_digits(self) -> list[dict[str, Any]]:
        found = self._detector.digits[self._sent:]
        self._sent += len(found)
        return found

    def close(self) -> list[dict[str, Any]]:
        """Finish the file; the digits only the end of the audio completed."""
        if self._wav is None:
            return []
        self._wav.close()
        self._wav = None
        if self._detector is None:
            return []
        self._detector.finish()
        return self._new_digits()

    @property
    def seconds(self) -> float:
        return self.samples / float(self.rate)

    def record(self) -> dict[str, Any]:
        """The call's ``rx_audio`` fact."""
        return {"path": str(self.path), "rate": self.rate,
                "started_at": round(self.started_at, 6)}
