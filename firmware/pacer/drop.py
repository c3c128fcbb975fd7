"""Let-go scoring: the person's own resting level, the breath's share of the probe pressure, and
one record per drop or push step.

Every verdict here is a fall below the person's *local* resting level, measured over the last
2 s of relaxing before the cue (RestLevel), so a probe that is still warming or slowly leaking
does not move the goal posts. The breath is taken out before judging (BreathRef): on inhale the
abdominal pressure rises and part of it reaches the probe (anchors section 11: the diaphragm and
the floor descend together), which on one channel would hide a real 2-3 cmH2O drop.

- Two channels: the share k of an abdominal change that reaches the probe is learnt from paced
  breaths at rest (pelvic rise / abdominal rise over the same window), and the floor's level is
  the probe pressure minus k times the abdominal change since the cue.
- One channel: the rise a rest inhale gives on the probe is learnt from the same paced breaths
  and taken off a drop cued on the inhale, ramped in as the breath fills.
Without paced rest breaths nothing is taken off: a drop is then understated, never overstated.

Thresholds (settings, documented with their sources in docs/engine.md): a drop counts from
`drop_min` below rest, a rise of `paradox` above rest is the floor tightening instead, a push is
adequate from `push_min` of abdominal rise, and a coordinated push lets the floor go by at least
RELAX_SHARE_PCT of its resting level (Rome's 20 % rule). Samples inside a cough window never count
for or against a step: they are left out of the level, the held time and the onset.
"""
from array import array

from pacer import events as ev
from pacer._compat import const, native
from pacer.program import B_INHALE, M_PUSH

_BLOCK_MS = const(250)
_NBLK = const(8)            # 8 x 250 ms: the 2 s of rest before a cue
_SETTLE_MS = const(1000)    # the window a level is judged on starts 1 s after the cue
_LAG_MS = const(500)        # people let go late and come back late
_CONFIRM_MS = const(300)
_MIN_ABD_CP = const(25)     # rest breaths must move the abdomen 0.25 cmH2O for k to be learnt
RELAX_SHARE_PCT = const(20)

IDLE = const(0)
ACTIVE = const(1)
AFTER = const(2)

PAT_NONE = const(0)
PAT_COORDINATED = const(1)
PAT_PARADOXICAL = const(2)
PAT_INCOMPLETE = const(3)
PAT_WEAK = const(4)
PATTERN_NAMES = ("", "coordinated", "paradoxical", "incomplete", "weak_push")


class RestLevel:
    """Mean pelvic and abdominal level over the last 2 s of relaxing, in 250 ms blocks."""

    def __init__(self):
        self.p = array("i", [0] * _NBLK)
        self.a = array("i", [0] * _NBLK)
        self.clear()

    def clear(self):
        self.n = 0
        self.i = 0
        self.bt = -1
        self.bp = 0
        self.ba = 0
        self.bn = 0

    @native
    def feed(self, t, p, a):
        if self.bt < 0:
            self.bt = t
        self.bp += p
        self.ba += a
        self.bn += 1
        if t - self.bt >= _BLOCK_MS:
            self.p[self.i] = self.bp // self.bn
            self.a[self.i] = self.ba // self.bn
            self.i = (self.i + 1) % _NBLK
            if self.n < _NBLK:
                self.n += 1
            self.bt = t
            self.bp = 0
            self.ba = 0
            self.bn = 0

    def ready(self):
        return self.n >= 2

    def pelvic(self):
        s = 0
        for k in range(self.n):
            s += self.p[k]
        return s // self.n

    def abdominal(self):
        s = 0
        for k in range(self.n):
            s += self.a[k]
        return s // self.n


