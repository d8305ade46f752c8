"""``--anonymise``: no customer data leaves in a scaffold.

Agents get neutral names and users (the parties are renamed before anything is
written); then every string the capture contributed -- header values, bodies,
SIPp inline messages, comments -- is scrubbed: users, hosts and domains (but
loopback addresses, which are nobody's), tags, branches, Call-IDs, SRTP keys
and digest credentials are replaced by neutral values, the same value by the
same replacement everywhere.
"""
from __future__ import annotations

import ipaddress
import re
from typing import Any

from sipscen.scaffold.emit import Node

NEUTRAL = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan",
           "judy", "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor"]
_IPV4 = re.compile(r"(?<![0-9.])((?:\d{1,3}\.){3}\d{1,3})(?![0-9])")
_IPV6 = re.compile(r"\[([0-9A-Fa-f:.]+)\]")
_USER = re.compile(r"sips?:([^@;>\s:\"]+)@", re.I)
_HOST = re.compile(r"(?:sips?:(?:[^@;>\s\"]+@)?|SIP/2\.0/[A-Z]+ |@)([A-Za-z][A-Za-z0-9-]*"
                   r"(?:\.[A-Za-z0-9-]+)+)", re.I)
_TAG = re.compile(r"tag=([^;>\s,]+)", re.I)
_BRANCH = re.compile(r"branch=([^;>\s,]+)", re.I)
_KEY = re.compile(r"inline:([A-Za-z0-9+/=]{8,})")
_DIGEST = re.compile(r"\b(response|nonce|cnonce|opaque|username)=\"?([^\",\s]+)\"?", re.I)
_DISPLAY = re.compile(r"^(?:From|To|Contact|P-Asserted-Identity|Remote-Party-ID)\s*:\s*"
                      r"\"?([^\"<]+?)\"?\s*<", re.I | re.M)


def _loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


class Anonymiser:
    def __init__(self, flow, parties):
        self.map: dict[str, str] = {}
        self.words: dict[str, str] = {}      # replaced only as whole words (users)
        self._counters: dict[str, int] = {}
        for m in flow.msgs:
            self._collect(m.raw)
            self.map.setdefault(m.call_id, self._next("call", "@anonymous.invalid"))
            for e in (m.src, m.dst):
                self._collect_host(e.rpartition(":")[0].strip("[]"))
        for stream in flow.streams:
            for e in (stream.get("src"), stream.get("dst")):
                self._collect_host(str(e or "").rpartition(":")[0].strip("[]"))
        agents = parties.agents if parties is not None else []
        originals = set(self.words) | {p.user for p in agents} | {p.name for p in agents}
        neutral = [n for n in NEUTRAL if n not in originals]
        for i, party in enumerate(agents):
            new = neutral[i] if i < len(neutral) else f"party{i + 1}"
            for old in (party.user, party.name):
                if old:
                    self.words[old] = new
            party.name, party.user = new, new
            if party.domain:
                party.domain = self._host(party.domain)
        self.map[flow.path] = "capture.pcap"
        self._pattern = self._compile()

    # -- collecting ------------------------------------------------------------------
    def _next(self, kind: str, suffix: str = "") -> str:
        n = self._counters.get(kind, 0) + 1
        self._counters[kind] = n
        return f"{kind}{n}{suffix}"

    def _host(self, host: str) -> str:
        host = host.strip("[]")
        if not host or _loopback(host):
            return host
        if host not in self.map:
            try:
                ip = ipaddress.ip_address(host)
                n = self._counters.get("ip", 0) + 1
                self._counters["ip"] = n
                self.map[host] = f"192.0.2.{n % 254 + 1}" if ip.version == 4 \
                    else f"2001:db8::{n:x}"
            except ValueError:
                self.map[host] = self._next("host", ".example.invalid")
        return self.map[host]

    def _collect_host(self, host: str) -> None:
        if host:
            self._host(host)

    def _collect(self, text: str) -> None:
        for found in _IPV4.findall(text):
            self._collect_host(found)
        for found in _IPV6.findall(text):
            self._collect_host(found)
        for found in _HOST.findall(text):
            if not found.lower().endswith(".invalid"):
                self._collect_host(found)
        for found in _USER.findall(text):
            if found not in self.words and not found.startswith("["):
                self.words[found] = self._next("user")
        for found in _DISPLAY.findall(text):
            name = found.strip()
            if name and name not in self.words:
                self.words[name] = self._next("user")
        for regex, kind in ((_TAG, "tag"), (_BRANCH, "z9hG4bK-anon")):
            for found in regex.findall(text):
                if not found.startswith("["):
                    self.map.setdefault(found, self._next(kind))
        for found in _KEY.findall(text):
            self.map.setdefault(found, "A" * len(found.rstrip("=")) + "=" * (
                len(found) - len(found.rstrip("="))))
        for name, value in _DIGEST.findall(text):
            if name.lower() == "username":
                self.words.setdefault(value, self._next("user"))
            else:
                self.map.setdefault(value, "0" * len(value))

    def _compile(self):
        exact = sorted(self.map, key=len, reverse=True)
        words = sorted(self.words, key=len, reverse=True)
        parts = [re.escape(x) for x in exact if x]
        parts += [rf"(?<![A-Za-z0-9_.-]){re.escape(x)}(?![A-Za-z0-9_])" for x in words if x]
        return re.compile("|".join(parts)) if parts else None

    # -- scrubbing ---------------------------------------------------------------------
    def scrub(self, text: str) -> str:
        if not isinstance(text, str) or self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.map.get(m.group(), self.words.get(
            m.group(), m.group())), text)

    def walk(self, value: Any, keys_too: bool = False) -> Any:
        """A copy of a document tree with every string value and comment scrubbed."""
        if isinstance(value, Node):
            return Node(self.walk(value.value), self.scrub(value.comment),
                        [self.scrub(c) for c in value.item_comments], value.block)
        if isinstance(value, dict):
            return {(self.scrub(k) if keys_too else k): self.walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(v) for v in value]
        if isinstance(value, str):
            return self.scrub(value)
        return value
