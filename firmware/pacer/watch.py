"""Live safety and relaxation watch: tension episodes while relaxing, over-pressure, over-hold.

Tension is judged on a slow mean of the (breath-corrected) pressure, so breathing and noise do not
make episodes. An episode is told once, by a gentle nudge, when the level has stayed above the
tension line for `tension_s`; it is re-armed only after the level has been back below the line by
a margin for REARM_MS, whatever the program does meanwhile, so a person who stays tense is told,
not nagged at every breath or step. Over-pressure and over-hold fire once and re-arm when their
condition clears; over-hold is about squeezes only, so a relax phase never raises it.
"""
from pacer import events as ev
from pacer._compat import const

_OVERPRESSURE_MS = const(300)
_TAU_MS = const(1500)     # the slow mean: a breath at 6/min still swings it, a tense minute not
_MARGIN_CP = const(100)   # back 1 cmH2O under the line ...
REARM_MS = const(2000)    # ... for 2 s ends an episode


class Watch:
    def __init__(self, settings):
        self.s = settings
        self.reset()

    def reset(self):
        self.level = 0
        self.primed = False
        self.tense_since = -1
        self.armed = True
        self.low_since = -1
        self.tension_active = False
        self.over_since = -1
        self.over_fired = False
        self.hold_since = -1
        self.hold_fired = False
        self.count_tension = 0
        self.count_over = 0
        self.count_hold = 0

    def update(self, q, t, dt, p, calm, watching, tension_level, above_target, cough, step):
        """p: the pressure; calm: the same with the breath taken out (for tension); watching: a
        relaxing step past its grace time with a known baseline; above_target: a contraction
        step held above its target."""
        s = self.s
        if not cough:
            # kept x64 so that the integer low-pass has no dead band
            if not self.primed:
                self.level = calm << 6
                self.primed = True
            else:
                self.level += ((calm << 6) - self.level) * dt // (_TAU_MS + dt)
        lvl = self.level >> 6
        if watching and lvl > tension_level and not cough:
            if self.tense_since < 0:
                self.tense_since = t
            elif self.armed and t - self.tense_since >= s.tension_ms:
                self.armed = False
                self.count_tension += 1
                self._emit(q, t, ev.ALARM_TENSION, p, step)
        else:
            self.tense_since = -1
        if not self.armed:
            if watching and lvl < tension_level - _MARGIN_CP:
                if self.low_since < 0:
                    self.low_since = t
                elif t - self.low_since >= REARM_MS:
                    self.armed = True
            else:
                self.low_since = -1
        self.tension_active = watching and not self.armed and self.low_since < 0
        if p >= s.overpressure_cp:
            if self.over_since < 0:
                self.over_since = t
            elif not self.over_fired and t - self.over_since >= _OVERPRESSURE_MS:
                self.over_fired = True
                self.count_over += 1
                self._emit(q, t, ev.ALARM_OVERPRESSURE, p, step)
        elif p < s.overpressure_cp * 9 // 10:
            self.over_since = -1
            self.over_fired = False
        if above_target and not cough:
            if self.hold_since < 0:
                self.hold_since = t
            elif not self.hold_fired and t - self.hold_since >= s.max_hold_ms:
                self.hold_fired = True
                self.count_hold += 1
                self._emit(q, t, ev.ALARM_OVERHOLD, p, step)
        elif not above_target:
            self.hold_since = -1
            self.hold_fired = False

    def _emit(self, q, t, kind, p, step):
        off = q.push(ev.ALARM, t)
        q.buf[off + 2] = kind
        q.buf[off + 3] = p
        q.buf[off + 4] = step
