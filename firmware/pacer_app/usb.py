"""USB serial without blocking: poll before every read and write.

A host that holds the port open but never reads can stall a write on rp2 for up to 500 ms
(anchors section 7), so output goes out only while the port reports room (POLLOUT), in chunks
no larger than a CDC FIFO, and never waits.

- Text (replies, event lines, session records) is queued in one preallocated buffer and
  drained by flush(), called once per tick: an event line is not lost because a telemetry frame
  happened to fill the FIFO a moment before. When the queue is full (the host is not reading)
  new text is dropped and counted in `dropped`.
- Telemetry frames (write_bytes) go straight to the port when nothing is queued and it has
  room. Otherwise (text waiting, the port busy for a moment) they join the queue, so the stream
  keeps its order, but only while that leaves _TEXT_ROOM bytes for text: a host that stops
  reading loses frames (after ~100 of them) before it loses events. A frame the port took only
  in part has its rest queued, so the host never sees a torn line.
- Input is read a byte at a time into a preallocated buffer, at most one buffer per tick, so a
  flood of garbage cannot starve the loop.
"""
from pacer_hw._compat import const, native

_IN_MAX = const(64)
_OUT_MAX = const(4096)
_CHUNK = const(128)
_CHUNKS_PER_TICK = const(8)
_TEXT_ROOM = const(1024)


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

    @native
    def read(self):
        """Bytes now waiting, copied into self.buf; returns how many."""
        for _ in self._pin.ipoll(0):
            break  # input waits
        else:
            return 0  # nothing (most ticks): no further call
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
        """Whether a telemetry frame may go out now (straight to the port, or queued)."""
        return _OUT_MAX - (self._tail - self._head) >= _TEXT_ROOM + _CHUNK

    def write(self, text):
        """Queue text (str or bytes) for the host; False (and counted) if it does not fit."""
        data = text.encode() if isinstance(text, str) else text
        if len(data) > _OUT_MAX - (self._tail - self._head):
            self.dropped += 1
            return False
        self._queue(data)
        self.flush()
        return True

    def _queue(self, data):
        n = len(data)
        q = self._q
        if self._tail + n > _OUT_MAX:  # compact: move the waiting bytes to the front
            k = self._tail - self._head
            q[0:k] = q[self._head:self._tail]
            self._head = 0
            self._tail = k
        q[self._tail:self._tail + n] = data
        self._tail += n

    @native
    def flush(self):
        """Send queued text while the port has room; never waits. Returns bytes still queued."""
        if self._head == self._tail:
            return 0  # nothing queued (flush resets both to 0 whenever it empties the queue)
        # the sending has its own call: its try block would make this frame, called every
        # tick, too big for the C stack on MicroPython, and a heap frame costs more than a call
        return self._drain()

    def _drain(self):
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
        """For telemetry frames, in the raw stream's non-blocking convention: bytes taken, or
        None for nothing. A frame goes straight out when nothing is queued and the port has
        room; otherwise (text waiting, the port busy for a moment, or a partial write) it is
        queued whole, to go out with the next flush(), as long as _TEXT_ROOM bytes stay free
        for text."""
        n = 0
        if self._head == self._tail and _any(self._pout):
            try:
                n = self._bout.write(mv) or 0
            except OSError:
                n = 0
            if n >= len(mv):
                return n
        if _OUT_MAX - (self._tail - self._head) - (len(mv) - n) < _TEXT_ROOM:
            return n or None  # a part already went: the host gets a short line and drops it
        self._queue(mv[n:] if n else mv)  # a memoryview slice: only after a partial write
        return len(mv)
