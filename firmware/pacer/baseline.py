"""Rest baseline: zeroed once the signal has settled at rest, then tracked only during confirmed
rest, slowly, and never while the muscle is clearly tense.

The signal is summarised in 500 ms blocks (min, max, mean). A block is quiet when its range is
small and its mean moved little since the previous block: that is "settled" (a sealed probe warming
up drifts for minutes, anchors section 2). Zeroing happens at the first quiet block of a confirmed
rest and is refused while the signal is noisy or the probe is squeezed. Afterwards the baseline
follows slow drift at a bounded rate; drift beyond the leak limit is reported once.

Warm-up and tone are told apart by when and which way they move. A probe warming after insertion
rises along a settling curve over its first minutes (anchors section 2); the baseline follows rises
only while the probe is still settling: until the followed rise over the last minute is under
_SETTLED_CP, checked every minute from zeroing, and never past _SETTLE_MAX_MS. After that a climb
of the resting level is the person's tone (tension), never drift, and the baseline only follows
falls (a leak; a floor that eases). `warm` is the rise followed while settling, so results that
compare rest levels across the session can take the probe's own warm-up out.
"""
from pacer._compat import const, native

_BLOCK_MS = const(500)
_QUIET_CP = const(150)
_SETTLE_CP = const(40)
_STEP_CP = const(5)
_SETTLE_STEP_CP = const(8)      # per block while settling: follows a 5 cmH2O warm-up in 2 min
_SETTLE_CHECK_MS = const(60000)
_SETTLED_CP = const(25)
_SETTLE_MAX_MS = const(300000)


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
        self.settling = True
        self.warm = 0
        self.zero_t = 0
        self.mark_t = 0
        self.mark_v = 0

    def drift(self):
        return self.value - self.zero if self.zeroed else 0

    @native
    def warmed(self):
        """The warm-up followed so far (while settling) or in all (after): the minutes that rose,
        summed, so a floor easing meanwhile (the minutes that fell) stays the person's."""
        if self.settling and self.zeroed and self.value > self.mark_v:
            return self.warm + self.value - self.mark_v
        return self.warm

    @native
    def update(self, t, p, rest, band_cp):
        """Feed a filtered sample. `rest` says the program asks for rest and nothing contradicts it;
        `band_cp` is how far from the baseline still counts as relaxed. Returns 1 on the tick the
        baseline is first zeroed, 2 on the tick a leak is first detected, else 0."""
        # every tick: this part stays within MicroPython's stack frame (11 words); the block's
        # end, twice a second, has its own call
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
        return self._block(t, rest, band_cp)

    @native
    def _block(self, t, rest, band_cp):
        mean = self.blk_sum // self.blk_n
        self.quiet = (self.blk_max - self.blk_min <= _QUIET_CP and self.have_prev
                      and -_SETTLE_CP <= mean - self.prev_mean <= _SETTLE_CP)
        # only a quiet block at rest can set or move the baseline (`rest` says so from here on:
        # one local fewer keeps this frame off the heap on the chip)
        rest = rest and self.quiet
        self.prev_mean = mean
        self.have_prev = True
        self.blk_start = t
        self.blk_n = 0
        self.blk_sum = 0
        if not self.zeroed:
            # until zeroed, the latest block is the best guess of rest
            self.value = mean
            if rest:
                self.zeroed = True
                self.zero = mean
                self.zero_t = t
                self.mark_t = t
                self.mark_v = mean
                return 1
            return 0
        if self.settling and t - self.mark_t >= _SETTLE_CHECK_MS:
            rise = self.value - self.mark_v
            if rise > 0:
                self.warm += rise
            if rise < _SETTLED_CP or t - self.zero_t >= _SETTLE_MAX_MS:
                self.settling = False
            self.mark_t = t
            self.mark_v = self.value
        # a rest level far above the baseline is tension, not drift; below it is always drift
        if rest and mean - self.value <= band_cp:
            # bounded rate: a fast leak is reported, not silently followed
            step = _SETTLE_STEP_CP if self.settling else _STEP_CP
            if mean > self.value + step:
                if self.settling:
                    self.value += step
            elif mean < self.value - step:
                self.value -= step
            elif self.settling or mean < self.value:
                self.value = mean
            d = mean - self.zero
            if not self.leak and (d > self.leak_limit_cp or d < -self.leak_limit_cp):
                self.leak = True
                return 2
        return 0
