"""The few MicroPython built-ins the drivers need, with CPython fallbacks for host tests."""
try:
    from micropython import const
except ImportError:

    def const(x):
        return x


try:
    from time import sleep_us, ticks_add, ticks_diff
except ImportError:
    # Same wrap as MicroPython's 32-bit ports (ticks period 2**30), so host tests exercise the
    # wrap-around the board will see after 12.4 days of ticks_ms.
    _PERIOD = 1 << 30
    _HALF = 1 << 29

    def ticks_diff(a, b):
        return ((a - b + _HALF) & (_PERIOD - 1)) - _HALF

    def ticks_add(a, d):
        return (a + d) & (_PERIOD - 1)

    def sleep_us(us):
        # Only bus recovery sleeps, and host tests drive virtual pins, so waiting is pointless.
        pass
