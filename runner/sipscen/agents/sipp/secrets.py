"""Secrets out of SIPp's files: what the generated XML holds instead of a secret.

A ``${env:...}`` value (or an account password) in an inline message is never
written to ``inline.xml``; ``hide_secrets`` returns the XML without it and the
SIPp options that carry it instead (``command.txt`` masks them).
"""
from __future__ import annotations

import re

from sipscen.agents.sipp.inline import escape_interior as _escape_interior

_AUTH_PARAM = r'\s*\b({param})="?{secret}"?(?=[\s\]])'


def hide_secrets(xml: str, secrets) -> tuple[str, dict[str, str]]:
    """The generated XML with no secret's value in it, and the SIPp options that
    carry them instead (kept out of the file; command.txt masks them).

    In ``[authentication ...]`` a secret ``password=``/``username=`` is left out
    and given as ``-ap``/``-au`` (SIPp 3.6 cannot nest a keyword there, so one
    secret password per agent); anywhere else in a message a secret becomes the
    global variable ``[$sipscen_secret_N]``, set with ``-set``. Raises ValueError
    for two different secret passwords (or usernames) in one agent's messages.
    """
    options: dict[str, str] = {}
    variables: list[tuple[str, str]] = []
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        needles = list(dict.fromkeys((_escape_interior(secret), secret)))
        name = f"sipscen_secret_{len(variables)}"
        used = False

        def in_message(m: re.Match) -> str:      # CDATA (messages) and comments only
            nonlocal used
            body = m.group(2)
            for text in needles:
                if m.group(1) == "<!--":
                    body = body.replace(text, "***")
                    continue
                for param, option in (("password", "-ap"), ("username", "-au")):
                    pattern = _AUTH_PARAM.format(param=param, secret=re.escape(text))
                    if re.search(pattern, body):
                        if options.get(option, secret) != secret:
                            raise ValueError(f"two different secret {param}s in one SIPp "
                                             "agent's [authentication]: SIPp takes one "
                                             f"({option}); use one agent per account")
                        options[option] = secret
                        body = re.sub(pattern, "", body)
                if text in body:
                    used = True
                    body = body.replace(text, f"[${name}]")
            return m.group(1) + body + m.group(3)

        xml = re.sub(r"(<!\[CDATA\[|<!--)(.*?)(\]\]>|-->)", in_message, xml, flags=re.S)
        if used:
            variables.append((name, secret))
    if variables:
        head, sep, rest = xml.partition(">\n<scenario")
        start, sep2, body = rest.partition(">\n")
        names = ",".join(n for n, _ in variables)
        xml = f"{head}{sep}{start}{sep2}  <Global variables=\"{names}\" />\n{body}"
    argv: list[str] = []
    for option, value in options.items():
        argv += [option, value]
    for name, value in variables:
        argv += ["-set", name, value]
    return xml, argv

