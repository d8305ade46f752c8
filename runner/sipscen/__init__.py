"""sipscen: declarative YAML test scenarios for SIP/VoIP platforms.

The package is a house of floors (docs/ARCHITECTURE.md): core/ on the ground;
analysis/, language/ and capture/ above it; scenario/ and agents/; checks/;
engine/ and report/; kube/; the CLI and the pytest plugin on top.
"""
import os

# numpy's OpenBLAS runs one thread. Every process sipscen starts is forked with a
# pre-exec hook, and OpenBLAS shuts its thread pool down at each fork; a threaded
# matrix product from two scenario threads afterwards was seen to spin forever
# (zgemm waiting for workers that were gone). sipscen's products are small and run
# beside agents on few cores: threads buy nothing. Set before numpy is imported
# (the CLI, the pytest plugin and the pjsua workers import sipscen first); an
# explicit OPENBLAS_NUM_THREADS is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
