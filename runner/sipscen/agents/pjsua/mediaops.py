"""The worker's media commands: DTMF (RFC 4733, SIP INFO, in-band dual tones),
playing a file or tones into the call, recording what the call carries.

A mixin of :class:`sipscen.agents.pjsua.worker.Worker` (which supplies
``current_call``, ``audio_media``, ``media_objects``, ``recorders``,
``schedule``, ``emit`` and ``result``); imports pjsua2.
"""
from __future__ import annotations

from typing import Any

import pjsua2 as pj

from sipscen.agents.pjsua import protocol as P
from sipscen.agents.pjsua.pjobjects import WorkerCall, error_text
from sipscen.agents.pjsua.tap import start_inband


class CommandFailed(Exception):
    """A command that cannot be carried out; becomes ``result ok=false``."""


class MediaOps:
    def cmd_dtmf(self, msg: dict[str, Any]) -> None:
        call = self.current_call(("CONFIRMED",))
        digits = str(msg.get("digits") or "")
        method_name = msg.get("method") or P.RFC4733
        methods = {P.RFC4733: pj.PJSUA_DTMF_METHOD_RFC2833, P.SIP_INFO: pj.PJSUA_DTMF_METHOD_SIP_INFO}
        if method_name not in methods and method_name != P.INBAND:
            raise CommandFailed(f"unknown DTMF method {method_name!r}")
        duration = int(msg.get("duration_ms") or 160)
        gap = int(msg.get("gap_ms") if msg.get("gap_ms") is not None else 100)
        ident = msg.get("id")
        if method_name == P.INBAND:
            self._inband_dtmf(call, digits, duration, gap, ident)
            return

        def send(index: int) -> None:
            if index == len(digits):
                self.result(ident, True)
                return
            try:
                prm = pj.CallSendDtmfParam()
                prm.digits = digits[index]
                prm.method = methods[method_name]
                prm.duration = duration
                call.sendDtmf(prm)
            except Exception as exc:
                self.result(ident, False, f"dtmf {digits[index]!r}: {error_text(exc)}")
                return
            self.emit(P.DTMF_SENT, call_id=call.sip_call_id, digit=digits[index],
                      method=method_name)
            last = index + 1 == len(digits)
            self.schedule((duration + (0 if last else gap)) / 1000, lambda: send(index + 1))

        send(0)

    def _inband_dtmf(self, call: WorkerCall, digits: str, duration: int, gap: int, ident: Any) -> None:
        """Dual tones into the call's audio, one digit every duration + gap (tap.py)."""
        try:
            generator = start_inband(call, digits, duration, gap)
        except ValueError as exc:
            raise CommandFailed(str(exc)) from None
        self.media_objects.append(generator)

        def sent(index: int) -> None:
            self.emit(P.DTMF_SENT, call_id=call.sip_call_id, digit=digits[index], method=P.INBAND)
            if index + 1 < len(digits):
                self.schedule((duration + gap) / 1000, lambda: sent(index + 1))
            else:
                self.schedule(duration / 1000, lambda: (self._stop_sources([generator]),
                                                        self.result(ident, True)))
        sent(0)

    def cmd_play(self, msg: dict[str, Any]) -> None:
        """Play a WAV file (looped when ``duration_ms`` is given) or a tone into the call."""
        target = self.audio_media()
        duration = int(msg.get("duration_ms") or 0)
        sources: list[Any] = []
        if msg.get("file"):
            player = pj.AudioMediaPlayer()
            player.createPlayer(str(msg["file"]), 0 if duration else pj.PJMEDIA_FILE_NO_LOOP)
            sources.append(player)
        else:
            tone = msg.get("tone") or {}
            freqs = [int(f) for f in (tone.get("frequencies") or [440])][:4]
            duration = duration or int(tone.get("duration_ms") or 500)
            # One generator plays up to two frequencies; the bridge mixes generators.
            for pair in (freqs[i:i + 2] for i in range(0, len(freqs), 2)):
                generator = pj.ToneGenerator()
                generator.createToneGenerator()
                generator.play(_tone_descs(pair, duration), False)
                sources.append(generator)
        for source in sources:
            source.startTransmit(target)
            self.media_objects.append(source)
        if duration:
            self.schedule(duration / 1000, lambda: self._stop_sources(sources))
        self.result(msg.get("id"), True)

    def _stop_sources(self, sources: list[Any]) -> None:
        for source in sources:
            if source in self.media_objects:
                self.media_objects.remove(source)   # destroying it leaves the bridge

    def cmd_watch_tone(self, msg: dict[str, Any]) -> None:
        """Report a ``tone`` event once ``frequencies`` are heard on the call (its receive
        tap, analysis/tone_watch.py); the watch starts with the audio still to come."""
        if self.taps is None:
            raise CommandFailed("this agent records nothing it receives (no tap)")
        call = self.call_by_id(str(msg.get("call_id") or ""),
                               ("CALLING", "EARLY", "CONNECTING", "CONFIRMED", "INCOMING"))
        self.taps.watch_tone(call, dict(msg))
        self.result(msg.get("id"), True)

    def cmd_record(self, msg: dict[str, Any]) -> None:
        source = self.audio_media()
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(str(msg["path"]))
        source.startTransmit(recorder)
        self.recorders.append(recorder)
        self.result(msg.get("id"), True)

    def cmd_stop_record(self, msg: dict[str, Any]) -> None:
        count = len(self.recorders)
        self.recorders.clear()     # destroying a recorder finalises its WAV header
        self.result(msg.get("id"), True, calls=count)


def _tone_descs(freqs: list[int], duration_ms: int) -> "pj.ToneDescVector":
    """Tone descriptors for ``duration_ms`` of one or two frequencies (30 s chunks)."""
    tones = pj.ToneDescVector()
    remaining = duration_ms
    while remaining > 0:
        desc = pj.ToneDesc()
        desc.freq1 = freqs[0]
        desc.freq2 = freqs[1] if len(freqs) > 1 else 0
        desc.on_msec = min(remaining, 30000)
        desc.off_msec = 0
        desc.volume = 0
        tones.append(desc)
        remaining -= desc.on_msec
    return tones
