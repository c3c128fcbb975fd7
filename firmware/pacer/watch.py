"""Live safety and relaxation watch: tension episodes while relaxing, over-pressure, over-hold.

Tension is judged on a slow mean of the (breath-corrected) pressure, so breathing and noise do not
make episodes. An episode is told once, by a gentle nudge, when the level has stayed above the
tension line for `tension_s`; it is re-armed only after the level has been back below the line by
a margin for REARM_MS, whatever the program does meanwhile, so a person who stays tense is told,
not nagged at every breath or step. Over-pressure and over-hold fire once and re-arm when their
condition clears; over-hold is about squeezes only, so a relax phase never raises it.
"""
from pacer import events as ev
from pacer._compat import const, native

_OVERPRESSURE_MS = const(300)
_TAU_MS = const(1500)     # the slow mean: a breath at 6/min still swings it, a tense minute not
_MARGIN_CP = const(100)   # back 1 cmH2O under the line ...
REARM_MS = const(2000)    # ... for 2 s ends an episode


class Watch:
    """The engine sets one tick's inputs (dt, p, calm, line, watching, above, cough) as
    attributes, then calls update(t). `step` is the step alarms are told in (set when one
    starts)."""

    def __init__(self, settings, q):
        self.s = settings
        self.q = q
        self.step = -1
        self.dt = 0            # ms since the previous tick (not counting pauses)
        self.p = 0             # the pressure
        self.calm = 0          # the same with the breath taken out (for tension)
        self.line = 0          # the tension line
        self.watching = False  # a relaxing step past its grace time with a known baseline
        self.above = False     # a contraction step held above its target
        self.cough = False     # inside a cough window
        self.reset()

    def reset(self):
        self.tension_active = False
        self.count_tension = 0
        self.count_over = 0
        self.count_hold = 0
        body = self._body()
        self.update = body.send
        body.send(None)  # to its first yield

    # update(t) is this generator's send: resumed once a tick, like the engine's own tick, so
    # that its frame (over 11 words: it would come from the heap on every call on the chip) is
    # made once, and the watch's own state lives in its locals rather than in attributes (a
    # look-up each). Inputs come as attributes: as arguments the frame would not fit.
    @native
    def _body(self):
        s = self.s
        tension_ms = s.tension_ms
        over_cp = s.overpressure_cp
        max_hold_ms = s.max_hold_ms
        level = 0            # the slow mean, x64 so that the integer low-pass has no dead band
        primed = False
        tense_since = -1
        armed = True
        low_since = -1
        over_since = -1
        over_fired = False
        hold_since = -1
        hold_fired = False
        while True:
            t = yield
            p = self.p
            cough = self.cough
            watching = self.watching
            line = self.line
            if not cough:
                if not primed:
                    level = self.calm << 6
                    primed = True
                else:
                    dt = self.dt
                    level += ((self.calm << 6) - level) * dt // (_TAU_MS + dt)
            lvl = level >> 6
            if watching and lvl > line and not cough:
                if tense_since < 0:
                    tense_since = t
                elif armed and t - tense_since >= tension_ms:
                    armed = False
                    self.count_tension += 1
                    self._emit(t, ev.ALARM_TENSION, p)
            else:
                tense_since = -1
            if not armed:
                if watching and lvl < line - _MARGIN_CP:
                    if low_since < 0:
                        low_since = t
                    elif t - low_since >= REARM_MS:
                        armed = True
                else:
                    low_since = -1
            active = watching and not armed and low_since < 0
            if active != self.tension_active:
                self.tension_active = active
            if p >= over_cp:
                if over_since < 0:
                    over_since = t
                elif not over_fired and t - over_since >= _OVERPRESSURE_MS:
                    over_fired = True
                    self.count_over += 1
                    self._emit(t, ev.ALARM_OVERPRESSURE, p)
            elif p < over_cp * 9 // 10:
                over_since = -1
                over_fired = False
            above = self.above
            if above and not cough:
                if hold_since < 0:
                    hold_since = t
                elif not hold_fired and t - hold_since >= max_hold_ms:
                    hold_fired = True
                    self.count_hold += 1
                    self._emit(t, ev.ALARM_OVERHOLD, p)
            elif not above:
                hold_since = -1
                hold_fired = False

    def _emit(self, t, kind, p):
        q = self.q
        off = q.push(ev.ALARM, t)
        q.buf[off + 2] = kind
        q.buf[off + 3] = p
        q.buf[off + 4] = self.step
