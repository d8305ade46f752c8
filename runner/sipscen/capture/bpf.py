"""Check a capture filter (BPF) at load time, without starting a process.

The filter a scenario gives (``capture.filter``) is ANDed with the scenario's
own ports and handed to tcpdump at run time; a typo there used to surface only
then, as an infrastructure failure. Here libpcap itself (the library tcpdump
uses) compiles it in-process through ``pcap_open_dead`` + ``pcap_compile``:
no capture device, no privileges, no child process.

The filter is compiled for a few link types (Ethernet - what Linux's ``lo``
is -, Linux cooked for ``any``, raw IP, 802.11 radiotap) and refused only when
it compiles for none of them, so a filter that is valid on some interface is
never refused. Without libpcap (``libpcap.so`` not installed) the check is
skipped: tcpdump, which needs libpcap, would be missing too.

Bounded (issue 20): libpcap's optimiser grows far faster than the filter
(``"port 1 or " * 1000``, valid BPF, took 432 MB to compile, 5,000 terms
4 GB; tcpdump itself the same at run time), so a filter longer than
:data:`MAX_LENGTH` characters or joining more than :data:`MAX_TERMS` terms
with ``and``/``or`` is refused before anything is compiled (within these
bounds a compile takes well under a second and a few MB). Compiling may
resolve host names (``host example.com``); a check that takes longer than
:data:`TIMEOUT` seconds is abandoned and the filter refused as unchecked:
never "ok" on a check that did not finish.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import re
import threading
from typing import Any

TIMEOUT = 5.0
MAX_LENGTH = 2048          # characters of a scenario's filter
MAX_TERMS = 64             # and/or operators between its terms (64 distinct ports: ~0.1 s, ~25 MB)
_OPERATOR = re.compile(r"&&|\|\||\b(?:and|or)\b", re.IGNORECASE)
# DLT_EN10MB, DLT_LINUX_SLL, DLT_RAW, DLT_IEEE802_11_RADIO, DLT_LINUX_SLL2
LINK_TYPES = (1, 113, 12, 127, 276)
_NETMASK_UNKNOWN = 0xFFFFFFFF
_LOCK = threading.Lock()       # older libpcap compilers keep global state


class _Program(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


@functools.cache
def _libpcap() -> Any:
    name = ctypes.util.find_library("pcap")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.pcap_open_dead.restype = ctypes.c_void_p
        lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
        lib.pcap_compile.restype = ctypes.c_int
        lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Program), ctypes.c_char_p,
                                     ctypes.c_int, ctypes.c_uint32]
        lib.pcap_geterr.restype = ctypes.c_char_p
        lib.pcap_geterr.argtypes = [ctypes.c_void_p]
        lib.pcap_freecode.restype = None
        lib.pcap_freecode.argtypes = [ctypes.POINTER(_Program)]
        lib.pcap_close.restype = None
        lib.pcap_close.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError):
        return None
    return lib


def available() -> bool:
    """Whether filters can be checked here (libpcap is installed)."""
    return _libpcap() is not None


def _compile(lib: Any, expression: bytes) -> str | None:
    """None when ``expression`` compiles for some link type, else the first error."""
    first: str | None = None
    for link_type in LINK_TYPES:
        handle = lib.pcap_open_dead(link_type, 65535)
        if not handle:
            continue
        try:
            program = _Program()
            if lib.pcap_compile(handle, ctypes.byref(program), expression, 1,
                                _NETMASK_UNKNOWN) == 0:
                lib.pcap_freecode(ctypes.byref(program))
                return None
            first = first or (lib.pcap_geterr(handle) or b"invalid filter").decode(
                "utf-8", "replace")
        finally:
            lib.pcap_close(handle)
    return first


def filter_error(extra: str) -> str | None:
    """Why tcpdump would refuse the scenario filter ``extra``, or None (fine, or unknown).

    ``extra`` is checked the way the engine uses it: ANDed with a port filter.
    """
    if "\0" in extra:
        return "a capture filter cannot hold a NUL character"
    if len(extra) > MAX_LENGTH:
        return (f"too long: {len(extra):,} characters (at most {MAX_LENGTH:,}; "
                "tcpdump's compiler needs memory far beyond the filter's size)")
    terms = len(_OPERATOR.findall(extra))
    if terms > MAX_TERMS:
        return (f"too complex: {terms:,} and/or operators (at most {MAX_TERMS}; "
                "tcpdump's compiler needs memory far beyond the filter's size)")
    lib = _libpcap()
    if lib is None:
        return None
    expression = f"((udp or tcp) and (port 5060)) and ({extra})".encode("utf-8", "replace")
    result: list[str | None] = []

    def work() -> None:
        with _LOCK:
            result.append(_compile(lib, expression))

    worker = threading.Thread(target=work, name="sipscen-bpf-check", daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if not result:
        return (f"could not be checked within {TIMEOUT:g} s (a host name that does not "
                "resolve?); tcpdump would wait as long")
    return result[0]
