"""Telemetry frames: one fixed-width text line per engine tick while streaming
(docs/protocol.md section 6), formatted into one preallocated buffer."""
from pacer_hw._compat import const

# T<seq:2><t:6>,<p:4>,<target:4>,<step:3>,<cue:2>[,<abd:4>]\n   lower-case hex, fixed widths
#   seq     8-bit counter, +1 per frame produced (dropped ones too): a gap means lost frames
#   t       ms since session start, 0..ffffff (clamped; 4.6 h, sessions are capped at 1 h)
#   p, target, abd   hundredths of cmH2O, 16-bit two's complement, clamped to -32768..32767
#   step    step index, fff when there is none
#   cue     CUE_* bits
# 27 bytes, 32 with abd: the width is fixed so that a frame torn by a partial write has the
# wrong length and the host drops it (host_tools/frames.py parses them).

FRAME_MAX = const(32)
FRAME_SHORT = const(27)
CUE_MOTOR = const(1)
CUE_REACHED = const(2)
CUE_TENSION = const(4)
CUE_PAUSED = const(8)
CUE_FAULT = const(16)
_HEX = b"0123456789abcdef"


def _hex(b, pos, v, width):
    i = pos + width
    while i > pos:
        i -= 1
        b[i] = _HEX[v & 15]
        v >>= 4


def _clamp16(v):
    return -32768 if v < -32768 else (32767 if v > 32767 else v)


def _nowhere(mv):
    return None  # no port: every frame counts as dropped


class Telemetry:
    """Telemetry frames formatted into one preallocated buffer: no allocation per frame.

    write(buf) -> bytes written, or None when nothing was (MicroPython's non-blocking stream
    convention); ready() -> whether the port can take a frame now (None: always)."""

    def __init__(self, write=None, ready=None):
        self.buf = bytearray(FRAME_MAX)
        mv = memoryview(self.buf)
        # both frame lengths get their view now: slicing a memoryview later would allocate
        self._short = mv[:FRAME_SHORT]
        self._long = mv
        self._write = write or _nowhere
        self._ready = ready
        self.seq = 0
        self.sent = 0
        self.dropped = 0
        # target, step and cue change a few times a minute: their digits are kept between frames
        self._target = None
        self._step = None
        self._cue = None
        b = self.buf
        b[0] = 84  # T
        for i in (9, 14, 19, 23, 26):
            b[i] = 44  # ,

    def frame(self, seq, t, p, target, step, cue, abd=None):
        """Format one frame; returns a preallocated memoryview of exactly its bytes, valid until
        the next call. All arguments are ints."""
        b = self.buf
        _hex(b, 1, seq, 2)
        _hex(b, 3, 0 if t < 0 else (0xFFFFFF if t > 0xFFFFFF else t), 6)
        _hex(b, 10, _clamp16(p), 4)
        if target != self._target:
            self._target = target
            _hex(b, 15, _clamp16(target), 4)
        if step != self._step:
            self._step = step
            _hex(b, 20, 0xFFF if step < 0 or step > 0xFFF else step, 3)
        if cue != self._cue:
            self._cue = cue
            _hex(b, 24, cue, 2)
        if abd is None:
            b[26] = 10
            return self._short
        b[26] = 44
        _hex(b, 27, _clamp16(abd), 4)
        b[31] = 10
        return self._long

    def send(self, t, p, target, step, cue, abd=None):
        """Frame and write one sample if the port is ready, else count a drop. Never raises on
        a port error and never waits. Returns True if the frame went out whole."""
        mv = self.frame(self.seq, t, p, target, step, cue, abd)
        self.seq = (self.seq + 1) & 0xFF
        ready = self._ready
        if ready is not None and not ready():
            self.dropped += 1
            return False
        try:
            n = self._write(mv)
        except OSError:
            n = None
        if n is None or n < len(mv):
            self.dropped += 1  # a partial frame reaches the host with the wrong length
            return False
        self.sent += 1
        return True
