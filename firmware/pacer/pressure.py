"""Pressure conditioning: single-sample spike rejection, then a light low-pass.

A median of three removes one-sample spikes (RP2040 ADC errata E11, motor switching edges) at the
cost of one sample of delay; the low-pass is a first-order filter whose weight follows the actual
sample interval, so any sample rate and timestamp jitter give the same time constant. A 20 ms
constant keeps the feedback path well inside the 60 ms people notice (anchors section 5).
"""
from pacer._compat import const

_TAU_MS = const(20)
_MAX_DT_MS = const(200)


class PressureFilter:
    def __init__(self):
        self.reset()

    def reset(self):
        self.n = 0
        self.a = 0
        self.b = 0
        self.value = 0
        self.last_t = 0

    def update(self, t, raw):
        """Feed one sample (t in ms, raw in cp); returns the filtered value in cp."""
        n = self.n
        a = self.a
        b = self.b
        self.a = b
        self.b = raw
        if n < 2:
            self.n = n + 1
            self.value = raw
            self.last_t = t
            return raw
        # median of (a, b, raw)
        if a > b:
            a, b = b, a
        if raw < a:
            med = a
        elif raw > b:
            med = b
        else:
            med = raw
        dt = t - self.last_t
        self.last_t = t
        if dt <= 0:
            dt = 1
        elif dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        v = self.value
        v += ((med - v) * dt) // (_TAU_MS + dt)
        self.value = v
        return v
