// sipscen browser agent: the page's audio (see agent.js). What a call sends is made
// in WebAudio (silence, a source, tones, WAV files, in-band DTMF) and what it receives
// is recorded by the AudioWorklet of recorder-worklet.js; both on the page's one
// AudioContext.
(function () {
  'use strict';

  const DTMF_FREQS = {
    '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], 'A': [697, 1633],
    '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], 'B': [770, 1633],
    '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], 'C': [852, 1633],
    '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], 'D': [941, 1633],
  };

  function fail(message) { throw new Error(message); }

  class Media {
    constructor(rate) {
      this.ctx = new AudioContext({ sampleRate: rate, latencyHint: 'interactive' });
      this.out = this.ctx.createMediaStreamDestination();
      this.mix = this.ctx.createGain();
      this.mix.connect(this.out);
      this.playing = [];
      // steps' sounds one after the other on the audio clock (which, on a loaded machine,
      // can run behind the wall clock the steps are timed by)
      this.busyUntil = 0;
    }

    // resolves once the audio clock has played every scheduled sound (and `extra` s more)
    drain(extra) {
      const until = Math.max(this.busyUntil, this.ctx.currentTime) + (extra || 0);
      return new Promise((resolve) => {
        const check = () => {
          if (this.ctx.currentTime >= until || this.ctx.state !== 'running') resolve();
          else setTimeout(check, 20);
        };
        check();
      });
    }

    slot(seconds) {
      const t0 = Math.max(this.ctx.currentTime, this.busyUntil);
      if (seconds) this.busyUntil = t0 + seconds;
      return t0;
    }

    async init() {
      // a worklet's own request bypasses the page's routes: load it from a Blob
      const code = await (await fetch('/recorder-worklet.js')).text();
      const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
      await this.ctx.audioWorklet.addModule(url);
      if (this.ctx.state !== 'running') await this.ctx.resume();
      const keep = this.ctx.createConstantSource();    // keeps the track alive in silence
      keep.offset.value = 0;
      keep.connect(this.mix);
      keep.start();
    }

    // what the agent sends all call long under what steps play (`source`)
    async source(source) {
      if (source && source.tone) this.tone([source.tone], null, 0.25, true);
      if (source && source.file) await this.file(source.file, null, true);
    }

    stream() { return this.out.stream; }

    tone(freqs, seconds, level, background) {
      const t0 = background ? this.ctx.currentTime : this.slot(seconds);
      const gain = this.ctx.createGain();
      gain.gain.value = (level || 0.5) / freqs.length;
      gain.connect(this.mix);
      const nodes = freqs.map((f) => {
        const osc = this.ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(gain);
        osc.start(t0);
        if (seconds) osc.stop(t0 + seconds);
        return osc;
      });
      this.playing.push(...nodes);
      return nodes;
    }

    async file(url, seconds, loop) {
      const data = await (await fetch(url)).arrayBuffer();
      const buffer = await this.ctx.decodeAudioData(data);
      const node = this.ctx.createBufferSource();
      node.buffer = buffer;
      node.loop = Boolean(loop || (seconds && seconds > buffer.duration));
      node.connect(this.mix);
      const t0 = loop && !seconds ? this.ctx.currentTime : this.slot(seconds || buffer.duration);
      node.start(t0);
      if (seconds) node.stop(t0 + seconds);
      this.playing.push(node);
      return buffer.duration;
    }

    // ITU-T Q.23 dual tones, each about -7 dBm0 (a quarter of full scale per tone)
    inband(digits, duration, gap) {
      let t = this.slot(digits.length * (duration + gap)) + 0.02;
      for (const d of digits) {
        const pair = DTMF_FREQS[d.toUpperCase()];
        if (!pair) fail(`not a DTMF digit: ${d}`);
        const gain = this.ctx.createGain();
        gain.gain.value = 0.22;
        gain.connect(this.mix);
        for (const f of pair) {
          const osc = this.ctx.createOscillator();
          osc.frequency.value = f;
          osc.connect(gain);
          osc.start(t);
          osc.stop(t + duration);
        }
        t += duration + gap;
      }
    }

    stopAll() {
      for (const node of this.playing) {
        try { node.stop(); } catch (e) { /* already stopped */ }
      }
      this.playing = [];
    }

    // What one call receives: its remote stream -> the worklet -> "audio" events.
    record(stream, callId, index) {
      // Chromium only pulls a remote WebRTC track's audio while something plays it:
      // a muted <audio> element does, without sound.
      const el = new Audio();
      el.muted = true;
      el.srcObject = stream;
      el.play().catch(() => {});
      const src = this.ctx.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(this.ctx, 'sipscen-recorder',
                                        { processorOptions: { chunk: this.ctx.sampleRate / 10 } });
      let first = null;
      node.port.onmessage = (ev) => {
        const pcm = new Int16Array(ev.data);
        const now = performance.timeOrigin + performance.now();
        if (first === null) first = now - 1000 * pcm.length / this.ctx.sampleRate;
        post('audio', { call_id: callId, index, rate: this.ctx.sampleRate, first_ms: first,
                        now_ms: now, pcm: b64(pcm) });
      };
      src.connect(node);
      const stop = () => {
        try { src.disconnect(); node.disconnect(); el.srcObject = null; } catch (e) { /* gone */ }
      };
      // at the call's end the audio clock may still be behind the wall clock: what the call
      // delivered is still being played out; stop once the audio clock has caught up
      const wallStart = performance.now();
      const ctxStart = this.ctx.currentTime;
      return {
        stop: () => {
          const behind = (performance.now() - wallStart) / 1000 - (this.ctx.currentTime - ctxStart);
          const until = this.ctx.currentTime + Math.min(2, Math.max(0, behind)) + 0.2;
          const check = () => {
            if (this.ctx.currentTime >= until || this.ctx.state !== 'running') {
              stop();
              post('rx_done', { call_id: callId });
            } else setTimeout(check, 20);
          };
          check();
        },
      };
    }
  }

  function b64(int16) {
    const bytes = new Uint8Array(int16.buffer, int16.byteOffset, int16.byteLength);
    let text = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  // `post(kind, data)`: how the recorder reports its chunks (agent.js's binding)
  let post = () => {};
  window.SipscenMedia = { Media, setPost: (fn) => { post = fn; } };
}());
