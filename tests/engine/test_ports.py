"""Port allocation on the loopback."""


def test_ports_stay_below_the_ephemeral_range():
    from sipscen.core import ports
    low, _high = ports._ephemeral_range()
    alloc = ports.PortAllocator(seed=1)
    try:
        for _ in range(50):
            lo, hi = alloc.range(20)
            assert ports.LOW <= lo and hi < low
    finally:
        alloc.release()
