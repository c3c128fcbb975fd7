"""The exercise engine: time and pressure in, cue levels and events out.

Pure and deterministic: no machine, files or clock. The caller passes t as ms since the program
started (the board shell accumulates ticks_diff, so tick-counter wrap never reaches here) and the
pressure in cp. Steps start at absolute times (program start + step start + time spent paused), so
the schedule has no cumulative drift whatever the tick rate or jitter. In steady state a tick
allocates nothing: state is ints and preallocated arrays, events go to a ring of ints.
"""
from array import array

from pacer import events as ev
from pacer._compat import const
from pacer.artifact import CoughGuard
from pacer.baseline import Baseline
from pacer.cue import PAT_DONE, PAT_FAULT, PAT_NONE, PAT_REACHED, PAT_TENSION, Cue
from pacer.mvc import Calibration
from pacer.pressure import PressureFilter
from pacer.program import (
    M_FLICK,
    M_RELEASE,
    M_REST,
    R_BASELINE,
    R_MVC,
    is_contraction,
    is_relaxing,
    is_rep,
)
from pacer.rep import HOLD as STAGE_HOLD
from pacer.rep import IDLE as STAGE_IDLE
from pacer.rep import RELAX as STAGE_RELAX
from pacer.rep import RepScorer
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

# summary fields, in output order
SUMMARY_FIELDS = (
    "duration_ms", "completed", "reps", "reps_achieved", "flicks_achieved", "mean_rise_cp",
    "mean_held_ms", "mean_relax_ms", "reps_not_relaxed", "bearing_down", "coughs",
    "tension_alarms", "overpressure_alarms", "overhold_alarms", "baseline_cp", "pre_baseline_cp",
    "post_baseline_cp", "returned_to_rest", "relax_quality_pct", "fatigue_cp_per_min", "mvc_cp",
    "mvc_source", "target_cp", "drift_cp", "leak", "faults")
(S_DURATION, S_COMPLETED, S_REPS, S_ACHIEVED, S_FLICKS, S_PEAK, S_HELD, S_RELAX, S_NORELAX,
 S_BEAR, S_COUGHS, S_TENSION, S_OVER, S_OVERHOLD, S_BASELINE, S_PRE, S_POST, S_RETURNED,
 S_RQUAL, S_FATIGUE, S_MVC, S_MVCSRC, S_TARGET, S_DRIFT, S_LEAK, S_FAULTS) = range(26)
_N_SUM = const(26)


