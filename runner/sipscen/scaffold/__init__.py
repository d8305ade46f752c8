"""``sipscen scaffold``: from a capture to the scenario that reproduces it.

    from sipscen.scaffold.build import Options, scaffold
    result = scaffold("customer.pcap", Options(calls=["a84b4c76e66710"]))
    result.text       # the scenario, YAML with comments naming the frames
    result.warnings   # what could not be reproduced (also comments in the file)

It reads the capture through the analyser's public API (``analyze_capture``) and
writes the scenario language as ``docs/REFERENCE.md`` describes it. The modules,
in the order they run: flow (dialogs, messages, media, digits), frames (frame
numbers, an extract of the chosen calls), parties (who is the SUT, who the
agents), reading + invite_dialog (acts and observations), digits, agent_types,
agent_config, sipp_messages, timeline + steps (each agent's steps), expectations,
anonymise, document + emit (the YAML). media_only covers captures without SIP;
roundtrip compares two captures (the acceptance of the round trip); command,
arguments (its parser, light: the CLI declares it at every start) and listing
are the command line.
"""
