"""Ground truth per rep (squeeze or flick step), recorded while the simulation runs.

A rep's window runs from its step's start to the start of the next contraction step (or the end).
Its "next step" is the step right after it, normally the release: relaxation is timed from that
step's start until the pelvic floor's own pressure (probe scale, breathing and artifacts excluded)
is within RELAX_BAND of rest. Coughs and bearing down count when they overlap the rep step or the
step after it.
"""
from pacer.program import MUSCLES, is_contraction, is_rep

from .num import Dec, Obj

RELAX_BAND = 1.0  # cmH2O


class Rep:
    def __init__(self, t, muscle, step, serial):
        self.start = t
        self.muscle = muscle
        self.step = step
        self.serial = serial
        self.cues = 0            # cue changes since the rep's own
        self.next_start = -1
        self.onset = -1          # the person's reaction latency, once they have reacted
        self.effort = 0.0
        self.missed = False
        self.bore = False        # chose to bear down on this rep
        self.peak = 0.0
        self.relax_ms = -1
        self.cough = False
        self.bear = False

    def obj(self):
        return Obj([("step", self.step), ("muscle", MUSCLES[self.muscle]),
                    ("start_ms", self.start), ("effort", Dec(self.effort, 3)),
                    ("missed", self.missed), ("onset_ms", self.onset if self.onset >= 0 else None),
                    ("peak_cmH2O", Dec(self.peak)), ("relaxed", self.relax_ms >= 0),
                    ("relax_ms", self.relax_ms if self.relax_ms >= 0 else None),
                    ("cough", self.cough), ("bear_down", self.bear or self.bore)])


class RepBook:
    def __init__(self, gain):
        self.gain = gain
        self.reps = []
        self.open = None

    def cue(self, t, muscle, step, serial):
        r = self.open
        if r is not None:
            r.cues += 1
            if r.next_start < 0:
                r.next_start = t
            if is_contraction(muscle):
                self.open = None
        if is_rep(muscle):
            self.open = Rep(t, muscle, step, serial)
            self.reps.append(self.open)

    def tick(self, t, person):
        r = self.open
        if r is None:
            return
        if r.onset < 0 and person.react_serial == r.serial:
            r.onset = person.react_latency
            r.effort = person.effort
            r.missed = person.missed
            r.bore = person.bearing
        tension = self.gain * person.muscle
        if tension > r.peak:
            r.peak = tension
        if r.cues <= 1:
            if person.coughing:
                r.cough = True
            if person.bearing_down:
                r.bear = True
        if r.next_start >= 0 and r.relax_ms < 0 and t >= r.next_start and tension <= RELAX_BAND:
            r.relax_ms = t - r.next_start

    def records(self):
        return [r.obj() for r in self.reps]
