"""The exercise engine: time and pressure in, cue levels and events out.

Pure and deterministic: no machine, files or clock. The caller passes t as ms since the program
started (the board shell accumulates ticks_diff, so tick-counter wrap never reaches here) and the
pressure in cp. Steps start at absolute times (program start + step start + time spent paused), so
the schedule has no cumulative drift whatever the tick rate or jitter. In steady state a tick
allocates nothing: state is ints and preallocated arrays, events go to a ring of ints.
"""
from array import array

from pacer import events as ev
from pacer._compat import const, native
from pacer.artifact import CoughGuard
from pacer.baseline import Baseline
from pacer.cue import (
    PAT_DONE,
    PAT_DROPPED,
    PAT_FAULT,
    PAT_NONE,
    PAT_REACHED,
    PAT_TENSION,
    Cue,
)
from pacer.drop import ACTIVE as DROP_ACTIVE
from pacer.drop import IDLE as DROP_IDLE
from pacer.drop import PAT_COORDINATED, BreathRef, DropScorer, RestLevel
from pacer.mvc import Calibration
from pacer.pressure import PressureFilter
from pacer.program import (
    B_INHALE,
    M_FLICK,
    M_PUSH,
    M_RELEASE,
    M_REST,
    R_BASELINE,
    R_MVC,
    is_contraction,
    is_letgo,
    is_relaxing,
)
from pacer.rep import HOLD as STAGE_HOLD
from pacer.rep import IDLE as STAGE_IDLE
from pacer.rep import RELAX as STAGE_RELAX
from pacer.rep import RepScorer
from pacer.summary import (
    N_FIELDS,
    S_ACHIEVED,
    S_BASELINE,
    S_BEAR,
    S_COMPLETED,
    S_COUGHS,
    S_DRIFT,
    S_DROP_MEAN,
    S_DROPS,
    S_DROPS_OK,
    S_DURATION,
    S_FATIGUE,
    S_FAULTS,
    S_FLICKS,
    S_GRADE,
    S_HELD,
    S_LEAK,
    S_MVC,
    S_MVCSRC,
    S_NORELAX,
    S_OVER,
    S_OVERHOLD,
    S_PARADOX,
    S_PEAK,
    S_POST,
    S_PRE,
    S_PUSHES,
    S_PUSHES_JUDGED,
    S_PUSHES_OK,
    S_RELAX,
    S_REPS,
    S_RETURNED,
    S_RQUAL,
    S_TARGET,
    S_TENSION,
    S_TONE,
)
from pacer.tone import RestTone
from pacer.verdict import grade
from pacer.watch import Watch

IDLE = const(0)
RUNNING = const(1)
PAUSED = const(2)
DONE = const(3)
STATE_NAMES = ("idle", "running", "paused", "done")
ABSENT = const(-1000000)

_MAX_DT_MS = const(200)
_REST_SETTLE_MS = const(1500)
_BASELINE_SETTLE_MS = const(1000)
_RANGE_CLEAR_MS = const(1000)
_DELAY = const(2)

