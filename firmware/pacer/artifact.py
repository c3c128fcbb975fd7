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


class CoughGuard:
    def __init__(self, rise_cp):
        self.rise_cp = rise_cp
        # rings of _N samples, each written twice (at i and i + _N), so the samples before i
        # are the straight run i + _N - 1, i + _N - 2, ...: no wrap to compute in the scan
        self.t = array("i", [0] * (2 * _N))
        self.p = array("i", [0] * (2 * _N))
        self.q = array("i", [0] * (2 * _N))
        # the lowest value each ring holds, kept as it is written (rings start at 0)
        self.p_floor = 0
        self.q_floor = 0
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
        i = self.i
        ta = self.t  # the rings as locals: this runs every tick
        pa = self.p
        qa = self.q
        j = i + _N
        po = pa[i]   # the samples this one overwrites
        qo = qa[i]
        ta[i] = t
        ta[j] = t
        pa[i] = p
        pa[j] = p
        qa[i] = abd
        qa[j] = abd
        self.i = (i + 1) % _N
        n = self.count
        if n < _N:
            n += 1
            self.count = n
        # The rings' floors bound the window's lowest values from below: a rise from them under
        # rise_cp is no rise in the window either, so most ticks skip the scan. A floor is only
        # searched again when the sample that held it is overwritten by a higher one.
        pf = self.p_floor
        if p <= pf:
            pf = p
        elif po == pf:
            pf = p
            for k in range(_N):
                if pa[k] < pf:
                    pf = pa[k]
        self.p_floor = pf
        qf = self.q_floor
        if abd <= qf:
            qf = abd
        elif qo == qf:
            qf = abd
            for k in range(_N):
                if qa[k] < qf:
                    qf = qa[k]
        self.q_floor = qf
        rc = self.rise_cp
        if p - pf >= rc or (has_abd and abd - qf >= rc):
            # lowest value within the window (the abdominal channel's too when present), newest
            # first; one loop per case, so the scan tests nothing it does not need
            lo = p
            qlo = abd
            t0 = t - _WINDOW_MS  # older samples are outside the window
            if has_abd:
                for k in range(j - 1, j - n, -1):
                    if ta[k] < t0:
                        break
                    v = pa[k]
                    if v < lo:
                        lo = v
                    v = qa[k]
                    if v < qlo:
                        qlo = v
            else:
                for k in range(j - 1, j - n, -1):
                    if ta[k] < t0:
                        break
                    v = pa[k]
                    if v < lo:
                        lo = v
            rise = p - lo
            if has_abd and abd - qlo > rise:
                rise = abd - qlo
            if rise >= rc:
                if not self.active:
                    self.events += 1
                    self.start = t
                    self.pre = lo
                self.active = True
                self.until = t + _HOLD_MS
                return True
        if self.active and t >= self.until:
            # stay open while the cough's tail is still high, but never past _MAX_MS: a squeeze
            # that overlaps a cough must be scored again once the cough is over
            if p < self.pre + rc // 2 or t - self.start >= _MAX_MS:
                self.active = False
        return self.active
