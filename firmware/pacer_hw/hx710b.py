"""Avia HX710B 24-bit bridge ADC (the cheap "0-40 kPa" pressure modules), bit-banged.

Protocol (datasheet): DOUT high while converting, low when a sample is ready. Each PD_SCK pulse
shifts one bit out, MSB first, two's complement; 24 pulses read the word and 1-3 more select the
input and rate of the NEXT conversion: 25 = differential 10 Hz, 26 = DVDD-AVDD 40 Hz,
27 = differential 40 Hz. SCK high for more than ~60 us powers the chip down (and resets it to the
10 Hz default), so the 25-27 pulses run with interrupts off; that is about 27 * 2 pin writes.

The chip has no error signalling at all. update() therefore never waits for DOUT: it reads when
DOUT is low and otherwise only checks how long the current conversion has been running. No data
for 2.5 sample periods (generous after power-up, when the chip converts at 10 Hz and settles)
means NOT_READY: unpowered, unplugged, or a DOUT line stuck high.
"""
from machine import disable_irq, enable_irq

from pacer_hw import fault
from pacer_hw._compat import const, native, ticks_diff
from pacer_hw.sensor import PressureSensor

_SIGN = const(0x800000)
_WRAP = const(0x1000000)
_POS_FULL = const(0x7FFFFF)
_NEG_FULL = const(-0x800000)
_FIRST_MS = const(500)  # first sample after power-up: 10 Hz default mode plus settling


class HX710B(PressureSensor):
    def __init__(self, sck, dout, counts_per_cmh2o=79000, zero=0, rate=10, timeout_ms=0, stuck_n=0):
        self._sck = sck
        self._dout = dout
        sck.value(0)  # a high SCK left by reset would hold the chip powered down
        self._extra = 3 if rate == 40 else 1
        self._period = 100  # the chip starts in 25-pulse (10 Hz) mode whatever we want later
        self._fixed_tmo = timeout_ms
        self._tmo = timeout_ms or _FIRST_MS
        self._next_period = 25 if rate == 40 else 100
        self._t_ok = 0
        self._started = False
        super().__init__(100, counts_per_cmh2o, _WRAP, zero, stuck_n or 3 * rate)

    @native
    def _shift(self):
        """Clock the 24-bit conversion out (interrupts off: SCK high over ~60 us powers the
        part down), then the extra pulses that select the next rate."""
        sck = self._sck
        dout = self._dout
        v = 0
        st = disable_irq()
        for _ in range(24):
            sck.value(1)
            sck.value(0)
            v = (v << 1) | dout.value()
        for _ in range(self._extra):
            sck.value(1)
            sck.value(0)
        enable_irq(st)
        return v

    @native
    def update(self, t_ms):
        if not self._started:
            self._started = True
            self._t_ok = t_ms
        if self._dout.value():
            if ticks_diff(t_ms, self._t_ok) > self._tmo:
                return self._set(fault.NOT_READY)
            return self._idle()
        v = self._shift()
        self._t_ok = t_ms
        # From now on conversions run at the selected rate.
        self._period = self._next_period
        self._tmo = self._fixed_tmo or (self._period * 5) >> 1
        if v & _SIGN:
            v -= _WRAP
        if v == _POS_FULL or v == _NEG_FULL:
            return self._sample(v, v, fault.OVER_RANGE)
        return self._sample(v, v)
