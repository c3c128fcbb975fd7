"""Live safety and relaxation watch: tension in a relax phase, over-pressure, over-hold.

Each alarm fires once when its condition has lasted long enough and re-arms only after the
condition has cleared, so a person who stays tense is told, not nagged every tick.
"""
from pacer import events as ev
from pacer._compat import const

_OVERPRESSURE_MS = const(300)


class Watch:
    def __init__(self, settings):
        self.s = settings
        self.reset()

    def reset(self):
        self.tense_since = -1
        self.tense_fired = False
        self.over_since = -1
        self.over_fired = False
        self.hold_since = -1
        self.hold_fired = False
        self.tension_active = False
        self.count_tension = 0
        self.count_over = 0
        self.count_hold = 0

    def new_step(self):
        self.tense_since = -1
        self.tense_fired = False
        self.tension_active = False

    def update(self, q, t, p, in_relax_watch, tension_level, above_target, cough, step):
        """in_relax_watch: a rest/release/drop step past its grace time, baseline known."""
        s = self.s
        if in_relax_watch and p > tension_level and not cough:
            if self.tense_since < 0:
                self.tense_since = t
            elif not self.tense_fired and t - self.tense_since >= s.tension_ms:
                self.tense_fired = True
                self.tension_active = True
                self.count_tension += 1
                self._emit(q, t, ev.ALARM_TENSION, p, step)
        else:
            self.tense_since = -1
            self.tension_active = False
            if not in_relax_watch:
                self.tense_fired = False
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
