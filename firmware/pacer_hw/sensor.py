"""What every pressure driver shares: the update contract, fault bookkeeping, stuck detection,
zeroing and an overflow-free integer scale from native units to cp.

The contract the board shell relies on (one call per control tick):

    code = sensor.update(t_ms)   # never blocks longer than one short bus transaction
    sensor.fault                 # same code; fault.OK when the last result was usable
    sensor.fresh                 # True only when this update produced a new valid sample
    sensor.cp                    # gauge pressure, int hundredths of cmH2O (last valid sample)
    sensor.raw                   # last raw code from the device (for logs and stuck checks)
    sensor.value, sensor.ref     # last valid reading and its zero, in the driver's native unit
    sensor.zero()                # make the last valid reading the new zero
    sensor.absolute              # True: no factory zero; the self-test zeroes it at rest

A faulted sensor keeps its last cp so nothing downstream divides by garbage; the shell must
treat cp as meaningless whenever fault != OK.
"""
from pacer_hw import fault
from pacer_hw._compat import const, native

# Products stay below this so they remain small ints (MicroPython's limit is 2**30).
_LIMIT = const(1 << 29)
_XBITS = const(17)


def scaler(num, den, max_in):
    """Return (pre, m, s) so that ((x >> pre) * m + (1 << (s - 1))) >> s ~= x * num / den for
    |x| <= max_in with every intermediate a small int. Runs once at init (may use big ints)."""
    pre = 0
    while (max_in >> pre) > (1 << _XBITS):
        pre += 1
    xmax = (max_in >> pre) + 1
    s = 1
    while s < 27 and (((num << (pre + s + 1)) + den // 2) // den) * xmax < _LIMIT:
        s += 1
    m = ((num << (pre + s)) + den // 2) // den
    if m == 0 or m * xmax >= _LIMIT:
        raise ValueError("scale out of range")
    return pre, m, s


class PressureSensor:
    def __init__(self, num, den, max_in, ref, stuck_n=150, retries=3, auto_zero=False):
        self._pre, self._m, self._s = scaler(num, den, max_in)
        self._half = 1 << (self._s - 1)
        self._stuck_n = stuck_n
        self._retries = retries
        self._same = 0
        self._errs = 0
        # Absolute sensors have no meaningful factory zero (altitude, weather): they take the
        # first valid reading as zero, and the boot self-test zeroes them again once it has
        # seen the probe quiet (pacer_app.supervisor.self_test).
        self.absolute = auto_zero
        self.zeroed = not auto_zero
        self.ref = ref
        self.value = ref
        self.raw = -1
        self.cp = 0
        self.fresh = False
        self.fault = fault.NOT_READY
        self.errno = 0

    def zero(self):
        self.ref = self.value
        self.zeroed = True

    # -- helpers for the drivers' update() ------------------------------------------------------

    @native
    def _sample(self, raw, native, bad=fault.OK):
        """Account one conversion result. bad: a range fault the driver already decided.
        Every tick on most boards: an attribute that already holds its value is not stored
        again (a store is a hash look-up on the chip, a test of the value a cheaper one)."""
        if self._errs:
            self._errs = 0
        if raw == self.raw:
            same = self._same + 1
            self._same = same
        else:
            same = 0
            self.raw = raw
            if self._same:
                self._same = 0
        if bad:
            return self._set(bad)
        if same >= self._stuck_n:
            return self._set(fault.STUCK)
        self.value = native
        if not self.zeroed:
            self.ref = native
            self.zeroed = True
        self.cp = (((native - self.ref) >> self._pre) * self._m + self._half) >> self._s
        if not self.fresh:
            self.fresh = True
        if self.fault:
            self.fault = bad  # fault.OK (0): a bad code returned above
        return bad

    def _set(self, code):
        self.fresh = False
        self.fault = code
        return code

    @native
    def _idle(self):
        """No new sample this tick (conversion still running): state unchanged."""
        self.fresh = False
        return self.fault

    def _bus_error(self, exc):
        """One failed transaction. Only `retries` consecutive failures become BUS_ERROR, so a
        single glitch costs one stale tick instead of a fault; each tick tries once, so a dead
        bus never stalls the loop for more than one transaction."""
        self.errno = exc.args[0] if exc.args else 0
        self._errs += 1
        self.fresh = False
        if self._errs >= self._retries:
            self.fault = fault.BUS_ERROR
        return self.fault
