"""Rest baseline: zeroed once the signal has settled at rest, then tracked only during confirmed
rest, slowly, and never while the muscle is clearly tense.

The signal is summarised in 500 ms blocks (min, max, mean). A block is quiet when its range is
small and its mean moved little since the previous block: that is "settled" (a sealed probe warming
up drifts for minutes, anchors section 2). Zeroing happens at the first quiet block of a confirmed
rest and is refused while the signal is noisy or the probe is squeezed. Afterwards the baseline
follows slow drift (thermal settling, a slow leak) at a bounded rate; drift beyond the leak limit
is reported once.
"""
from pacer._compat import const

_BLOCK_MS = const(500)
_QUIET_CP = const(150)
_SETTLE_CP = const(40)
_STEP_CP = const(5)


class Baseline:
    def __init__(self, leak_limit_cp):
        self.leak_limit_cp = leak_limit_cp
        self.reset(0)

    def reset(self, t):
        self.blk_start = t
        self.blk_min = 0
        self.blk_max = 0
        self.blk_sum = 0
        self.blk_n = 0
        self.prev_mean = 0
        self.have_prev = False
        self.zeroed = False
        self.value = 0
        self.zero = 0
        self.leak = False
        self.quiet = False

    def drift(self):
        return self.value - self.zero if self.zeroed else 0

    def update(self, t, p, rest, band_cp):
        """Feed a filtered sample. `rest` says the program asks for rest and nothing contradicts it;
        `band_cp` is how far from the baseline still counts as relaxed. Returns 1 on the tick the
        baseline is first zeroed, 2 on the tick a leak is first detected, else 0."""
        if self.blk_n == 0:
            self.blk_min = p
            self.blk_max = p
        elif p < self.blk_min:
            self.blk_min = p
        elif p > self.blk_max:
            self.blk_max = p
        self.blk_sum += p
        self.blk_n += 1
        if t - self.blk_start < _BLOCK_MS:
            return 0
        mean = self.blk_sum // self.blk_n
        quiet = (self.blk_max - self.blk_min <= _QUIET_CP and self.have_prev
                 and -_SETTLE_CP <= mean - self.prev_mean <= _SETTLE_CP)
        self.quiet = quiet
        self.prev_mean = mean
        self.have_prev = True
        self.blk_start = t
        self.blk_n = 0
        self.blk_sum = 0
        if not self.zeroed:
            # until zeroed, the latest block is the best guess of rest
            self.value = mean
            if rest and quiet:
                self.zeroed = True
                self.zero = mean
                return 1
            return 0
        # a rest level far above the baseline is tension, not drift; below it is always drift
        if rest and quiet and mean - self.value <= band_cp:
            # bounded rate: a fast leak is reported, not silently followed
            if mean > self.value + _STEP_CP:
                self.value += _STEP_CP
            elif mean < self.value - _STEP_CP:
                self.value -= _STEP_CP
            else:
                self.value = mean
            d = mean - self.zero
            if not self.leak and (d > self.leak_limit_cp or d < -self.leak_limit_cp):
                self.leak = True
                return 2
        return 0
