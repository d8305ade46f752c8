// sipscen browser agent: the page every browser agent runs (JsSIP + WebAudio; its
// audio in media.js, what it does to SDP in sdp.js).
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

  const { Media } = window.SipscenMedia;
  const { loopbackOnly, onlyCodecs } = window.SipscenSdp;
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

  window.SipscenMedia.setPost(post);

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
      if (e.originator === 'local') e.sdp = loopbackOnly(e.type === 'offer' ? onlyCodecs(e.sdp, cfg.codecs) : e.sdp);
      if (e.originator === 'remote' && e.type === 'offer') e.sdp = onlyCodecs(e.sdp, cfg.codecs);
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
