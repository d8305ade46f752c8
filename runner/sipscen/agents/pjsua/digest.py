"""Digest credentials for a challenged out-of-dialog request (RFC 3261 22.4, RFC 8760).

PJSUA answers a 401/407 by itself for REGISTER, INVITE and MESSAGE, but not for
a request sent with ``Account.sendRequest`` (OPTIONS, SUBSCRIBE, ... : a
``request`` step). The worker then computes the Authorization (or
Proxy-Authorization) header here, from the challenge and the account's
credentials, and sends the request again once. No pjsua2 here.
"""
from __future__ import annotations

import hashlib
import os
import re

_PARAM = re.compile(r'([A-Za-z][A-Za-z0-9_-]*)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,]+)')
_HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5,
           "SHA-256": hashlib.sha256, "SHA-256-SESS": hashlib.sha256}


class ChallengeError(ValueError):
    """A challenge this agent cannot answer (not Digest, an unknown algorithm)."""


def parse_challenge(value: str) -> dict[str, str]:
    """``Digest realm="x", nonce="y", ...`` -> {"realm": "x", "nonce": "y", ...}."""
    scheme, _, rest = value.strip().partition(" ")
    if scheme.lower() != "digest":
        raise ChallengeError(f"not a Digest challenge: {value[:60]!r}")
    params = {}
    for name, raw in _PARAM.findall(rest):
        params[name.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    if "nonce" not in params:
        raise ChallengeError("the challenge has no nonce")
    return params


def authorization(challenge: str, method: str, uri: str, username: str, password: str,
                  realm_wanted: str | None = None, cnonce: str | None = None) -> str:
    """The Authorization header value answering ``challenge`` for ``method uri``."""
    c = parse_challenge(challenge)
    algorithm = (c.get("algorithm") or "MD5").upper()
    if algorithm not in _HASHES:
        raise ChallengeError(f"digest algorithm {algorithm} is not supported")
    realm = c.get("realm", "")
    if realm_wanted not in (None, "", "*") and realm_wanted != realm:
        raise ChallengeError(f"the account's realm {realm_wanted!r} is not the "
                             f"challenge's {realm!r}")

    def h(text: str) -> str:
        return _HASHES[algorithm](text.encode()).hexdigest()

    nonce = c["nonce"]
    cnonce = cnonce or os.urandom(8).hex()
    ha1 = h(f"{username}:{realm}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in c.get("qop", "").split(",") if q.strip()]
    fields = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"',
              f'uri="{uri}"']
    if "auth" in qops:
        nc = "00000001"
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += [f'response="{response}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    elif qops:
        raise ChallengeError(f"qop {','.join(qops)} is not supported (auth is)")
    else:
        fields.append(f'response="{h(f"{ha1}:{nonce}:{ha2}")}"')
    fields.append(f"algorithm={c.get('algorithm') or 'MD5'}")
    if "opaque" in c:
        fields.append(f'opaque="{c["opaque"]}"')
    return "Digest " + ", ".join(fields)
