"""Cough guard: a rise far faster than a voluntary squeeze marks an artifact window.

Voluntary squeezes rise at about 30 cmH2O/s (anchors section 5); a cough rises by tens of cmH2O
within a few tens of ms and lasts a few hundred ms. A rise of at least `rise_cp` within 120 ms opens
a window; time above target, peaks and MVC updates inside it do not count, so a cough cannot
rescue a missed rep. The abdominal channel, when present, opens the window too.
"""
from array import array

from pacer._compat import const

_N = const(8)
_WINDOW_MS = const(120)
_HOLD_MS = const(600)
_MAX_MS = const(1500)
_FLOOR = const(2 * _N)   # the index of a pressure ring's lowest value


def _put(ring, i, v):
    """Write v at i and i + _N of a ring whose last item keeps its lowest value; returns it."""
    lo = ring[_FLOOR]
    old = ring[i]
    ring[i] = v
    ring[i + _N] = v
    if v <= lo:
        lo = v
    elif old == lo:
        # the sample that held the lowest value is gone: look again
        lo = v
        for i in range(_N):
            if ring[i] < lo:
                lo = ring[i]
    ring[_FLOOR] = lo
    return lo


class CoughGuard:
    def __init__(self, rise_cp):
        self.rise_cp = rise_cp
        # rings of _N samples, each written twice (at i and i + _N), so the samples before i
        # are the straight run i + _N - 1, i + _N - 2, ...: no wrap to compute in the scan. The
        # pressure rings' last item is their lowest value (they start at 0).
        self.t = array("i", [0] * (2 * _N))
        self.p = array("i", [0] * (2 * _N + 1))
        self.q = array("i", [0] * (2 * _N + 1))
        self.reset()

    def reset(self):
        self.i = 0
        self.count = 0
        self.until = 0
        self.start = 0
        self.pre = 0
        self.active = False
        self.events = 0

    def update(self, t, p, abd, has_abd):
        """Returns True while t is inside a cough window."""
        # Every tick, so its frame fits MicroPython's C stack (11 words: few locals, short
        # expressions); a heap frame would cost more than the two calls it takes.
        i = self.i
        a = self.t
        a[i] = t
        a[i + _N] = t
        self.i = (i + 1) % _N
        if self.count < _N:
            self.count += 1
        # The rings' lowest values bound the window's from below: a rise from them under
        # rise_cp is no rise in the window either, so most ticks skip the scan. a and i hold
        # them: one more local would take the frame past 11 words.
        a = _put(self.p, i, p)
        i = _put(self.q, i, abd)
        if p - a >= self.rise_cp or (has_abd and abd - i >= self.rise_cp):
            if self._rise(has_abd):
                return True
        if self.active and t >= self.until:
            # stay open while the cough's tail is still high, but never past _MAX_MS: a squeeze
            # that overlaps a cough must be scored again once the cough is over
            if p < self.pre + self.rise_cp // 2 or t - self.start >= _MAX_MS:
                self.active = False
        return self.active

    def _rise(self, has_abd):
        """Whether the sample just written has risen by rise_cp within the window (the
        abdominal one too when present): opens or extends the window."""
        ta = self.t
        pa = self.p
        qa = self.q
        j = self.i - 1 + _N   # the sample just written (k and k + _N hold the same one)
        t = ta[j]
        p = pa[j]
        abd = qa[j]
        n = self.count
        # lowest values within the window, newest first (the abdominal one is used only when
        # that channel is present; the scan runs only when a rise is possible, so one loop)
        lo = p
        qlo = abd
        t0 = t - _WINDOW_MS  # older samples are outside the window
        for k in range(j - 1, j - n, -1):
            if ta[k] < t0:
                break
            v = pa[k]
            if v < lo:
                lo = v
            v = qa[k]
            if v < qlo:
                qlo = v
        rise = p - lo
        if has_abd and abd - qlo > rise:
            rise = abd - qlo
        if rise < self.rise_cp:
            return False
        if not self.active:
            self.events += 1
            self.start = t
            self.pre = lo
        self.active = True
        self.until = t + _HOLD_MS
        return True
