"""Wall-clock time on a board without a battery-backed clock: the host sends the time (`clock
set EPOCH`) on every connection, and the board counts on from that instant with ticks_ms.

Until the first `clock set` after a power-up the time is unknown (None): sessions started then
are stored without a date rather than with a wrong one. ticks_diff only spans 2**29 ms
(6.2 days), so the anchor moves forward on each read and the app reads the clock at least
hourly; the seconds since 1970 are a big integer on MicroPython, so a read allocates and is
never done on a steady tick.
"""
from pacer_hw._compat import const, native, ticks_diff

EPOCH_MIN = 1577836800   # 2020-01-01: anything earlier is a host whose own clock is unset
EPOCH_MAX = 4102444800   # 2100-01-01
_REANCHOR_MS = const(3600000)


class WallClock:
    def __init__(self):
        self.epoch = None    # seconds since 1970-01-01 UTC at tick _t, None until set
        self._t = 0
        self._ms = 0         # the part of a second already counted since the anchor

    def set(self, epoch, now):
        self.epoch = epoch
        self._t = now
        self._ms = 0

    def read(self, now):
        """Seconds since 1970 (UTC) at ticks_ms `now`, or None if the host never set it."""
        if self.epoch is None:
            return None
        ms = self._ms + ticks_diff(now, self._t)
        self.epoch += ms // 1000
        self._ms = ms % 1000
        self._t = now
        return self.epoch

    @native
    def due(self, now):
        """True when the anchor should move before ticks_diff runs out of range."""
        return self.epoch is not None and ticks_diff(now, self._t) >= _REANCHOR_MS
