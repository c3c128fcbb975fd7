"""The few MicroPython built-ins the drivers need, with CPython fallbacks for host tests.
const() is the engine's (pacer._compat): one fallback for the whole firmware."""
import gc as _gc
import time as _time

from pacer._compat import const, native  # noqa: F401 - re-exported for the shell's modules

if hasattr(_time, "ticks_diff"):
    ticks_diff = _time.ticks_diff
    ticks_add = _time.ticks_add
    sleep_us = _time.sleep_us
    collect = _gc.collect
else:
    # Same wrap as MicroPython's 32-bit ports (ticks period 2**30), so host tests exercise the
    # wrap-around the board will see after 12.4 days of ticks_ms.
    _PERIOD = 1 << 30
    _HALF = 1 << 29

    def _ticks_diff(a, b):
        return ((a - b + _HALF) & (_PERIOD - 1)) - _HALF

    def _ticks_add(a, d):
        return (a + d) & (_PERIOD - 1)

    def _sleep_us(us):
        # Only bus recovery sleeps, and host tests drive virtual pins: waiting is pointless.
        pass

    def _collect():
        # CPython collects by itself; a full collection per phase would only slow the tests
        pass

    ticks_diff = _ticks_diff
    ticks_add = _ticks_add
    sleep_us = _sleep_us
    collect = _collect
