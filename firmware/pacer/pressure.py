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
        # Few locals on purpose: on MicroPython a call whose locals and stack pass 11 words
        # takes its frame from the heap, which costs more than the whole filter.
        a = self.a
        b = self.b
        self.a = b
        self.b = raw
        if self.n < 2:
            self.n += 1
            self.value = raw
            self.last_t = t
            return raw
        # median of (a, b, raw), left in raw
        if a > b:
            a, b = b, a
        if raw < a:
            raw = a
        elif raw > b:
            raw = b
        a = t - self.last_t  # dt
        self.last_t = t
        if a <= 0:
            a = 1
        elif a > _MAX_DT_MS:
            a = _MAX_DT_MS
        b = self.value
        b += ((raw - b) * a) // (_TAU_MS + a)
        self.value = b
        return b