class Engine:
    # The cue levels are the cue's own (eng.cue.led, .rgb, .motor). No properties here: on
    # MicroPython a class with one makes every attribute store on its instances search the
    # class first, and a tick stores dozens.
    def __init__(self, timeline, settings, stored_mvc_cp=0):
        self.tl = timeline
        self.s = settings
        self.q = ev.EventQueue()
        self.filt = PressureFilter()
        self.abd_filt = PressureFilter()
        self.guard = CoughGuard(settings.cough_rise_cp)
        self.base = Baseline(settings.leak_limit_cp)
        self.tone = RestTone(self.base)
        self.cal = Calibration(settings.default_mvc_cp, stored_mvc_cp)
        self.scorer = RepScorer(settings)
        self.drops = DropScorer(settings)
        self.rest = RestLevel()
        self.breath = BreathRef()
        self.watch = Watch(settings, self.q)
        self.cue = Cue(settings)
        self.summary = array("i", [0] * N_FIELDS)
        # a program without contractions is down-training: tension is judged from tension_min
        self.downtraining = True
        for i in range(timeline.n):
            if is_contraction(timeline.muscle[i]):
                self.downtraining = False
        self._shares()
        self._clear_totals()
        self.state = IDLE
        self.in_raw = 0       # this tick's readings, for the body (tick())
        self.in_abd = ABSENT
        self.step = -1
        self.p = 0
        self.abd = 0
        self.target = 0
        self.reached = False
        self.fault_kind = 0

    def _clear_totals(self):
        """Running totals for the summary, by name."""
        self.n_reps = 0
        self.n_achieved = 0
        self.n_flicks = 0
        self.rise_sum = 0
        self.held_sum = 0
        self.relax_sum = 0
        self.n_relaxed = 0
        self.n_not_relaxed = 0
        self.n_bearing = 0
        self.watch_ticks = 0
        self.watch_relaxed = 0
        self.n_drops = 0
        self.n_drops_ok = 0
        self.drop_sum = 0
        self.n_drop_measured = 0
        self.n_paradox = 0
        self.n_pushes = 0
        self.n_pushes_judged = 0
        self.n_pushes_ok = 0

    # ---- control -------------------------------------------------------------------------
    def start(self):
        """Start at t = 0; the first tick should come at t = 0."""
        self.q.clear()
        self.filt.reset()
        self.abd_filt.reset()
        self.guard.reset()
        self.base.reset(0)
        self.watch.reset()
        self.tone.reset()
        self.rest.clear()
        self.breath.reset()
        for i in range(N_FIELDS):
            self.summary[i] = 0
        self._clear_totals()
        self.paused_ms = 0
        self.pause_t = 0
        self.step = -1
        self.range_fault = False
        self.range_ok_since = -1
        self.range_hits = 0
        self.pre_sum = 0
        self.pre_rel = 0      # the same, relative to the tracked baseline (warm-up taken out)
        self.pre_n = 0
        self.post_sum = 0
        self.post_rel = 0
        self.post_n = 0
        self.baseline_steps = 0
        self.has_abd = False
        self.fault_kind = 0
        self.faults = 0
        self.mvc_peak = 0
        self.mvc_clean = True
        self.reached = False
        self.abd_ref = 0
        self.br_step = -1
        self.summary[S_FATIGUE] = ev.NONE
        self.state = RUNNING
        self.target = self._target()
        body = self._body()
        self.resume_body = body.send
        body.send(None)  # to its first yield

    def pause(self, t):
        if self.state == RUNNING:
            self.state = PAUSED
            self.pause_t = t
            self._state_event(t, PAUSED)

    def resume(self, t):
        if self.state == PAUSED:
            self.paused_ms += t - self.pause_t
            self.state = RUNNING
            self._state_event(t, RUNNING)

    def stop(self, t):
        if self.state == RUNNING or self.state == PAUSED:
            if self.state == PAUSED:
                self.paused_ms += t - self.pause_t
            self._finish(t, False)

    @native
    def sensor_fault(self, t, kind):
        """The shell reports a typed sensor fault (events.FAULT_*); 0 clears it."""
        if kind == self.fault_kind:
            return
        if kind:
            self.faults += 1
            self.mvc_clean = False  # a peak seen around a sensor fault is no clean maximum
            self.cue.trigger(PAT_FAULT, t)
            self._fault_event(t, kind, 1)
        else:
            self._fault_event(t, self.fault_kind, 0)
        self.fault_kind = kind

    # ---- tick ----------------------------------------------------------------------------
    @native
    def tick(self, t, raw, abd=ABSENT):
        st = self.state
        if st != RUNNING and st != PAUSED:
            if st == DONE:
                self.cue.done(t)
            return
        self.in_raw = raw
        self.in_abd = abd
        self.resume_body(t)

    @native
    def _body(self):
        """tick()'s work, resumed once per tick (start() makes it). A generator, because on the
        chip a function whose locals and stack take more than 11 words gets its frame from the
        heap on every call (py/objfun.c, VM_MAX_STATE_ON_STACK), which cost 50-90 us a tick in a
        fragmented heap; a generator's frame is made once. Its locals also hold the engine's
        parts and their bound methods for the session, so a tick looks none of them up (each
        look-up is a hash probe, a call through an instance two), and the state only ticks use
        (the delay line, the time of the last tick). What other methods read or set stays on
        self."""
        s = self.s
        max_cp = s.sensor_max_cp
        grace_ms = s.release_grace_ms
        pf = self.filt
        pf_update = pf.update
        af = self.abd_filt
        af_update = af.update
        g = self.guard
        guard = g.update
        rest_feed = self.rest.feed
        bl = self.base
        bl_update = bl.update
        sc = self.scorer
        drops = self.drops
        br = self.breath
        w = self.watch
        tone = self.tone
        tone_update = tone.update
        cue = self.cue
        tl = self.tl
        n_steps = tl.n
        starts = tl.start_ms
        total_ms = tl.total_ms
        last_t = 0
        # scoring sees the signal _DELAY samples late (the leading edge of a cough, before the
        # guard can recognise it, is masked too): a shift register of two (t, p, abd) stages
        t1 = p1 = a1 = t2 = p2 = a2 = 0
        filled = 0      # stages holding a sample
        seen = 0        # ticks a cough still masks the delayed samples
        abd_ref_set = False
        # what the step fixes, read by every tick of it (set when one starts)
        muscle = M_REST
        st_start = st_dur = settle = 0
        contraction = relaxing = baseline_step = mvc_step = False
        # imported constants (not folded by the compiler as a module's own const() are), bound
        # once: a global is a hash look-up on every use
        m_rest = M_REST
        m_release = M_RELEASE
        stage_idle = STAGE_IDLE
        stage_relax = STAGE_RELAX
        drop_idle = DROP_IDLE
        pat_none = PAT_NONE
        while True:
            t = yield
            raw = self.in_raw
            abd = self.in_abd
            dt = t - last_t
            if dt < 0:
                dt = 0
            elif dt > _MAX_DT_MS:
                dt = _MAX_DT_MS
            last_t = t
            pf.t = t
            p = pf_update(raw)
            self.p = p
            has_abd = abd != ABSENT
            if has_abd:
                if not self.has_abd:
                    self.has_abd = True
                af.t = t
                abd = af_update(abd)
                self.abd = abd
            g.t = t
            g.abd = abd
            g.has_abd = has_abd
            cough = guard(p)
            if cough or self.range_fault or raw >= max_cp:
                self._check_range(t, raw, cough)
            elif self.range_hits:
                self.range_hits = 0  # all _check_range does for an in-range sample
            faulted = self.fault_kind != 0 or self.range_fault
            if self.state == PAUSED:
                cue.paused(t)
                continue
            pt = t - self.paused_ms
            i = self.step
            while i + 1 < n_steps and pt >= starts[i + 1]:
                i += 1
                self._enter(i)
                muscle = tl.muscle[i]
                st_start = starts[i]
                st_dur = tl.dur_ms[i]
                contraction = is_contraction(muscle)
                relaxing = is_relaxing(muscle)
                baseline_step = tl.role[i] == R_BASELINE
                mvc_step = tl.role[i] == R_MVC
                settle = _BASELINE_SETTLE_MS if baseline_step else _REST_SETTLE_MS
            if pt >= total_ms:
                self._finish(t, True)
                continue
            pos = pt - st_start
            base = bl.value
            band = self.relax_band
            clean = not cough and not faulted
            # the baseline follows rest, and a release once the rep's relaxation is confirmed
            rest = clean and (muscle == m_rest or muscle == m_release) and (
                pos >= settle
                or (muscle == m_release and sc.stage == stage_relax and sc.relax >= 0))
            # the local resting level a drop is judged against: rest, or a release once any rep
            # before it has relaxed (never the residual tension of a squeeze not yet let go)
            if clean and (muscle == m_rest or (muscle == m_release and (
                    sc.stage != stage_relax or sc.relax >= 0))):
                rest_feed(t, p, abd if has_abd else 0)
            # the pressure with the breath taken out (two channels, once k is learnt), for
            # tension. The baseline and the rest tone follow the pressure itself: the same signal
            # for both, so the warm-up the baseline followed is the warm-up in the tone's first
            # minute
            k = br.k1000 if has_abd else -1
            if k >= 0:
                calm = p - (abd - self.abd_ref) * k // 1000
                line = 0
            else:
                calm = p
                line = br.allowance
            z = bl_update(t, p, rest, band)
            if z == 1:
                self.target = self._target()
                if has_abd and self.rest.ready():
                    self.abd_ref = self.rest.abdominal()
                    abd_ref_set = True
                self._zero_event(t)
            elif z == 2:
                self.faults += 1
                self._fault_event(t, ev.FAULT_LEAK, 1)
            if has_abd and not abd_ref_set:
                self.abd_ref = abd
            old_t = t2
            old_p = p2
            old_a = a2
            t2 = t1
            p2 = p1
            a2 = a1
            t1 = pt
            p1 = p
            a1 = abd
            if cough:
                seen = _DELAY + 1
            elif seen:
                seen -= 1
            if filled < _DELAY:
                filled += 1
            else:
                masked = seen > 0
                if sc.stage != stage_idle:  # an idle scorer takes nothing
                    sc.update(old_t, dt, old_p, old_a, has_abd, masked, faulted, bl.value)
                if drops.stage != drop_idle:
                    if drops.update(old_t, dt, old_p, old_a, masked, faulted):
                        if cue.pat == pat_none:
                            cue.trigger(PAT_DROPPED, old_t + self.paused_ms)
                if br.on:
                    br.update(old_t - br.t0, old_p, old_a, masked or faulted)
                if mvc_step and not masked and old_p > self.mvc_peak:
                    self.mvc_peak = old_p
            target = self.target
            reached = p >= target and contraction and clean
            if reached != self.reached:
                # never cut a transition pattern short: on an LED-only board the squeeze buzz is
                # the cue itself, and a tense start would otherwise shrink it to a 40 ms tick
                if reached and cue.pat == pat_none:
                    cue.trigger(PAT_REACHED, t)
                self.reached = reached
            watching = relaxing and bl.zeroed and pos >= grace_ms
            line += base + self.tension_rise
            fired = w.count_tension
            w.dt = dt
            w.p = p
            w.calm = calm
            w.line = line
            w.watching = watching
            w.above = contraction and p >= target and not faulted
            w.cough = cough
            w.update(t)
            if w.count_tension != fired:
                cue.trigger(PAT_TENSION, t)
            # the session's running totals
            if baseline_step and pos * 2 >= st_dur:
                if self.baseline_steps == 0:
                    self.pre_sum += p
                    self.pre_rel += p - bl.value
                    self.pre_n += 1
                else:
                    self.post_sum += p
                    self.post_rel += p - bl.value
                    self.post_n += 1
            if watching:
                self.watch_ticks += 1
                if p <= base + band:
                    self.watch_relaxed += 1
            if clean and muscle == m_rest and bl.zeroed:
                tone.dt = dt
                tone_update(p)
            if faulted:
                cue.fault(t)
            else:
                cue.running(t, pos, reached, w.tension_active)

    # ---- steps ---------------------------------------------------------------------------
    def _enter(self, i):
        tl = self.tl
        t = tl.start_ms[i] + self.paused_ms
        ps = tl.start_ms[i]
        prev = self.step
        m = tl.muscle[i]
        sc = self.scorer
        if prev >= 0:
            self._leave(prev, t)
        # a rep is reported when its relax step ends, before the next phase is announced
        if sc.stage == STAGE_RELAX or (sc.stage == STAGE_HOLD and not is_relaxing(m)):
            self._finish_rep(t)
        # a drop likewise when the step after it ends (or at once when another drop begins)
        dr = self.drops
        if dr.stage != DROP_IDLE:
            if dr.stage == DROP_ACTIVE and not is_letgo(m):
                dr.step_over()
            else:
                self._finish_drop(t)
        self.step = i
        self.watch.step = i
        off = self.q.push(ev.PHASE, t)
        b = self.q.buf
        b[off + 2] = i
        b[off + 3] = tl.breath[i]
        b[off + 4] = m
        b[off + 5] = tl.role[i]
        b[off + 6] = tl.dur_ms[i]
        pm = tl.muscle[prev] if prev >= 0 else M_REST
        pb = tl.breath[prev] if prev >= 0 else 0
        self.cue.step(t, tl.breath[i], m, pm, pb, tl.dur_ms[i])
        has_rest = self.rest.ready()
        if is_contraction(m):
            self.target = self._target()
            flags = 0
            if self.cal.source == 0:
                flags |= ev.F_UNCALIBRATED
            if not self.base.zeroed:
                flags |= ev.F_UNSETTLED
            sc.begin(ps, i, m, tl.dur_ms[i], self.target, self.base.value, flags, self.abd)
        elif sc.stage == STAGE_HOLD:
            sc.begin_relax(ps, tl.dur_ms[i], self.relax_band)
        if is_letgo(m):
            flags = 0
            if self.cal.source == 0:
                flags |= ev.F_UNCALIBRATED
            if not self.base.zeroed or not has_rest:
                flags |= ev.F_UNSETTLED
            rp = self.rest.pelvic() if has_rest else self.base.value
            ra = self.rest.abdominal() if has_rest else self.abd
            dr.begin(ps, i, m, tl.breath[i], tl.dur_ms[i], rp, ra, flags, self.breath.k1000,
                     self.breath.allowance, self.has_abd, self.abd_ref, self.base.warmed())
        br = self.breath
        if br.pending and prev != self.br_step:
            # the breath out after a learnt inhale has ended: the rest after it closes the breath
            if tl.muscle[prev] == M_REST and prev == self.br_step + 1 and has_rest:
                br.close(ps, self.rest.pelvic(), self.rest.abdominal())
            else:
                br.cancel()
        if m == M_REST and tl.breath[i] == B_INHALE and tl.role[i] == 0 and has_rest:
            # a paced breath at rest: learn what it does to the probe
            self.br_step = i
            br.begin(ps, self.rest.pelvic(), self.rest.abdominal(), tl.dur_ms[i])
        if not is_relaxing(m) or m == M_PUSH:
            self.rest.clear()
        if tl.role[i] == R_BASELINE and self.baseline_steps:
            self.post_sum = 0
            self.post_rel = 0
            self.post_n = 0
        if tl.role[i] == R_MVC:
            self.mvc_peak = self.base.value
            self.mvc_clean = True

    def _leave(self, i, t):
        tl = self.tl
        if self.breath.on:
            self.breath.end()
        if tl.role[i] == R_MVC:
            if self.mvc_clean and not self.range_fault and not self.fault_kind:
                self.cal.offer(self.mvc_peak - self.base.value)
            if self.cal.adopt():
                self._shares()
                self.target = self._target()
                off = self.q.push(ev.CALIB, t)
                self.q.buf[off + 2] = self.base.value
                self.q.buf[off + 3] = self.cal.mvc
                self.q.buf[off + 4] = self.cal.source
        if tl.role[i] == R_BASELINE:
            self.baseline_steps += 1
            if self.baseline_steps == 1 and not self.base.zeroed:
                self.faults += 1
                self._fault_event(t, ev.FAULT_UNSETTLED, 1)

    def _finish_rep(self, t):
        sc = self.scorer
        if sc.stage == STAGE_IDLE:
            return
        sc.finish(self.q, t, self.has_abd)
        self.n_reps += 1
        if sc.achieved:
            self.n_achieved += 1
            if sc.muscle == M_FLICK:
                self.n_flicks += 1
        self.rise_sum += sc.peak - sc.baseline
        self.held_sum += sc.held_scored
        if sc.relax >= 0:
            self.relax_sum += sc.relax
            self.n_relaxed += 1
        else:
            self.n_not_relaxed += 1
        if sc.final_flags & ev.F_BEARING_DOWN:
            self.n_bearing += 1
        if sc.fatigue != ev.NONE:
            self.summary[S_FATIGUE] = sc.fatigue

    def _finish_drop(self, t):
        dr = self.drops
        if dr.stage == DROP_IDLE:
            return
        dr.finish(self.q, t)
        if dr.muscle == M_PUSH:
            self.n_pushes += 1
            if dr.pattern:
                self.n_pushes_judged += 1
            if dr.pattern == PAT_COORDINATED:
                self.n_pushes_ok += 1
        else:
            self.n_drops += 1
            if dr.achieved:
                self.n_drops_ok += 1
            if dr.drop != ev.NONE:
                self.drop_sum += dr.drop
                self.n_drop_measured += 1
        if dr.flags & ev.F_PARADOXICAL:
            self.n_paradox += 1

    def _shares(self):
        """What the MVC in use sets, kept until it changes (an MVC step's end): the band above
        the baseline that counts as relaxed, and the rise above it that is tension."""
        s = self.s
        cal = self.cal
        self.relax_band = cal.share(s.relax_pct, s.relax_min_cp)
        self.tension_rise = (s.tension_min_cp if self.downtraining
                             else cal.share(s.tension_pct, s.tension_min_cp))

    def _target(self):
        return self.base.value + self.cal.share(self.s.target_pct, 0)

    # ---- bookkeeping ---------------------------------------------------------------------
    @native
    def _check_range(self, t, raw, cough):
        if cough:
            # a cough can pin the sensor for a moment: that is part of the artifact (its samples
            # are masked from scoring anyway), not a sensor fault
            self.range_hits = 0
            return
        if raw >= self.s.sensor_max_cp:
            self.range_ok_since = -1
            self.range_hits += 1
            # one sample at the rail is a spike; two in a row is the sensor clipping
            if self.range_hits < 2:
                return
            if not self.range_fault:
                self.range_fault = True
                self.faults += 1
                self._fault_event(t, ev.FAULT_OVER_RANGE, 1)
            if self.scorer.stage != STAGE_IDLE:
                self.scorer.flags |= ev.F_CLIPPED
            self.mvc_clean = False
            return
        self.range_hits = 0
        if self.range_fault:
            if self.range_ok_since < 0:
                self.range_ok_since = t
            elif t - self.range_ok_since >= _RANGE_CLEAR_MS:
                self.range_fault = False
                self._fault_event(t, ev.FAULT_OVER_RANGE, 0)

    def _finish(self, t, completed):
        self._finish_rep(t)
        self._finish_drop(t)
        if self.step >= 0:
            self._leave(self.step, t)
        sm = self.summary
        n = self.n_reps
        sm[S_DURATION] = t
        sm[S_COMPLETED] = 1 if completed else 0
        sm[S_REPS] = n
        sm[S_ACHIEVED] = self.n_achieved
        sm[S_FLICKS] = self.n_flicks
        sm[S_PEAK] = self.rise_sum // n if n else ev.NONE
        sm[S_HELD] = self.held_sum // n if n else ev.NONE
        sm[S_RELAX] = self.relax_sum // self.n_relaxed if self.n_relaxed else ev.NONE
        sm[S_NORELAX] = self.n_not_relaxed
        sm[S_BEAR] = self.n_bearing
        sm[S_COUGHS] = self.guard.events
        sm[S_TENSION] = self.watch.count_tension
        sm[S_OVER] = self.watch.count_over
        sm[S_OVERHOLD] = self.watch.count_hold
        sm[S_BASELINE] = self.base.value
        sm[S_PRE] = self.pre_sum // self.pre_n if self.pre_n else ev.NONE
        sm[S_POST] = self.post_sum // self.post_n if self.post_n else ev.NONE
        if self.pre_n and self.post_n:
            band = self.relax_band
            # against the tracked baseline: the probe's own warm-up between the two baselines is
            # not the person's tone (the baseline follows it while settling, never a climb after)
            rise = self.post_rel // self.post_n - self.pre_rel // self.pre_n
            sm[S_RETURNED] = 1 if rise <= band else 0
        else:
            sm[S_RETURNED] = ev.NONE
        sm[S_RQUAL] = (self.watch_relaxed * 100 // self.watch_ticks if self.watch_ticks
                       else ev.NONE)
        sm[S_MVC] = self.cal.mvc
        sm[S_MVCSRC] = self.cal.source
        sm[S_TARGET] = self.target
        sm[S_DRIFT] = self.base.drift()
        sm[S_LEAK] = 1 if self.base.leak else 0
        sm[S_FAULTS] = self.faults
        sm[S_DROPS] = self.n_drops
        sm[S_DROPS_OK] = self.n_drops_ok
        sm[S_DROP_MEAN] = (self.drop_sum // self.n_drop_measured if self.n_drop_measured
                           else ev.NONE)
        sm[S_PARADOX] = self.n_paradox
        sm[S_PUSHES] = self.n_pushes
        sm[S_PUSHES_JUDGED] = self.n_pushes_judged
        sm[S_PUSHES_OK] = self.n_pushes_ok
        sm[S_TONE] = self.tone.change()
        sm[S_GRADE] = grade(sm, self.downtraining)
        self.state = DONE
        self.q.push(ev.SUMMARY, t)
        self.cue.trigger(PAT_DONE, t)
        self.cue.done(t)

    def _fault_event(self, t, kind, on):
        off = self.q.push(ev.FAULT, t)
        self.q.buf[off + 2] = kind
        self.q.buf[off + 3] = on

    def _state_event(self, t, state):
        off = self.q.push(ev.STATE, t)
        self.q.buf[off + 2] = state

    def _zero_event(self, t):
        off = self.q.push(ev.ZERO, t)
        self.q.buf[off + 2] = self.base.value
