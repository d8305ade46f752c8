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



def _hold(ports_to_bind):
    """Bind UDP sockets on the loopback at these ports; None if one is busy."""
    import socket
    socks = []
    for p in ports_to_bind:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            s.close()
            for x in socks:
                x.close()
            return None
        socks.append(s)
    return socks


def test_a_large_block_finds_the_one_gap_that_holds_it(monkeypatch):
    """4,000 ports with every 50th busy, but for one gap that holds a 90-port block at
    exactly one even start: every seed finds it (2,000 random windows found it about
    two times in three), and a block larger than every gap is refused, not looped on."""
    from sipscen.core import ports
    span, gap = 4000, 2000                  # busy: base + 50k, and base+gap / +gap+92
    for base in range(30000, 56000, 2000):
        busy = [base + i for i in range(0, span + 1, 50) if not gap <= i < gap + 100]
        busy += [base + gap, base + gap + 92]
        held = _hold(busy)
        if held is None:
            continue
        if all(ports._free("127.0.0.1", p) for p in range(base + gap + 1, base + gap + 92)):
            break
        for s in held:
            s.close()
    else:
        raise AssertionError("no quiet stretch of 4,000 loopback ports to test in")
    try:
        monkeypatch.setattr(ports, "LOW", base)
        monkeypatch.setattr(ports, "HIGH", base + span)
        for seed in range(8):
            alloc = ports.PortAllocator(seed=seed)
            try:
                assert alloc.range(90) == (base + gap + 2, base + gap + 91)
            finally:
                alloc.release()
        alloc = ports.PortAllocator(seed=1)
        try:
            try:
                alloc.range(92)
            except ports.InfrastructureError as exc:
                assert "no 92 free consecutive ports" in str(exc)
            else:
                raise AssertionError("a block larger than every gap was handed out")
        finally:
            alloc.release()
    finally:
        for s in held:
            s.close()



def test_scattered_single_ports_leave_room_for_a_large_block(monkeypatch):
    """A suite's agents take single ports at random places; a soak then needs
    thousands in a row (seen in the library run with -j 2: 'no 4800 free consecutive
    ports'). Small requests go to the lower part of the range and blocks are packed
    from the top, so 150 singles and two relays later a block of a quarter of the
    range still fits (scattered over the whole range, the singles leave gaps of
    about 66 ports). On a quiet stretch of 10,000 ports, so that other programs'
    ports on this machine play no part."""
    from sipscen.core import ports
    for base in range(20000, 55000, 2500):
        if all(ports._free("127.0.0.1", p) for p in range(base, base + 10000)):
            break
    else:
        raise AssertionError("no quiet stretch of 10,000 loopback ports to test in")
    monkeypatch.setattr(ports, "LOW", base)
    monkeypatch.setattr(ports, "HIGH", base + 10000)
    allocators = [ports.PortAllocator(seed=s) for s in range(150)]
    try:
        for alloc in allocators:
            alloc.port()
        for i in range(2):
            allocators.append(ports.PortAllocator(seed=1000 + i))
            allocators[-1].range(600)
        allocators.append(ports.PortAllocator(seed=7))
        lo, hi = allocators[-1].range(2400)
        assert hi - lo == 2399
    finally:
        for alloc in allocators:
            alloc.release()
