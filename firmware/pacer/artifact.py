"""Cough guard: a rise far faster than a voluntary squeeze marks an artifact window.

Voluntary squeezes rise at about 30 cmH2O/s (anchors section 5); a cough rises by tens of cmH2O
within a few tens of ms and lasts a few hundred ms. A rise of at least `rise_cp` within 120 ms opens
a window; time above target, peaks and MVC updates inside it do not count, so a cough cannot
rescue a missed rep. The abdominal channel, when present, opens the window too.
"""
from array import array

from pacer._compat import const, native

_N = const(8)
_WINDOW_MS = const(120)
_HOLD_MS = const(600)
_MAX_MS = const(1500)
_FAR = const(1 << 29)    # above any pressure: "no sample yet"


class CoughGuard:
    """update(p) -> True while inside a cough window, once per tick, with the tick's `t` (ms),
    `abd` and `has_abd` (the abdominal sample, and whether there is one) set first. update is
    the send of a generator that keeps the guard's state in its locals, as pacer.engine does."""

    def __init__(self, rise_cp):
        self.rise_cp = rise_cp
        # the last _N samples (time, pressure, abdominal), newest at the index the body keeps
        self.ts = array("i", [0] * _N)
        self.ps = array("i", [0] * _N)
        self.qs = array("i", [0] * _N)
        self.t = 0
        self.abd = 0
        self.has_abd = False
        self.reset()

    def reset(self):
        self.events = 0
        body = self._body()
        self.update = body.send
        body.send(None)  # to its first yield

    @native
    def _body(self):
        ta = self.ts
        pa = self.ps
        qa = self.qs
        rise_cp = self.rise_cp
        i = 0          # where the next sample goes
        count = 0      # samples in the ring
        active = False
        start = until = pre = 0
        # Lower bounds of the ring's lowest values, so that most ticks skip the scan: the lowest
        # of the block of _N samples being filled and of the block before it (together a superset
        # of the last _N). A rise from them under rise_cp is no rise in the window either.
        filled = 0
        plo = qlo = plo0 = qlo0 = _FAR
        while True:
            p = yield active
            t = self.t
            abd = self.abd
            has_abd = self.has_abd
            j = i
            ta[j] = t
            pa[j] = p
            qa[j] = abd
            i = j + 1 if j + 1 < _N else 0
            if count < _N:
                count += 1
            if filled == _N:
                plo0 = plo
                qlo0 = qlo
                plo = p
                qlo = abd
                filled = 1
            else:
                filled += 1
                if p < plo:
                    plo = p
                if abd < qlo:
                    qlo = abd
            lo = plo if plo < plo0 else plo0
            ql = qlo if qlo < qlo0 else qlo0
            if p - lo >= rise_cp or (has_abd and abd - ql >= rise_cp):
                # the lowest values within the window, newest first (the abdominal one counts
                # only when that channel is present)
                lo = p
                ql = abd
                t0 = t - _WINDOW_MS  # older samples are outside the window
                k = j
                for _ in range(count - 1):
                    k = k - 1 if k else _N - 1
                    if ta[k] < t0:
                        break
                    if pa[k] < lo:
                        lo = pa[k]
                    if qa[k] < ql:
                        ql = qa[k]
                rise = p - lo
                if has_abd and abd - ql > rise:
                    rise = abd - ql
                if rise >= rise_cp:
                    # a rise opens the window or extends it
                    if not active:
                        self.events += 1
                        start = t
                        pre = lo
                    active = True
                    until = t + _HOLD_MS
                    continue
            if active and t >= until:
                # stay open while the cough's tail is still high, but never past _MAX_MS: a
                # squeeze that overlaps a cough must be scored again once the cough is over
                if p < pre + rise_cp // 2 or t - start >= _MAX_MS:
                    active = False