class BreathRef:
    """What a rest breath does to the probe, learnt from paced inhales at rest.

    Each inhale's rise is measured against the rest before it and the rest after the breath out
    that follows, interpolated to the middle of the judged window: a probe still warming rises
    by a few tenths of a cmH2O over one breath, which would otherwise be read as breath."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.rise_sum = 0       # pelvic rise over the window, summed over learnt breaths
        self.abd_sum = 0
        self.n = 0
        self.on = False
        self.pending = False
        self._learnt()

    def begin(self, t, p0, a0, dur):
        self.on = True
        self.pending = False
        self.t0 = t
        self.p0 = p0
        self.a0 = a0
        self.dur = dur
        self.ps = 0
        self.as_ = 0
        self.cnt = 0
        self.skipped = 0

    @native
    def update(self, e, p, a, masked):
        if not self.on or e < _SETTLE_MS or e >= self.dur:
            return
        if masked:
            self.skipped += 1
            return
        self.ps += p
        self.as_ += a
        self.cnt += 1

    def end(self):
        """The inhale is over: wait for the rest after the breath out (close)."""
        # a breath half lost to a cough or a fault teaches nothing
        self.pending = self.on and self.cnt > 0 and self.cnt >= self.skipped
        self.on = False

    def close(self, t, p1, a1):
        """The rest level after the breath out (mean of its last 2 s, ending at t)."""
        if not self.pending:
            return
        self.pending = False
        # rest levels stand for the middle of their 2 s windows; the rise for its window's
        t_a = self.t0 - _NBLK * _BLOCK_MS // 2
        t_b = t - _NBLK * _BLOCK_MS // 2
        t_w = self.t0 + (_SETTLE_MS + self.dur) // 2
        span = t_b - t_a
        if span <= 0:
            return
        w = t_w - t_a
        self.rise_sum += self.ps // self.cnt - (self.p0 + (p1 - self.p0) * w // span)
        self.abd_sum += self.as_ // self.cnt - (self.a0 + (a1 - self.a0) * w // span)
        self.n += 1
        self._learnt()

    def cancel(self):
        self.pending = False

    def _learnt(self):
        """What the learnt breaths give, kept as attributes: they change only when a breath is
        learnt, and the engine reads them every tick.
        allowance: mean pelvic rise of a rest inhale over the judged window (cp), never negative.
        k1000: share of an abdominal change seen on the probe, x1000, or -1 if not learnt."""
        n = self.n
        self.allowance = self.rise_sum // n if n and self.rise_sum > 0 else 0
        if not n or self.abd_sum < _MIN_ABD_CP * n:
            self.k1000 = -1
        else:
            k = self.rise_sum * 1000 // self.abd_sum
            self.k1000 = 0 if k < 0 else (1000 if k > 1000 else k)


class DropScorer:
    def __init__(self, settings):
        self.s = settings
        self.stage = IDLE
        self.index = 0
        self.achieved = False
        self.pattern = PAT_NONE
        self.flags = 0

    def begin(self, t, step, muscle, breath, dur, rest, abd_rest, flags, k1000, allowance,
              has_abd, abd_base, warm):
        """rest, abd_rest: the local resting levels before the cue; abd_base: the abdomen's
        resting level since zeroing (a push is measured from it, not from the top of the breath
        in before it); warm: the probe's own warm-up so far, not part of the floor's rest."""
        self.stage = ACTIVE
        self.index += 1
        self.step = step
        self.muscle = muscle
        self.t0 = t
        self.dur = dur
        self.rest = rest
        self.abd_rest = abd_rest
        self.abd_base = abd_base
        self.floor_rest = rest - warm
        self.flags = flags
        self.has_abd = has_abd
        # how the breath is taken out: k (two channels) or a ramped allowance (inhale steps)
        self.k = k1000 if has_abd else -1
        self.allow = allowance if (self.k < 0 and breath == B_INHALE) else 0
        self.centre = (_SETTLE_MS + dur) // 2
        self.sum = 0
        self.abd_sum = 0
        self.corr_sum = 0
        self.cnt = 0
        self.held = 0
        self.onset = -1
        self.below_since = -1
        self.achieved = False
        self.pattern = PAT_NONE

    @native
    def _corr(self, e, a):
        if self.k >= 0:
            return (a - self.abd_rest) * self.k // 1000
        if self.allow:
            return self.allow * (e if e < self.centre else self.centre) // self.centre
        return 0

    @native
    def update(self, t, dt, p, a, masked, fault):
        """One delayed sample; returns True on the sample the fall below rest is confirmed."""
        if self.stage == IDLE:
            return False
        e = t - self.t0
        if e < 0 or e >= self.dur + _LAG_MS:
            return False
        if fault:
            self.flags |= ev.F_FAULT
        if masked:
            self.flags |= ev.F_COUGH
            self.below_since = -1
            return False
        if fault:
            return False
        c = p - self._corr(e, a)
        if e >= _SETTLE_MS and e < self.dur:
            self.sum += c
            self.corr_sum += p - c
            if self.has_abd:
                self.abd_sum += a
            self.cnt += 1
        if self.stage != ACTIVE or (self.muscle == M_PUSH and self.k < 0):
            return False
        if c <= self.rest - self.s.drop_min_cp:
            self.held += dt
            if self.below_since < 0:
                self.below_since = e
            elif self.onset < 0 and e - self.below_since >= _CONFIRM_MS:
                self.onset = self.below_since
                return True
        else:
            self.below_since = -1
        return False

    def step_over(self):
        """The drop's own step has ended; late samples (the lag) still count."""
        if self.stage == ACTIVE:
            self.stage = AFTER

    def finish(self, q, t):
        """Write the drop record into the event queue and return to idle."""
        if self.stage == IDLE:
            return
        s = self.s
        flags = self.flags
        level = ev.NONE
        drop = ev.NONE
        pct = ev.NONE
        abd_rise = ev.NONE
        corr = 0
        pattern = PAT_NONE
        achieved = False
        push = self.muscle == M_PUSH
        if self.cnt:
            level = self.sum // self.cnt
            corr = self.corr_sum // self.cnt
            drop = self.rest - level
            if self.floor_rest >= 100:
                pct = drop * 100 // self.floor_rest
            if self.has_abd:
                abd_rise = self.abd_sum // self.cnt - self.abd_base
        if push and self.k < 0:
            # without a learnt abdominal reference a push cannot be told from the floor tightening
            flags |= ev.F_ONE_CHANNEL
        elif drop != ev.NONE:
            if drop <= -s.paradox_cp:
                flags |= ev.F_PARADOXICAL
            if push:
                adequate = abd_rise != ev.NONE and abd_rise >= s.push_min_cp
                if flags & ev.F_PARADOXICAL:
                    pattern = PAT_PARADOXICAL
                elif not adequate:
                    pattern = PAT_WEAK
                elif pct != ev.NONE and pct >= RELAX_SHARE_PCT:
                    pattern = PAT_COORDINATED
                else:
                    pattern = PAT_INCOMPLETE
                achieved = pattern == PAT_COORDINATED
            else:
                achieved = drop >= s.drop_min_cp and not (flags & ev.F_PARADOXICAL)
        if flags & ev.F_FAULT:
            achieved = False
        held = self.held
        if held > self.dur:
            held = self.dur
        off = q.push(ev.DROP, t)
        b = q.buf
        b[off + 2] = self.index
        b[off + 3] = self.muscle
        b[off + 4] = self.step
        b[off + 5] = self.rest
        b[off + 6] = level
        b[off + 7] = drop
        b[off + 8] = pct
        b[off + 9] = self.onset
        b[off + 10] = held
        b[off + 11] = 1 if achieved else 0
        b[off + 12] = flags
        b[off + 13] = abd_rise
        b[off + 14] = pattern
        b[off + 15] = corr
        self.stage = IDLE
        self.achieved = achieved
        self.pattern = pattern
        self.flags = flags
        self.drop = drop
