"""Pressure conditioning: single-sample spike rejection, then a light low-pass.

A median of three removes one-sample spikes (RP2040 ADC errata E11, motor switching edges) at the
cost of one sample of delay; the low-pass is a first-order filter whose weight follows the actual
sample interval, so any sample rate and timestamp jitter give the same time constant. A 20 ms
constant keeps the feedback path well inside the 60 ms people notice (anchors section 5).
"""
from pacer._compat import const, native

_TAU_MS = const(20)
_MAX_DT_MS = const(200)


class PressureFilter:
    """update(raw) -> the filtered pressure, once per sample, with the sample's time (ms) set in
    `t` first. update is the send of a generator that keeps the filter's state in its locals:
    the engine calls two of these every tick, and on MicroPython an attribute costs a hash
    look-up where a local costs an index (pacer.engine)."""

    def __init__(self):
        self.t = 0
        self.reset()

    def reset(self):
        body = self._body()
        self.update = body.send
        body.send(None)  # to its first yield

    @native
    def _body(self):
        # the first two samples pass through: the median needs three
        a = yield 0
        last_t = self.t
        b = yield a
        last_t = self.t
        value = b
        raw = yield b
        while True:
            # median of (a, b, raw), left in m
            if a > b:
                m = b if raw < b else (a if raw > a else raw)
            else:
                m = a if raw < a else (b if raw > b else raw)
            a = b
            b = raw
            t = self.t
            dt = t - last_t
            last_t = t
            if dt <= 0:
                dt = 1
            elif dt > _MAX_DT_MS:
                dt = _MAX_DT_MS
            value += ((m - value) * dt) // (_TAU_MS + dt)
            raw = yield value
