"""USB serial output scenarios (pacer_app.usb.Usb) in the subset that runs on CPython and in the
MicroPython VM: text and telemetry frames share one port, and the host must get every event
line and every frame, in order and whole, whenever the port has room for them.

Port is a host end that takes at most `take` bytes per write and reports POLLOUT only while
`open` is true; Select stands in for the select module with one poller per registration.
"""
from host_tools.frames import parse_frame
from pacer_app.telemetry import Telemetry
from pacer_app.usb import Usb

POLLIN = 1
POLLOUT = 4


class Port:
    def __init__(self):
        self.got = bytearray()
        self.take = 1 << 20
        self.open = True

    def write(self, mv):
        if not self.open:
            return None
        n = min(len(mv), self.take)
        self.got.extend(bytes(mv[:n]))
        return n

    def readinto(self, b):
        return 0


class _Poller:
    def __init__(self, port):
        self.port = port
        self.mask = 0

    def register(self, stream, mask):
        self.mask = mask

    def ipoll(self, timeout):
        if self.mask & POLLOUT and self.port.open:
            return iter((self,))
        return iter(())


class Select:
    POLLIN = POLLIN
    POLLOUT = POLLOUT

    def __init__(self, port):
        self.port = port

    def poll(self):
        return _Poller(self.port)


def _rig():
    port = Port()
    usb = Usb(Select(port), port, port)
    tele = Telemetry(usb.write_bytes, usb.ready)
    return port, usb, tele


def _lines(port):
    return bytes(port.got).split(b"\n")[:-1]


def _seqs(port):
    out = []
    for line in _lines(port):
        f = parse_frame(line)
        if f is not None:
            out.append(f[0])
    return out


def case_frame_behind_text_keeps_order_and_is_not_lost():
    port, usb, tele = _rig()
    port.open = False
    usb.write("E,start,kegel\n")  # queued: the port is busy
    assert tele.send(40, 100, 500, 0, 1)  # behind the text, not dropped
    port.open = True
    assert tele.send(60, 110, 500, 0, 1)  # queued too: the text and the first frame go first
    usb.flush()  # the app flushes once per tick
    lines = _lines(port)
    assert lines[0] == b"E,start,kegel", lines
    assert _seqs(port) == [0, 1], lines
    assert tele.dropped == 0 and usb.flush() == 0


def case_a_port_busy_for_a_moment_delays_frames_and_loses_none():
    port, usb, tele = _rig()
    for i in range(60):
        port.open = not 10 <= i < 40  # 0.6 s without room at 50 Hz
        assert tele.send(i * 20, i, 500, 1, 2)
        usb.flush()
    assert _seqs(port) == list(range(60)) and tele.dropped == 0 and usb.flush() == 0


def case_every_frame_whole_when_the_port_takes_a_little_at_a_time():
    port, usb, tele = _rig()
    port.take = 7  # a CDC FIFO with little room left: frames go out in pieces
    for i in range(40):
        if i % 9 == 0:
            usb.write("E,rep,%d\n" % i)
        tele.send(i * 20, i, 500, 1, 2, abd=i if i % 2 else None)
        usb.flush()
    port.take = 1 << 20
    for _ in range(50):
        usb.flush()
    for line in _lines(port):
        assert line.startswith(b"E,") or parse_frame(line) is not None, line
    assert _seqs(port) == list(range(40))
    assert tele.dropped == 0


def case_a_host_that_stops_reading_loses_frames_before_events():
    port, usb, tele = _rig()
    port.open = False
    sent = 0
    for i in range(400):
        tele.send(i * 20, i, 500, 1, 2)
        if i % 10 == 0:
            sent += usb.write("E,phase,%03d,squeeze\n" % i)
    assert tele.dropped > 0
    assert usb.dropped == 0 and sent == 40, (usb.dropped, sent)
    port.open = True
    for _ in range(100):
        usb.flush()
    lines = _lines(port)
    assert sum(1 for x in lines if x.startswith(b"E,phase")) == 40
    assert all(x.startswith(b"E,") or parse_frame(x) is not None for x in lines)


def case_full_queue_refuses_text_and_counts_it():
    port, usb, tele = _rig()
    port.open = False
    line = "E," + "x" * 97 + "\n"
    ok = 0
    for _ in range(60):
        ok += usb.write(line)
    assert ok == 4096 // 100 and usb.dropped == 60 - ok
    assert not usb.ready()
    assert not tele.send(0, 0, 0, 0, 0) and tele.dropped == 1


CASES = [name[5:] for name in sorted(globals()) if name.startswith("case_")]


def run(name):
    globals()["case_" + name]()