class Engine:
    def __init__(self, timeline, settings, stored_mvc_cp=0):
        self.tl = timeline
        self.s = settings
        self.q = ev.EventQueue()
        self.filt = PressureFilter()
        self.abd_filt = PressureFilter()
        self.guard = CoughGuard(settings.cough_rise_cp)
        self.base = Baseline(settings.leak_limit_cp)
        self.cal = Calibration(settings.default_mvc_cp, stored_mvc_cp)
        self.scorer = RepScorer(settings)
        self.watch = Watch(settings)
        self.cue = Cue(settings)
        self.summary = array("i", [0] * _N_SUM)
        # scoring sees the signal _DELAY samples late, so the leading edge of a cough (before the
        # guard can recognise it) is masked too
        self.dl = array("i", [0] * (3 * _DELAY))
        # running sums for the summary
        self.acc = array("i", [0] * 12)
        self.state = IDLE
        self.step = -1
        self.p = 0
        self.abd = 0
        self.target = 0
        self.reached = False
        self.fault_kind = 0

    @property
    def led(self):
        return self.cue.led

    @property
    def rgb(self):
        return self.cue.rgb

    @property
    def motor(self):
        return self.cue.motor

    # ---- control -------------------------------------------------------------------------
    def start(self):
        """Start at t = 0; the first tick should come at t = 0."""
        self.q.clear()
        self.filt.reset()
        self.abd_filt.reset()
        self.guard.reset()
        self.base.reset(0)
        self.watch.reset()
        for i in range(_N_SUM):
            self.summary[i] = 0
        for i in range(len(self.acc)):
            self.acc[i] = 0
        self.paused_ms = 0
        self.pause_t = 0
        self.last_t = 0
        self.step = -1
        self.range_fault = False
        self.range_ok_since = -1
        self.range_hits = 0
        self.pre_sum = 0
        self.pre_n = 0
        self.post_sum = 0
        self.post_n = 0
        self.baseline_steps = 0
        self.has_abd = False
        self.fault_kind = 0
        self.faults = 0
        self.mvc_peak = 0
        self.mvc_clean = True
        self.reached = False
        self.dl_n = 0
        self.dl_i = 0
        self.cough_seen = 0
        self.summary[S_FATIGUE] = ev.NONE
        self.state = RUNNING
        self.target = self._target()

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
    def tick(self, t, raw, abd=ABSENT):
        if self.state != RUNNING and self.state != PAUSED:
            if self.state == DONE:
                self.cue.done(t)
            return
        dt = t - self.last_t
        if dt < 0:
            dt = 0
        elif dt > _MAX_DT_MS:
            dt = _MAX_DT_MS
        self.last_t = t
        s = self.s
        p = self.filt.update(t, raw)
        self.p = p
        has_abd = abd != ABSENT
        if has_abd:
            self.has_abd = True
            abd = self.abd_filt.update(t, abd)
            self.abd = abd
        cough = self.guard.update(t, p, abd, has_abd)
        self._check_range(t, raw)
        faulted = self.fault_kind != 0 or self.range_fault
        if self.state == PAUSED:
            self.cue.paused(t)
            return
        pt = t - self.paused_ms
        tl = self.tl
        while self.step + 1 < tl.n and pt >= tl.start_ms[self.step + 1]:
            self._enter(self.step + 1)
        if pt >= tl.total_ms:
            self._finish(t, True)
            return
        i = self.step
        muscle = tl.muscle[i]
        pos = pt - tl.start_ms[i]
        base = self.base.value
        band = self.cal.share(s.relax_pct, s.relax_min_cp)
        relax_step = muscle == M_REST or muscle == M_RELEASE
        rest = relax_step and not cough and not faulted and (
            pos >= (_BASELINE_SETTLE_MS if tl.role[i] == R_BASELINE else _REST_SETTLE_MS))
        z = self.base.update(t, p, rest, band)
        if z == 1:
            self.target = self._target()
            self._zero_event(t)
        elif z == 2:
            self.faults += 1
            self._fault_event(t, ev.FAULT_LEAK, 1)
        self._score(pt, dt, p, abd, has_abd, cough, faulted)
        reached = p >= self.target and is_contraction(muscle) and not cough and not faulted
        if reached and not self.reached and self.cue.pat == PAT_NONE:
            # never cut a transition pattern short: on an LED-only board the squeeze buzz is
            # the cue itself, and a tense start would otherwise shrink it to a 40 ms tick
            self.cue.trigger(PAT_REACHED, t)
        self.reached = reached
        watching = (is_relaxing(muscle) and self.base.zeroed and pos >= s.release_grace_ms)
        tension_level = base + self.cal.share(s.tension_pct, s.tension_min_cp)
        fired = self.watch.count_tension
        self.watch.update(self.q, t, p, watching, tension_level, p >= self.target and not faulted,
                          cough, i)
        if self.watch.count_tension != fired:
            self.cue.trigger(PAT_TENSION, t)
        self._accumulate(i, pos, p, base + band, watching)
        if faulted:
            self.cue.fault(t)
        else:
            self.cue.running(t, tl.breath[i], muscle, pos, tl.dur_ms[i], reached,
                             self.watch.tension_active)

    def _score(self, pt, dt, p, abd, has_abd, cough, faulted):
        dl = self.dl
        k = self.dl_i * 3
        old_t = dl[k]
        old_p = dl[k + 1]
        old_a = dl[k + 2]
        dl[k] = pt
        dl[k + 1] = p
        dl[k + 2] = abd
        self.dl_i = (self.dl_i + 1) % _DELAY
        if cough:
            self.cough_seen = _DELAY + 1
        elif self.cough_seen:
            self.cough_seen -= 1
        if self.dl_n < _DELAY:
            self.dl_n += 1
            return
        masked = self.cough_seen > 0
        self.scorer.update(old_t, dt, old_p, old_a, has_abd, masked, faulted)
        if self.tl.role[self.step] == R_MVC and not masked and old_p > self.mvc_peak:
            self.mvc_peak = old_p

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
        self.step = i
        off = self.q.push(ev.PHASE, t)
        b = self.q.buf
        b[off + 2] = i
        b[off + 3] = tl.breath[i]
        b[off + 4] = m
        b[off + 5] = tl.role[i]
        b[off + 6] = tl.dur_ms[i]
        self.watch.new_step()
        pm = tl.muscle[prev] if prev >= 0 else M_REST
        pb = tl.breath[prev] if prev >= 0 else 0
        pat = self.cue.step_pattern(tl.breath[i], m, pm, pb)
        if pat:
            self.cue.trigger(pat, t)
        if is_rep(m):
            self.target = self._target()
            flags = 0
            if self.cal.source == 0:
                flags |= ev.F_UNCALIBRATED
            if not self.base.zeroed:
                flags |= ev.F_UNSETTLED
            sc.begin(ps, i, m, tl.dur_ms[i], self.target, self.base.value, flags, self.abd)
        elif sc.stage == STAGE_HOLD:
            sc.begin_relax(ps, tl.dur_ms[i], self.cal.share(self.s.relax_pct, self.s.relax_min_cp))
        if tl.role[i] == R_BASELINE and self.baseline_steps:
            self.post_sum = 0
            self.post_n = 0
        if tl.role[i] == R_MVC:
            self.mvc_peak = self.base.value
            self.mvc_clean = True

    def _leave(self, i, t):
        tl = self.tl
        if tl.role[i] == R_MVC:
            if self.mvc_clean and not self.range_fault and not self.fault_kind:
                self.cal.offer(self.mvc_peak - self.base.value)
            if self.cal.adopt():
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
        has_abd = self.has_abd
        sc.finish(self.q, t, has_abd)
        a = self.acc
        a[0] += 1
        if sc.achieved:
            a[1] += 1
            if sc.muscle == M_FLICK:
                a[2] += 1
        a[3] += sc.peak - sc.baseline
        a[4] += sc.held
        if sc.relax >= 0:
            a[5] += sc.relax
            a[6] += 1
        else:
            a[7] += 1
        if sc.final_flags & ev.F_BEARING_DOWN:
            a[8] += 1
        if sc.fatigue != ev.NONE:
            self.summary[S_FATIGUE] = sc.fatigue

    def _target(self):
        return self.base.value + self.cal.share(self.s.target_pct, 0)

    # ---- bookkeeping ---------------------------------------------------------------------
    def _check_range(self, t, raw):
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

    def _accumulate(self, i, pos, p, relaxed_level, watching):
        tl = self.tl
        if tl.role[i] == R_BASELINE and pos * 2 >= tl.dur_ms[i]:
            if self.baseline_steps == 0:
                self.pre_sum += p
                self.pre_n += 1
            else:
                self.post_sum += p
                self.post_n += 1
        if watching:
            a = self.acc
            a[9] += 1
            if p <= relaxed_level:
                a[10] += 1

    def _finish(self, t, completed):
        self._finish_rep(t)
        if self.step >= 0:
            self._leave(self.step, t)
        sm = self.summary
        a = self.acc
        sm[S_DURATION] = t
        sm[S_COMPLETED] = 1 if completed else 0
        sm[S_REPS] = a[0]
        sm[S_ACHIEVED] = a[1]
        sm[S_FLICKS] = a[2]
        sm[S_PEAK] = a[3] // a[0] if a[0] else ev.NONE
        sm[S_HELD] = a[4] // a[0] if a[0] else ev.NONE
        sm[S_RELAX] = a[5] // a[6] if a[6] else ev.NONE
        sm[S_NORELAX] = a[7]
        sm[S_BEAR] = a[8]
        sm[S_COUGHS] = self.guard.events
        sm[S_TENSION] = self.watch.count_tension
        sm[S_OVER] = self.watch.count_over
        sm[S_OVERHOLD] = self.watch.count_hold
        sm[S_BASELINE] = self.base.value
        sm[S_PRE] = self.pre_sum // self.pre_n if self.pre_n else ev.NONE
        sm[S_POST] = self.post_sum // self.post_n if self.post_n else ev.NONE
        if self.pre_n and self.post_n:
            band = self.cal.share(self.s.relax_pct, self.s.relax_min_cp)
            sm[S_RETURNED] = 1 if sm[S_POST] - sm[S_PRE] <= band else 0
        else:
            sm[S_RETURNED] = ev.NONE
        sm[S_RQUAL] = a[10] * 100 // a[9] if a[9] else ev.NONE
        sm[S_MVC] = self.cal.mvc
        sm[S_MVCSRC] = self.cal.source
        sm[S_TARGET] = self.target
        sm[S_DRIFT] = self.base.drift()
        sm[S_LEAK] = 1 if self.base.leak else 0
        sm[S_FAULTS] = self.faults
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
