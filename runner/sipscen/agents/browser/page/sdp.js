// sipscen browser agent: what the page does to SDP (see agent.js).
(function () {
  'use strict';

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
  function onlyCodecs(sdp, codecs) {
    if (!codecs || !codecs.length) return sdp;
    const wanted = codecs.map((c) => c.toLowerCase());
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

  window.SipscenSdp = { loopbackOnly, onlyCodecs };
}());
