"""Resting tone: the pelvic floor's resting level over the first minute of rest after zeroing and
over the last minute of rest, in rest time (the floor is asked to move in the other steps), and
their difference with the probe's own warm-up taken out: does the floor rest lower at the end?

The engine feeds every clean rest tick with a zeroed baseline. The last minute is kept as twelve
5 s block means in a ring, so it is known whenever the session ends.
"""
from array import array

from pacer import events as ev
from pacer._compat import const, native

_MIN_MS = const(60000)
_BLK_MS = const(5000)
_NBLK = const(12)


class RestTone:
    """update(p) takes one rest sample with its `dt` (ms since the previous tick) set first;
    change() is the result at the end. update is the send of a generator that keeps the running
    sums in its locals: it runs on most ticks of a session, and an attribute costs a hash look-up
    where a local costs an index (pacer.engine)."""

    def __init__(self, baseline):
        self.base = baseline
        self.blocks = array("i", [0] * _NBLK)
        self.dt = 0
        self.reset()

    def reset(self):
        self.rest_ms = 0     # rest time fed so far
        self.first_sum = 0   # the first minute's samples
        self.first_n = 0
        self.mid = 0         # the baseline's warm-up in the middle of the first minute
        self.n_blocks = 0    # complete blocks in the ring (at most _NBLK)
        body = self._body()
        self.update = body.send
        body.send(None)  # to its first yield

    @native
    def _body(self):
        blocks = self.blocks
        warmed = self.base.warmed
        i = 0
        bsum = bn = bt = 0   # the block being filled
        rest_ms = 0
        first_sum = first_n = mid = 0  # published when the first minute is complete
        while True:
            p = yield
            dt = self.dt
            since = rest_ms
            rest_ms += dt
            self.rest_ms = rest_ms
            if since < _MIN_MS:
                first_sum += p
                first_n += 1
                if since < _MIN_MS // 2:
                    mid = warmed()
                if rest_ms >= _MIN_MS:  # change() needs two minutes: it reads them after this
                    self.first_sum = first_sum
                    self.first_n = first_n
                    self.mid = mid
            bsum += p
            bn += 1
            bt += dt
            if bt >= _BLK_MS:
                blocks[i] = bsum // bn
                i = (i + 1) % _NBLK
                if self.n_blocks < _NBLK:
                    self.n_blocks += 1
                bt = bsum = bn = 0

    def change(self):
        """Last minute of rest minus the first minute after zeroing, the probe's own warm-up
        (followed by the baseline while settling) taken out; ev.NONE with a leak or a short
        session."""
        if (self.base.leak or not self.first_n or self.n_blocks < _NBLK
                or self.rest_ms < 2 * _MIN_MS):
            return ev.NONE
        last = 0
        for k in range(_NBLK):
            last += self.blocks[k]
        last //= _NBLK
        first = self.first_sum // self.first_n
        # the warm-up after the middle of the first minute inflates the later level
        return last - first - (self.base.warmed() - self.mid)
