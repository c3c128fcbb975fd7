"""USB serial without blocking: poll before every read and write.

A host that holds the port open but never reads can stall a write on rp2 for up to 500 ms
(anchors section 7), so output goes out only while the port reports room, and what cannot go
out is dropped and counted by the caller. Input is read a byte at a time into a preallocated
buffer, at most one buffer per tick, so a flood of garbage cannot starve the loop.
"""
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

_IN_MAX = const(64)


def _any(poller):
    # ipoll() hands back the poller itself as the iterator: no allocation, unlike poll()
    for _ in poller.ipoll(0):
        return True
    return False


class Usb:
    def __init__(self, select, stdin, stdout):
        self._in = stdin.buffer if hasattr(stdin, "buffer") else stdin
        self._out = stdout
        self._bout = stdout.buffer if hasattr(stdout, "buffer") else stdout
        self._pin = select.poll()
        self._pin.register(stdin, select.POLLIN)
        self._pout = select.poll()
        self._pout.register(stdout, select.POLLOUT)
        self.buf = bytearray(_IN_MAX)
        self._one = bytearray(1)
        self.dropped = 0

    def read(self):
        """Bytes now waiting, copied into self.buf; returns how many."""
        n = 0
        one = self._one
        buf = self.buf
        while n < _IN_MAX and _any(self._pin):
            if not self._in.readinto(one):
                break
            buf[n] = one[0]
            n += 1
        return n

    def ready(self):
        return _any(self._pout)

    def write(self, text):
        if self.ready():
            self._out.write(text)
            return True
        self.dropped += 1
        return False

    def write_bytes(self, mv):
        """For telemetry frames: the raw stream's own non-blocking convention (None: nothing)."""
        return self._bout.write(mv)
