"""numpy's OpenBLAS runs one thread under sipscen.

Every process sipscen starts is forked with a pre-exec hook, and OpenBLAS shuts
its thread pool down at each fork: a threaded matrix product running in one
thread while another thread forks then waits forever for workers that are gone
(seen in a library run: a tone check spun in zgemm until the job was killed).
Importing sipscen first sets OPENBLAS_NUM_THREADS=1 (unless set)."""
import os
import subprocess
import sys

RACE = """
import sipscen                      # first, as the CLI, the plugin and the workers do
import os, subprocess, threading, time
import numpy as np
a = np.random.randn(64, 1024) + 0j
b = np.random.randn(1024, 64) + 0j
stop = time.monotonic() + 4
def products():
    while time.monotonic() < stop:
        a @ b
def forks():
    while time.monotonic() < stop:
        subprocess.run(["/bin/true"], preexec_fn=lambda: None)
threads = [threading.Thread(target=products, daemon=True),
           threading.Thread(target=forks, daemon=True)]
for t in threads:
    t.start()
for t in threads:
    t.join(30)
print("hung" if any(t.is_alive() for t in threads) else "done", flush=True)
os._exit(0)
"""


def test_matrix_products_beside_forks_never_hang():
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", RACE], env=env, capture_output=True, text=True,
                          timeout=90)
    assert proc.stdout.strip() == "done", proc.stdout + proc.stderr


def test_an_explicit_thread_count_is_kept():
    proc = subprocess.run([sys.executable, "-c", "import sipscen, os; "
                           "print(os.environ['OPENBLAS_NUM_THREADS'])"],
                          env={**os.environ, "OPENBLAS_NUM_THREADS": "2"},
                          capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "2"
