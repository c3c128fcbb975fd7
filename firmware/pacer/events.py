"""Engine events in a preallocated ring of ints, so emitting one never allocates.

Each event is `_W` ints: type, t (ms since program start), then payload fields a0.. as listed
below. The shell drains the ring and formats (pacer.eventfmt) where allocating is harmless.
"""
from array import array

from pacer._compat import const

W = const(16)
_CAP = const(32)

PHASE = const(1)    # a0 step, a1 breath, a2 muscle, a3 role, a4 duration_ms
REP = const(2)      # a0 index, a1 muscle, a2 target_cp, a3 achieved, a4 peak_cp, a5 held_ms,
#                     a6 relax_ms (-1: never let go), a7 flags, a8 residual_cp, a9 step,
#                     a10 reach_ms (-1: never), a11 fatigue cp/min (NONE), a12 abd_rise_cp (NONE)
ALARM = const(3)    # a0 kind, a1 pressure_cp, a2 step
FAULT = const(4)    # a0 kind, a1 1 on / 0 cleared
CALIB = const(5)    # a0 baseline_cp, a1 mvc_cp, a2 source
STATE = const(6)    # a0 state (see pacer.engine)
ZERO = const(7)     # a0 baseline_cp
SUMMARY = const(8)  # payload is in Engine.summary
DROP = const(9)     # a0 index, a1 muscle, a2 step, a3 rest_cp, a4 level_cp, a5 drop_cp,
#                     a6 relaxation_pct (NONE), a7 drop_ms (-1: never), a8 held_ms, a9 achieved,
#                     a10 flags, a11 abd_rise_cp (NONE), a12 pattern (pacer.drop), a13 breath_cp

NONE = const(-1000000)

TYPE_NAMES = ("", "phase", "rep", "alarm", "fault", "calibration", "state", "zero", "summary",
              "drop")
ALARM_TENSION = const(1)
ALARM_OVERPRESSURE = const(2)
ALARM_OVERHOLD = const(3)
ALARM_NAMES = ("", "tension", "overpressure", "overhold")

# fault kinds: the first ones mirror the drivers' typed faults
FAULT_DISCONNECTED = const(1)
FAULT_OVER_RANGE = const(2)
FAULT_STUCK = const(3)
FAULT_BUS_ERROR = const(4)
FAULT_BUSY_TIMEOUT = const(5)
FAULT_NOT_READY = const(6)
FAULT_LEAK = const(7)
FAULT_UNSETTLED = const(8)
FAULT_INTEGRITY = const(9)
FAULT_NAMES = ("", "disconnected", "over_range", "stuck", "bus_error", "busy_timeout", "not_ready",
               "leak", "unsettled", "integrity")

FLAG_NAMES = ("cough", "bearing_down", "abdominal", "clipped", "fault", "early_release",
              "late_release", "no_relax", "weak", "missed", "uncalibrated", "unsettled",
              "paradoxical", "one_channel")
F_COUGH = const(1)
F_BEARING_DOWN = const(2)
F_ABDOMINAL = const(4)
F_CLIPPED = const(8)
F_FAULT = const(16)
F_EARLY_RELEASE = const(32)
F_LATE_RELEASE = const(64)
F_NO_RELAX = const(128)
F_WEAK = const(256)
F_MISSED = const(512)
F_UNCALIBRATED = const(1024)
F_UNSETTLED = const(2048)
F_PARADOXICAL = const(4096)   # the floor tightened when asked to let go
F_ONE_CHANNEL = const(8192)   # a push step without an abdominal reference: not judged


class EventQueue:
    def __init__(self):
        self.buf = array("i", [0] * (W * _CAP))
        self.head = 0
        self.count = 0
        self.dropped = 0

    def clear(self):
        self.head = 0
        self.count = 0
        self.dropped = 0

    def push(self, kind, t):
        """Reserve a slot and return its offset; the caller fills a0.. at offset+2..."""
        if self.count == _CAP:
            # the oldest event is lost rather than blocking the tick; the shell drains every tick
            self.head = (self.head + 1) % _CAP
            self.count -= 1
            self.dropped += 1
        off = ((self.head + self.count) % _CAP) * W
        self.count += 1
        b = self.buf
        b[off] = kind
        b[off + 1] = t
        for k in range(off + 2, off + W):
            b[k] = 0
        return off

    def pop(self):
        """Offset of the oldest event in buf, or -1. Valid until the next push."""
        if self.count == 0:
            return -1
        off = self.head * W
        self.head = (self.head + 1) % _CAP
        self.count -= 1
        return off
