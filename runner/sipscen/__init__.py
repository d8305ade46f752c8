"""sipscen: declarative YAML test scenarios for SIP/VoIP platforms.

Data flows one way through the sub-packages:

    scenario/ (load, validate, model) -> engine/ (plan, processes, events)
      -> agents/ (pjsua, sipp) and capture/ (tcpdump)
      -> analysis/ (pcap -> calls, streams, DTMF, SRTP) -> checks/
      -> report/ (console, JSON, JUnit, HTML)
"""

import os

__version__ = "0.1.0"

# numpy's OpenBLAS with its own thread pool hangs when two Python threads multiply
# at once (measured: OpenBLAS 0.3.31, complex products of analysis/tone.py while two
# scenarios of `-j 2` judge their audio), and its spinning threads cost CPU on a
# busy box anyway: one thread each, set before anything imports numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
