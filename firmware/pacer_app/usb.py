"""USB serial without blocking: poll before every read and write.

A host that holds the port open but never reads can stall a write on rp2 for up to 500 ms
(anchors section 7), so output goes out only while the port reports room (POLLOUT), in chunks
no larger than a CDC FIFO, and never waits.

- Text (replies, event lines, session records) is queued in one preallocated buffer and
  drained by flush(), called once per tick: an event line is not lost because a telemetry frame
  happened to fill the FIFO a moment before. When the queue is full (the host is not reading)
  new text is dropped and counted in `dropped`.
- Telemetry frames (write_bytes) have lower priority: a frame goes out only while no text is
  waiting; otherwise it is refused (None) and the caller counts the drop.
- Input is read a byte at a time into a preallocated buffer, at most one buffer per tick, so a
  flood of garbage cannot starve the loop.
"""
try:
    from micropython import const  # pyright: ignore[reportAssignmentType]
except ImportError:  # CPython
    def const(x):
        return x

_IN_MAX = const(64)
_OUT_MAX = const(4096)
_CHUNK = const(128)
_CHUNKS_PER_TICK = const(8)


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
        self._q = bytearray(_OUT_MAX)
        self._qmv = memoryview(self._q)
        self._head = 0
        self._tail = 0
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
        """Whether a telemetry frame may go out now."""
        return self._head == self._tail and _any(self._pout)

    def pending(self):
        """Bytes of text still queued."""
        return self._tail - self._head

    def room(self):
        return _OUT_MAX - (self._tail - self._head)

    def write(self, text):
        """Queue text (str or bytes) for the host; False (and counted) if it does not fit."""
        data = text.encode() if isinstance(text, str) else text
        n = len(data)
        if n > _OUT_MAX - (self._tail - self._head):
            self.dropped += 1
            return False
        q = self._q
        if self._tail + n > _OUT_MAX:  # compact: move the waiting bytes to the front
            k = self._tail - self._head
            q[0:k] = q[self._head:self._tail]
            self._head = 0
            self._tail = k
        q[self._tail:self._tail + n] = data
        self._tail += n
        self.flush()
        return True

    def flush(self):
        """Send queued text while the port has room; never waits. Returns bytes still queued."""
        chunks = 0
        while self._head < self._tail and chunks < _CHUNKS_PER_TICK and _any(self._pout):
            k = self._tail - self._head
            if k > _CHUNK:
                k = _CHUNK
            try:
                n = self._bout.write(self._qmv[self._head:self._head + k])
            except OSError:
                n = None
            if not n:
                break
            self._head += n
            chunks += 1
        if self._head == self._tail:
            self._head = 0
            self._tail = 0
        return self._tail - self._head

    def write_bytes(self, mv):
        """For telemetry frames: the raw stream's own non-blocking convention (None: nothing).
        Refused while text is waiting, so events and replies go first."""
        if self._head != self._tail:
            return None
        return self._bout.write(mv)
