"""sipscen: declarative YAML test scenarios for SIP/VoIP platforms.

Data flows one way through the sub-packages:

    scenario/ (load, validate, model) -> engine/ (plan, processes, events)
      -> agents/ (pjsua, sipp) and capture/ (tcpdump)
      -> analysis/ (pcap -> calls, streams, DTMF, SRTP) -> checks/
      -> report/ (console, JSON, JUnit, HTML)
"""

__version__ = "0.1.0"
