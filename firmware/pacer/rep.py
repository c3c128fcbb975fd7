"""Per-rep scoring of squeeze and flick steps.

A rep's hold window is its step plus a short lag (people react late and release late); its relax
window is the step after it. Samples inside a cough window never count toward time above target or
the peak, so a cough or a spike cannot rescue a missed rep; nor can it break a good one: a cough
that starts and ends with the squeeze above its target counts as held, as if it had not happened.
Relaxation is judged against the resting level as it is now (the baseline follows a warming or
leaking probe), not as it was at the squeeze cue.
"""
from pacer import events as ev
from pacer._compat import const, native
from pacer.program import M_FLICK

_LAG_MS = const(500)
_RELAX_CONFIRM_MS = const(300)
_LATE_RELAX_MS = const(2000)
_FLICKHOLD_MS = const(100)
_FATIGUE_MIN_MS = const(20000)
_ABD_MIN_CP = const(300)
IDLE = const(0)
HOLD = const(1)
RELAX = const(2)


class RepScorer:
    def __init__(self, settings):
        self.s = settings
        self.stage = IDLE
        self.index = 0
        self.flags = 0
        self.achieved = False
        self.final_flags = 0
        self.fatigue = ev.NONE

    def begin(self, t, step, muscle, dur, target, baseline, flags, abd):
        self.stage = HOLD
        self.index += 1
        self.step = step
        self.muscle = muscle
        self.t0 = t
        self.dur = dur
        self.target = target
        self.baseline = baseline
        self.flags = flags
        self.peak = baseline
        self.held = 0
        self.reach = -1
        self.last_above = -1
        self.above = False
        self.mask_ms = 0
        self.held_scored = 0
        self.abd0 = abd
        self.abd_peak = abd
        self.rel_t0 = 0
        self.rel_dur = 0
        self.relax_band = 0
        self.below_since = -1
        self.relax = -1
        self.res_sum = 0
        self.res_n = 0
        self.fa_sum = 0
        self.fa_n = 0
        self.fb_sum = 0
        self.fb_n = 0

    def begin_relax(self, t, dur, relax_band):
        self.stage = RELAX
        self.rel_t0 = t
        self.rel_dur = dur
        self.relax_band = relax_band

    @native
    def update(self, t, dt, p, abd, has_abd, cough, fault, rest):
        """One delayed sample; rest is the resting level now (the tracked baseline)."""
        if self.stage == IDLE:
            return
        e = t - self.t0
        if e < 0:
            return
        if fault:
            self.flags |= ev.F_FAULT
        if cough:
            self.flags |= ev.F_COUGH
            if e < self.dur + _LAG_MS:
                self.mask_ms += dt
        if e < self.dur + _LAG_MS and not cough and not fault:
            if p > self.peak:
                self.peak = p
            if has_abd and abd > self.abd_peak:
                self.abd_peak = abd
            if p >= self.target:
                if self.reach < 0:
                    self.reach = e
                self.held += dt
                if self.mask_ms and self.last_above >= 0 and self.above:
                    self.held += self.mask_ms   # above before and after the cough
                self.last_above = e
            self.above = p >= self.target
            self.mask_ms = 0
            if e < self.dur and self.dur >= _FATIGUE_MIN_MS:
                # mean rise in the 2nd/3rd and the 5th/6th sixths of the hold, for the slope
                six = (e * 6) // self.dur
                if six == 1 or six == 2:
                    self.fa_sum += p - self.baseline
                    self.fa_n += 1
                elif six == 4 or six == 5:
                    self.fb_sum += p - self.baseline
                    self.fb_n += 1
        if self.stage != RELAX or self.relax >= 0:
            if self.stage == RELAX and not cough:
                self._residual(t, p, rest)
            return
        r = t - self.rel_t0
        if r < 0:
            return
        if p <= rest + self.relax_band and not cough:
            if self.below_since < 0:
                self.below_since = r
            elif r - self.below_since >= _RELAX_CONFIRM_MS:
                self.relax = self.below_since
        else:
            self.below_since = -1
        self._residual(t, p, rest)

    @native
    def _residual(self, t, p, rest):
        if (t - self.rel_t0) * 2 >= self.rel_dur:
            self.res_sum += p - rest
            self.res_n += 1

    def finish(self, q, t, has_abd):
        """Write the rep record into the event queue and return to idle."""
        if self.stage == IDLE:
            return
        s = self.s
        if self.relax < 0 and self.below_since >= 0 and self.stage == RELAX:
            self.relax = self.below_since
        flags = self.flags
        rise = self.peak - self.baseline
        need = self.target - self.baseline
        if self.muscle == M_FLICK:
            held_ok = self.held >= _FLICKHOLD_MS
            reach_ok = self.reach >= 0 and self.reach <= self.dur + _LAG_MS
        else:
            held_ok = self.held * 100 >= s.hold_pct * self.dur
            reach_ok = self.reach >= 0 and self.reach <= s.reach_ms
            if self.reach >= 0 and self.last_above < self.dur - max(1000, self.dur // 4):
                flags |= ev.F_EARLY_RELEASE
        abd_rise = ev.NONE
        if has_abd:
            abd_rise = self.abd_peak - self.abd0
            # a missed rep with a breath's worth of abdominal movement is not bearing down
            if abd_rise >= _ABD_MIN_CP and abd_rise * 100 >= rise * s.bear_ratio_pct:
                flags |= ev.F_BEARING_DOWN
            elif abd_rise >= _ABD_MIN_CP and abd_rise * 2 >= rise:
                flags |= ev.F_ABDOMINAL
        if self.relax < 0:
            flags |= ev.F_NO_RELAX
        elif self.relax > _LATE_RELAX_MS:
            flags |= ev.F_LATE_RELEASE
        # a rep whose abdomen rose half as much as the probe or more is not credited: pressure
        # alone cannot tell a squeeze from bearing down (anchors section 3: Perifit counts a rep
        # only when the pelvic sensor rises at least twice as much as the abdominal one)
        achieved = (held_ok and reach_ok
                    and not (flags & (ev.F_BEARING_DOWN | ev.F_ABDOMINAL | ev.F_FAULT)))
        if not achieved and self.reach < 0:
            flags |= ev.F_WEAK if rise * 2 >= need else ev.F_MISSED
        fatigue = ev.NONE
        if self.fa_n and self.fb_n:
            diff = self.fb_sum // self.fb_n - self.fa_sum // self.fa_n
            fatigue = diff * 1200 // (self.dur // 100)
        off = q.push(ev.REP, t)
        b = q.buf
        b[off + 2] = self.index
        b[off + 3] = self.muscle
        b[off + 4] = self.target
        b[off + 5] = 1 if achieved else 0
        b[off + 6] = self.peak
        self.held_scored = self.held if self.held < self.dur else self.dur
        b[off + 7] = self.held_scored
        b[off + 8] = self.relax
        b[off + 9] = flags
        b[off + 10] = self.res_sum // self.res_n if self.res_n else 0
        b[off + 11] = self.step
        b[off + 12] = self.reach
        b[off + 13] = fatigue
        b[off + 14] = abd_rise
        self.stage = IDLE
        self.achieved = achieved
        self.final_flags = flags
        self.fatigue = fatigue
        return off
