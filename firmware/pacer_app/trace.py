"""The thinned pressure trace kept in every session log, so a session done without a computer
still gets its curve in `pacer report`.

One value per PERIOD_MS: the mean of the pelvic pressure over that time, in tenths of cmH2O
(the engine's resolution is a hundredth; a tenth is finer than any verdict's threshold). A
step's values become one `trace` record, logged with the step's events at the phase boundary
that ends it, so the trace adds no flash write of its own. The values are int16 little-endian
in hex (`"p": "..."`, 4 characters per value): the record is built from a few buffers of about
1 KB (decimal numbers joined from a list of strings took 17 KB of heap for a 60 s step), and
bytes.hex is built into every port we run on (the WebAssembly VM's binascii is a slow Python
module). The part of a step after its last whole period is left out (under PERIOD_MS).

A step longer than _N periods (64 s) is thinned further: when the buffer is full, neighbouring
values are averaged in pairs and the period doubles. Every step then fits one record of at most
_N values (about 1.1 KB, within the log's 2 KB record limit), and the buffer stays _N * 2 bytes,
allocated once. Rests longer than a minute are where nothing is asked, so their coarser trace
(2 s for a 5-minute step) loses nothing a person would look for.

Flash (measured, tests/test_trace.py): a kegel session's log is 29 KB, 11 KB of it the trace;
the 20-minute relax 65 KB, 35 KB of it the trace (its 4-6 s breathing steps each carry a
record's 80 bytes of framing). A 1.4 MB filesystem so holds about 45 kegel or 20 relax
sessions; when it fills, the oldest go first (Store.rotate), so `pacer sessions sync` keeps
the history on a computer.
"""
from array import array

from pacer_hw._compat import const, native

PERIOD_MS = const(250)
_N = const(256)


class Trace:
    def __init__(self):
        self.v = array("h", bytes(2 * _N))
        self.begin(0, -1)

    def begin(self, t, step):
        """Start the trace of `step` at engine time t (ms)."""
        self.t0 = t
        self.step = step
        self.n = 0
        self.period = PERIOD_MS
        self.sum = 0
        self.count = 0
        self.next = t + PERIOD_MS

    @native
    def add(self, t, p):
        """One pressure sample (cp) at engine time t (ms), every tick of a running session."""
        self.sum += p
        self.count += 1
        if t < self.next:
            return
        v = self.v
        # rounded to a tenth; the clamp only matters for a sensor fault's extreme readings
        x = (self.sum // self.count + 5) // 10
        v[self.n] = 32767 if x > 32767 else (-32768 if x < -32768 else x)
        self.n += 1
        self.sum = 0
        self.count = 0
        if self.n == _N:
            for i in range(_N // 2):
                v[i] = (v[2 * i] + v[2 * i + 1]) // 2
            self.n = _N // 2
            self.period *= 2
        self.next = self.t0 + (self.n + 1) * self.period

    def record(self):
        """The step's trace as one log record (JSON text), or None if it holds no value."""
        n = self.n
        if n == 0 or self.step < 0:
            return None
        # an int16 array's memory is little-endian on every supported chip
        return ('{"t_ms": %d, "type": "trace", "step": %d, "dt_ms": %d, "p": "%s"}'
                % (self.t0, self.step, self.period, memoryview(self.v)[:n].hex()))
