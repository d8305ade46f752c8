// sipscen browser agent: the page every browser agent runs (JsSIP + WebAudio).
//
// Python (agents/browser/agent.py) drives it with page.evaluate("sipscen.X(...)") and
// hears from it through the binding window.sipscenEvent(kind, data), which the
// agent turns into the same events a PJSUA worker reports (call_state, media, dtmf,
// reg_state, stats, ...). Every call sends what the agent's WebAudio graph makes
// (silence, a tone, a WAV, in-band digits) and records what it receives: the remote
// track goes through an AudioWorklet whose samples are posted to Python as 16-bit
// PCM ("audio" events), written there as rx-N.wav.
(function () {
  'use strict';

  const DTMF_FREQS = {
    '1': [697, 1209], '2': [697, 1336], '3': [697, 1477], 'A': [697, 1633],
    '4': [770, 1209], '5': [770, 1336], '6': [770, 1477], 'B': [770, 1633],
    '7': [852, 1209], '8': [852, 1336], '9': [852, 1477], 'C': [852, 1633],
    '*': [941, 1209], '0': [941, 1336], '#': [941, 1477], 'D': [941, 1633],
  };
  const STATS_EVERY_MS = 500;

  let cfg = null;
  let ua = null;
  let media = null;
  let calls = 0;                     // calls seen, numbering rx-N.wav
  const sessions = new Map();        // Call-ID -> {session, index, recorder, statsTimer}
  let current = null;                // Call-ID of the call steps act on by default

  function post(kind, data) {
    try {
      window.sipscenEvent(kind, data || {});
    } catch (e) { /* the binding is gone: the agent is stopping */ }
  }

  function fail(message) { throw new Error(message); }

  // ---------------------------------------------------------------- audio
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

  // ---------------------------------------------------------------- SDP
  // Chromium binds its ICE sockets to the any-address (the single default route of
  // --webrtc-ip-handling-policy=default_public_interface_only) and names them with the
  // machine's default address; sipscen talks on the loopback only, where the same
  // sockets answer: each UDP host candidate is offered at the loopback address of its
  // family (127.0.0.1, ::1), others are dropped, and the m= port and c= address name the
  // first one.
  function loopbackOnly(sdp) {
    const lines = sdp.split('\r\n');
    const keep = [];
    const seen = new Set();
    let first = null;
    for (const line of lines) {
      if (line.startsWith('a=candidate:')) {
        const parts = line.split(' ');
        const proto = (parts[2] || '').toLowerCase();
        if (proto !== 'udp' || parts[7] !== 'host') continue;
        parts[4] = parts[4].includes(':') ? '::1' : '127.0.0.1';
        if (seen.has(`${parts[4]} ${parts[5]}`)) continue;
        seen.add(`${parts[4]} ${parts[5]}`);
        if (first === null || (first.addr === '::1' && parts[4] === '127.0.0.1')) {
          first = { addr: parts[4], port: parts[5] };
        }
        keep.push(parts.join(' '));
        continue;
      }
      keep.push(line);
    }
    if (first === null) return keep.join('\r\n');
    const fam = first.addr.includes(':') ? 'IP6' : 'IP4';
    return keep.map((line) => {
      if (line.startsWith('c=IN ')) return `c=IN ${fam} ${first.addr}`;
      if (line.startsWith('m=audio ')) {
        const parts = line.split(' ');
        parts[1] = first.port;
        return parts.join(' ');
      }
      if (line.startsWith('a=rtcp:')) return `a=rtcp:${first.port} IN ${fam} ${first.addr}`;
      return line;
    }).join('\r\n');
  }

  // The agent's codec list (in its order) and telephone-event, nothing else: applied to
  // the offer it sends and to an offer it receives (before it answers), so what it
  // negotiates is always on that list.
  const STATIC_PT = { 0: 'pcmu', 8: 'pcma', 9: 'g722' };
  function onlyCodecs(sdp) {
    if (!cfg.codecs || !cfg.codecs.length) return sdp;
    const wanted = cfg.codecs.map((c) => c.toLowerCase());
    const lines = sdp.split('\r\n');
    const names = {};
    for (const line of lines) {
      const m = /^a=rtpmap:(\d+) ([^/]+)/.exec(line);
      if (m) names[m[1]] = m[2].toLowerCase();
    }
    let inAudio = false;
    const dropped = new Set();
    const out = [];
    for (const line of lines) {
      if (line.startsWith('m=')) {
        inAudio = line.startsWith('m=audio ');
        if (inAudio) {
          const parts = line.split(' ');
          const pts = parts.slice(3);
          const name = (pt) => names[pt] || STATIC_PT[pt] || '';
          const keep = [];
          for (const codec of wanted) keep.push(...pts.filter((pt) => name(pt) === codec));
          keep.push(...pts.filter((pt) => name(pt) === 'telephone-event'));
          for (const pt of pts) if (!keep.includes(pt)) dropped.add(pt);
          if (keep.length) {
            out.push(parts.slice(0, 3).concat(keep).join(' '));
            continue;
          }
        }
      } else if (inAudio) {
        const m = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]/.exec(line);
        if (m && dropped.has(m[1])) continue;
      }
      out.push(line);
    }
    return out.join('\r\n');
  }

  // ---------------------------------------------------------------- calls
  function callIdOf(session) {
    return (session._request && session._request.call_id) || session.id;
  }

  function sessionOptions() {
    return {
      mediaStream: media.stream(),
      pcConfig: { iceServers: [], rtcpMuxPolicy: 'require', bundlePolicy: 'balanced' },
      sessionTimersExpires: 120,
    };
  }

  function track(session, direction) {
    const entry = { session, index: ++calls, recorder: null, statsTimer: null, stats: null };
    const callId = callIdOf(session);
    sessions.set(callId, entry);
    current = callId;
    const remote = session.remote_identity ? session.remote_identity.uri.toString() : '';
    const state = (s, extra) => post('call_state', Object.assign(
      { call_id: callId, state: s, direction, remote_uri: remote }, extra || {}));

    session.on('sdp', (e) => {
      if (e.originator === 'local') e.sdp = loopbackOnly(e.type === 'offer' ? onlyCodecs(e.sdp) : e.sdp);
      if (e.originator === 'remote' && e.type === 'offer') e.sdp = onlyCodecs(e.sdp);
      post('sdp', { call_id: callId, originator: e.originator, type: e.type, sdp: e.sdp });
    });
    session.on('peerconnection', (e) => attach(e.peerconnection, entry, callId));
    for (const what of ['createofferfailed', 'createanswerfailed', 'setlocaldescriptionfailed',
                        'setremotedescriptionfailed']) {
      session.on(`peerconnection:${what}`, (err) => post('error', {
        call_id: callId, message: `WebRTC ${what}: ${err && err.message ? err.message : err}` }));
    }
    if (session.connection) attach(session.connection, entry, callId);
    session.on('progress', (e) => state('EARLY', responseData(e.response)));
    session.on('accepted', (e) => state('CONNECTING', responseData(e.response)));
    session.on('confirmed', () => state('CONFIRMED',
      direction === 'outgoing' ? {} : { code: 200, reason: 'OK' }));
    session.on('ended', (e) => finish(entry, callId, state, e, 'ended'));
    session.on('failed', (e) => finish(entry, callId, state, e, 'failed'));
    session.on('hold', (e) => post('media', { call_id: callId,
      state: e.originator === 'local' ? 'local_hold' : 'remote_hold', previous: 'active' }));
    session.on('unhold', (e) => post('media', { call_id: callId, state: 'active',
      previous: e.originator === 'local' ? 'local_hold' : 'remote_hold' }));
    session.on('newDTMF', (e) => {
      const tone = e.dtmf.tone;
      if (e.originator === 'remote') {
        post('dtmf', { call_id: callId, digit: tone, method: 'sip-info',
                       duration_ms: e.dtmf.duration });
      } else {
        post('dtmf_sent', { call_id: callId, digit: tone, method: 'sip-info' });
      }
    });
    return entry;
  }

  function responseData(response) {
    if (!response) return {};
    return { code: response.status_code, reason: response.reason_phrase };
  }

  function attach(pc, entry, callId) {
    if (entry.pc === pc) return;
    entry.pc = pc;
    pc.addEventListener('track', (ev) => {
      if (ev.track.kind !== 'audio' || entry.recorder) return;
      // a stream of our own: the peer connection takes the track out of its remote
      // stream while the call is on hold (and the element playing it stops for good)
      entry.recorder = media.record(new MediaStream([ev.track]), callId, entry.index);
    });
    let active = false;
    pc.addEventListener('connectionstatechange', () => {
      post('pc_state', { call_id: callId, state: pc.connectionState });
      if (pc.connectionState === 'connected' && !active) {
        active = true;
        pollStats(entry, callId).then(() => {
          const s = entry.stats || {};
          post('media', { call_id: callId, state: 'active', previous: 'none',
                          call_state: 'CONFIRMED', codec: s.codec || null,
                          clock_rate: s.clock_rate || null, payload_type: s.payload_type,
                          srtp: { active: s.dtls_state === 'connected',
                                  suite: (s.srtp_cipher || '').replace(/^SRTP_/, '') || null,
                                  keying: 'DTLS' },
                          local_sdp: pc.localDescription ? pc.localDescription.sdp : '',
                          remote_sdp: pc.remoteDescription ? pc.remoteDescription.sdp : '' });
        });
        entry.statsTimer = setInterval(() => pollStats(entry, callId), STATS_EVERY_MS);
      }
      if (pc.connectionState === 'failed') {
        post('error', { message: `call ${callId}: ICE/DTLS failed (connectionState failed)` });
      }
    });
  }

  async function pollStats(entry, callId) {
    const pc = entry.pc;
    if (!pc || pc.signalingState === 'closed') return;
    let report;
    try { report = await pc.getStats(); } catch (e) { return; }
    const s = { tx_packets: 0, rx_packets: 0, rx_lost: 0, rx_jitter_ms: 0 };
    const byId = new Map();
    report.forEach((r) => byId.set(r.id, r));
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        s.rx_packets = r.packetsReceived || 0;
        s.rx_lost = Math.max(0, r.packetsLost || 0);
        s.rx_jitter_ms = 1000 * (r.jitter || 0);
        s.rx_bytes = r.bytesReceived || 0;
        s.rx_concealed_samples = r.concealedSamples || 0;
        s.rx_total_samples = r.totalSamplesReceived || 0;
        if (r.totalAudioEnergy !== undefined) s.rx_audio_energy = r.totalAudioEnergy;
        if (r.totalSamplesDuration !== undefined) s.rx_audio_seconds = r.totalSamplesDuration;
        const codec = byId.get(r.codecId);
        if (codec) {
          s.codec = codec.mimeType.split('/')[1];
          s.clock_rate = codec.clockRate;
          s.payload_type = codec.payloadType;
        }
      } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        s.tx_packets = r.packetsSent || 0;
        s.tx_bytes = r.bytesSent || 0;
        const codec = byId.get(r.codecId);
        if (codec) s.tx_codec = codec.mimeType.split('/')[1];
      } else if (r.type === 'remote-inbound-rtp' && r.kind === 'audio') {
        if (r.roundTripTime !== undefined) s.rtt_ms = 1000 * r.roundTripTime;
        if (r.fractionLost !== undefined) s.remote_fraction_lost = r.fractionLost;
        if (r.jitter !== undefined) s.remote_jitter_ms = 1000 * r.jitter;
      } else if (r.type === 'transport') {
        s.dtls_state = r.dtlsState;
        s.srtp_cipher = r.srtpCipher;
        s.dtls_cipher = r.dtlsCipher;
        s.tls_version = r.tlsVersion;
        s.dtls_role = r.dtlsRole;
        const pair = byId.get(r.selectedCandidatePairId);
        if (pair) {
          const local = byId.get(pair.localCandidateId);
          const remote = byId.get(pair.remoteCandidateId);
          if (local) s.local_address = `${local.address || local.ip}:${local.port}`;
          if (remote) s.remote_address = `${remote.address || remote.ip}:${remote.port}`;
          if (pair.currentRoundTripTime !== undefined) s.ice_rtt_ms = 1000 * pair.currentRoundTripTime;
        }
      }
    });
    entry.stats = s;
    post('stats', Object.assign({ call_id: callId }, s));
  }

  function finish(entry, callId, state, e, how) {
    if (entry.statsTimer) clearInterval(entry.statsTimer);
    entry.statsTimer = null;
    if (entry.recorder) entry.recorder.stop();
    const code = e.message && e.message.status_code ? e.message.status_code : null;
    const reason = e.message && e.message.reason_phrase ? e.message.reason_phrase : e.cause;
    state('DISCONNECTED', { code, reason: `${reason || ''}`, cause: e.cause,
                            originator: e.originator, how });
  }

  function session(callId) {
    const id = callId || current;
    const entry = id ? sessions.get(id) : null;
    if (!entry) fail(callId ? `no call ${callId}` : 'no current call');
    return entry.session;
  }

  // ---------------------------------------------------------------- the API
  window.sipscen = {
    // the page's audio, made while the scenario starts (before its configuration)
    async prepare(rate) {
      media = new Media(rate || 16000);
      await media.init();
    },

    async start(config) {
      cfg = config;
      if (!media) await this.prepare(16000);
      await media.source(cfg.source || null);
      JsSIP.debug.disable('JsSIP:*');
      const socket = new JsSIP.WebSocketInterface(cfg.url);
      ua = new JsSIP.UA({
        sockets: [socket], uri: cfg.uri, password: cfg.password || undefined,
        authorization_user: cfg.username || undefined, realm: cfg.realm || undefined,
        display_name: cfg.display_name || undefined,
        register: Boolean(cfg.register), register_expires: cfg.expires || 600,
        session_timers: false, connection_recovery_min_interval: 2,
        connection_recovery_max_interval: 30, user_agent: 'sipscen-browser (JsSIP)',
        contact_uri: cfg.contact_uri || undefined, no_answer_timeout: 120,
      });
      ua.on('connected', () => post('ws', { state: 'connected', url: cfg.url }));
      ua.on('disconnected', (e) => post('ws', {
        state: 'disconnected', url: cfg.url, code: e && e.code, reason: e && e.reason,
        error: Boolean(e && e.error) }));
      ua.on('registered', (e) => post('reg_state', { code: e.response.status_code,
        reason: e.response.reason_phrase, expires: cfg.expires || 600 }));
      ua.on('unregistered', (e) => post('reg_state', {
        code: e.response ? e.response.status_code : 200,
        reason: e.response ? e.response.reason_phrase : 'OK', expires: 0 }));
      ua.on('registrationFailed', (e) => post('reg_state', {
        code: e.response ? e.response.status_code : 408,
        reason: e.response ? e.response.reason_phrase : `${e.cause}`, expires: 0 }));
      ua.on('newMessage', (e) => {
        if (e.originator !== 'remote') return;
        post('message', { sender: e.request.from.uri.toString(), to: e.request.to.uri.toString(),
                          content_type: e.request.getHeader('Content-Type') || '',
                          body: e.request.body || '', headers: {} });
      });
      ua.on('newRTCSession', (e) => {
        if (e.originator !== 'remote') return;
        const s = e.session;
        track(s, 'incoming');
        const callId = callIdOf(s);
        post('call_state', { call_id: callId, state: 'INCOMING', direction: 'incoming',
                             remote_uri: s.remote_identity.uri.toString(),
                             headers: headersOf(e.request) });
        const answer = cfg.answer || {};
        if (answer.reject) {
          setTimeout(() => s.terminate({ status_code: answer.reject }), answer.delay_ms || 0);
        } else if (!answer.manual) {
          setTimeout(() => {
            if (s.isInProgress()) s.answer(sessionOptions());
          }, answer.delay_ms || 0);
        }
      });
      ua.start();
      return true;
    },

    call(uri, headers, timeoutMs) {
      const s = ua.call(uri, Object.assign(sessionOptions(), {
        extraHeaders: (headers || []), eventHandlers: {} }));
      track(s, 'outgoing');
      const callId = callIdOf(s);
      post('call_state', { call_id: callId, state: 'CALLING', direction: 'outgoing',
                           remote_uri: uri });
      if (timeoutMs) {
        setTimeout(() => { if (s.isInProgress()) s.terminate(); }, timeoutMs);   // a CANCEL
      }
      return callId;
    },

    cancel(callId) {
      const s = session(callId);
      if (!s.isInProgress() || s.direction !== 'outgoing') fail('no ringing outgoing call to cancel');
      s.terminate();
    },

    answer(code, headers) {
      const s = session(null);
      if (code >= 300) {
        s.terminate({ status_code: code, extraHeaders: headers || [] });
      } else if (code > 100 && code < 200) {
        // JsSIP rings by itself (180): nothing more to send
      } else {
        s.answer(Object.assign(sessionOptions(), { extraHeaders: headers || [] }));
      }
    },

    async hangup(callId) {
      const id = callId || current;
      const entry = id ? sessions.get(id) : null;
      if (!entry) fail('no call to hang up');
      await media.drain();          // what the steps played has been sent
      await pollStats(entry, id);
      if (!entry.session.isEnded()) entry.session.terminate();
    },

    drain() { return media.drain(); },

    hold(callId) {
      const s = session(callId);
      if (!s.hold()) fail('the call cannot be put on hold now');
    },

    unhold(callId) {
      const s = session(callId);
      if (!s.unhold()) fail('the call cannot be resumed now');
    },

    // method: rfc4733 | sip-info | inband; duration and gap in ms
    // resolves once the digits are out (on the clock that sends them)
    async dtmf(digits, method, duration, gap, callId) {
      const id = callId || current;
      const s = session(id);
      if (method === 'inband') {
        media.inband(digits, duration / 1000, gap / 1000);
        for (const d of digits) post('dtmf_sent', { call_id: id, digit: d, method: 'inband' });
        await media.drain();
        return;
      }
      if (method === 'rfc4733') {
        const entry = sessions.get(id);
        const sender = entry.pc && entry.pc.getSenders().find((x) => x.track && x.track.kind === 'audio');
        if (!sender || !sender.dtmf) fail('no RTCDTMFSender on the call');
        if (!sender.dtmf.canInsertDTMF) fail('the call cannot send RFC 4733 events (no telephone-event negotiated)');
        await media.drain();        // after what the steps played before
        await new Promise((resolve) => {
          sender.dtmf.ontonechange = (ev) => {
            if (ev.tone) post('dtmf_sent', { call_id: id, digit: ev.tone, method: 'rfc4733' });
            else resolve();           // the empty tone: the last one ended
          };
          sender.dtmf.insertDTMF(digits, Math.max(40, duration), Math.max(30, gap));
        });
        return;
      }
      s.sendDTMF(digits, { transportType: 'INFO', duration, interToneGap: gap });
      await new Promise((resolve) => setTimeout(resolve, digits.length * (duration + gap)));
    },

    async play(spec, seconds) {
      if (spec.file) return media.file(spec.file, seconds || null, false);
      media.tone(spec.tone.frequencies, seconds, 0.5);
      return seconds;
    },

    register() { ua.register(); },
    unregister() { ua.unregister(); },

    message(uri, body, contentType, headers) {
      ua.sendMessage(uri, body, { contentType, extraHeaders: headers || [] });
    },

    async stats(callId) {
      const entry = sessions.get(callId || current);
      if (entry) await pollStats(entry, callId || current);
      return entry ? entry.stats : null;
    },

    async stop() {
      for (const [id, entry] of sessions) {
        try {
          await pollStats(entry, id);
          if (!entry.session.isEnded()) entry.session.terminate();
        } catch (e) { /* ending anyway */ }
      }
      if (media) media.stopAll();
      if (ua) {
        try { ua.stop(); } catch (e) { /* ending anyway */ }
      }
    },
  };

  function headersOf(request) {
    const out = {};
    if (!request || !request.headers) return out;
    for (const name of Object.keys(request.headers)) {
      const values = request.headers[name];
      if (values && values.length) out[name] = values[0].raw;
    }
    return out;
  }
}());
