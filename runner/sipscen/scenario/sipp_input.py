"""Load-time checks of what a SIPp agent is given, so `validate` refuses what `run` would."""
from __future__ import annotations

from sipscen.core.errors import ScenarioError
from sipscen.core.network import in_cluster, require_loopback

SIPP_CALLERS = {"uac": True, "regexp": True, "branchc": True, "uac_pcap": True,
                "3pcc-C-A": True, "3pcc-C-B": True}


def target_problem(target: str) -> str | None:
    """What `run` would refuse in a SIPp ``target`` written as host:port."""
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not host or (":" in host and not host.startswith("[")):
        return (f"target '{target}' is neither an agent/service nor host:port "
                "(an IPv6 address in brackets: [::1]:5060)")
    if not 0 < int(port) < 65536:
        return f"target '{target}': port {port} is outside 1-65535"
    try:
        require_loopback(host, "")
    except ScenarioError as exc:
        if in_cluster():    # in a pod, endpoints discovered at run time are allowed: run decides
            return None
        return exc.message
    return None


def keyword_problem(text: str) -> str | None:
    """A SIPp ``[keyword]`` that SIPp would refuse at run time: unclosed, empty or
    over 256 characters (a literal bracket is written \\x5b)."""
    pos = text.find("[")
    while pos != -1:
        end = text.find("]", pos + 1)
        line = text.count("\n", 0, pos) + 1
        if end == -1:
            return (f"'[' at line {line} of the message opens a SIPp keyword that is never "
                    "closed (write a literal bracket as \\x5b)")
        if end == pos + 1 or end - pos - 1 > 256:
            return (f"'[' at line {line} of the message: a SIPp keyword is 1 to 256 "
                    "characters between [ and ] (write a literal bracket as \\x5b)")
        nested = text.find("[", pos + 1, end)
        pos = text.find("[", end + 1) if nested == -1 else nested
    return None
