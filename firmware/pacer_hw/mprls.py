"""Honeywell MicroPressure MPRLS (I2C 0x18, 0-25 psi absolute, 24-bit).

A conversion is started with 0xAA 0x00 0x00 and takes about 5 ms; then 4 bytes read back as
status + 24-bit output. Status bits: 0x40 powered, 0x20 busy, 0x04 memory integrity failed,
0x01 internal math saturated; bits 7, 4, 3 and 1 are always 0, so a status with any of them set
is line garbage. Output counts map linearly 10 %..90 % of 2**24 to 0..pmax psi.

Why start/poll: blocking 5 ms (or polling a busy device) inside a 20 ms control tick steals a
quarter of the budget. update() is a small state machine instead: if no conversion is running
it starts one and returns; once 5 ms have passed it reads the result and immediately starts the
next conversion, so at 50 Hz every tick yields one sample 20 ms old and costs two short bus
transactions. A busy status just counts a poll; after busy_polls polls in a row (200 ms at
50 Hz) the conversion is abandoned with BUSY_TIMEOUT and a fresh one is started.

Absolute sensor: gauge pressure is counts minus an atmospheric reference captured at zeroing
(the first valid sample, then a quiet moment of the boot self-test).
"""
from pacer_hw import fault
from pacer_hw._compat import const, native, ticks_diff
from pacer_hw.sensor import PressureSensor

_CMD = b"\xaa\x00\x00"
_POWERED = const(0x40)
_BUSY = const(0x20)
_INTEGRITY = const(0x04)
_MATH_SAT = const(0x01)
_RESERVED = const(0x9A)
_OUT_MIN = const(1677722)  # 10 % of 2**24
_OUT_MAX = const(15099494)  # 90 % of 2**24
_CONV_MS = const(5)
_CP_PER_PSI_X1000 = const(7030696)  # 1 psi = 70.30696 cmH2O


class MPRLS(PressureSensor):
    def __init__(self, i2c, addr=0x18, pmax_psi=25, busy_polls=10, stuck_n=150, retries=3):
        self._i2c = i2c
        self._addr = addr
        self._buf = bytearray(4)
        self._max_polls = busy_polls
        self._polls = 0
        self._busy = False
        self._t0 = 0
        # cp per count = pmax * 7030.696 / (0.8 * 2**24)
        super().__init__(pmax_psi * _CP_PER_PSI_X1000 * 10, 8 * (1 << 24) * 1000, 1 << 24, 0,
                         stuck_n, retries, True)

    @native
    def _start(self, t_ms):
        self._i2c.writeto(self._addr, _CMD)
        self._busy = True
        self._t0 = t_ms

    @native
    def update(self, t_ms):
        try:
            if not self._busy:
                self._start(t_ms)
                return self._idle()
            if ticks_diff(t_ms, self._t0) < _CONV_MS:
                return self._idle()
            self._i2c.readfrom_into(self._addr, self._buf)
        except OSError as e:
            self._busy = False
            return self._bus_error(e)
        b = self._buf
        st = b[0]
        if st & _RESERVED:
            self._busy = False
            return self._bus_error(OSError(5))
        if st & _BUSY:
            self._polls += 1
            if self._polls < self._max_polls:
                return self._idle()
            self._polls = 0
            self._busy = False
            return self._set(fault.BUSY_TIMEOUT)
        self._polls = 0
        raw = (b[1] << 16) | (b[2] << 8) | b[3]
        bad = fault.OK
        if not st & _POWERED:
            bad = fault.NOT_READY
        elif st & _INTEGRITY:
            bad = fault.INTEGRITY
        elif st & _MATH_SAT or raw < _OUT_MIN or raw > _OUT_MAX:
            bad = fault.OVER_RANGE
        code = self._sample(raw, raw, bad)
        try:
            self._start(t_ms)
        except OSError:
            self._busy = False  # the sample stands; the next update retries and counts the error
        return code
