"""Ground truth per rep (squeeze or flick step), per drop or push step and per tension episode,
recorded while the simulation runs.

A rep's window runs from its step's start to the start of the next contraction step (or the end).
Its "next step" is the step right after it, normally the release: relaxation is timed from that
step's start until the pelvic floor's own pressure (probe scale, breathing and artifacts excluded)
is within RELAX_BAND of rest. Coughs and bearing down count when they overlap the rep step or the
step after it.

A drop or push step's window runs from 1 s after its cue to the next cue. floor_cmH2O is the mean
of the pelvic floor's own pressure (probe scale) over that window relative to its value at the
cue; push_cmH2O the mean abdominal rise of the push. The verdicts use the thresholds below
(anchors section 11: Rome's 20 % relaxation, Rao's patterns; the adequate-push line is this
project's gentle push, not Rao's 40 mmHg rectal push).
"""
from pacer.program import M_DROP, M_PUSH, MUSCLES, is_contraction

from .num import Dec, Obj

RELAX_BAND = 1.0  # cmH2O
SETTLE_MS = 1000          # a drop or push window starts this long after the cue
RESPONSE_MIN = 0.5        # |floor| below this: no response, cmH2O
ADEQUATE_PUSH = 10.0      # abdominal rise of an adequate push, cmH2O
RELAXED_SHARE = 0.2       # a coordinated push lets go by this share of the resting level
PARADOX_RISE = 2.0        # a paradoxical push raises the floor by this much, cmH2O


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
        if is_contraction(muscle):
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
        # above the person's resting tone (hypertonic), which a squeeze starts from
        tension = self.gain * (person.muscle - person.basal)
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


class Drop:
    def __init__(self, t, muscle, step, serial, floor0, rest):
        self.start = t
        self.kind = "push" if muscle == M_PUSH else "drop"
        self.step = step
        self.serial = serial
        self.floor0 = floor0     # the floor's own pressure at the cue, probe scale
        self.rest = rest         # the probe's resting level at the cue (no breath, no drift)
        self.end = -1
        self.onset = -1
        self.floor_sum = 0.0
        self.push_sum = 0.0
        self.n = 0
        self.cough = False

    def floor(self):
        return self.floor_sum / self.n if self.n else 0.0

    def push(self):
        return self.push_sum / self.n if self.n else 0.0

    def response(self):
        f = self.floor()
        if self.n == 0:
            return "none"
        if f <= -RESPONSE_MIN:
            return "let_go"
        if f >= RESPONSE_MIN:
            return "tightened"
        return "none"

    def pattern(self):
        if self.kind != "push" or self.n == 0:
            return None
        f = self.floor()
        if f >= PARADOX_RISE:
            return "paradoxical"
        if self.push() < ADEQUATE_PUSH:
            return "weak_push"
        if f <= -RELAXED_SHARE * self.rest:
            return "coordinated"
        return "incomplete"

    def obj(self):
        push = self.kind == "push"
        resp = self.response()
        return Obj([("step", self.step), ("kind", self.kind), ("start_ms", self.start),
                    ("end_ms", self.end if self.end >= 0 else None),
                    ("onset_ms", self.onset if self.onset >= 0 and resp != "none" else None),
                    ("rest_cmH2O", Dec(self.rest)),
                    ("floor_cmH2O", Dec(self.floor()) if self.n else None),
                    ("push_cmH2O", Dec(self.push()) if push and self.n else None),
                    ("response", resp), ("pattern", self.pattern()), ("cough", self.cough)])


class DropBook:
    """Truth per drop or push step."""

    def __init__(self, gain, rest):
        self.gain = gain
        self.rest = rest
        self.drops = []
        self.open = None

    def cue(self, t, muscle, step, serial, person):
        d = self.open
        if d is not None:
            d.end = t
            self.open = None
        if muscle == M_DROP or muscle == M_PUSH:
            floor0 = self.gain * person.muscle
            self.open = Drop(t, muscle, step, serial, floor0, self.rest + floor0)
            self.drops.append(self.open)

    def tick(self, t, person):
        d = self.open
        if d is None:
            return
        if d.onset < 0 and person.react_serial == d.serial:
            d.onset = person.react_latency
        if person.coughing:
            d.cough = True
        if t >= d.start + SETTLE_MS:
            d.floor_sum += self.gain * person.muscle - d.floor0
            d.push_sum += person.push_iap
            d.n += 1

    def records(self):
        return [d.obj() for d in self.drops]


class Episode:
    def __init__(self, start):
        self.start = start
        self.end = -1
        self.peak = 0.0

    def obj(self):
        return Obj([("start_ms", self.start), ("end_ms", self.end if self.end >= 0 else None),
                    ("peak_cmH2O", Dec(self.peak))])


class TensionBook:
    """Truth per spontaneous tension episode: from the start of its rise until the added
    tension is back within RELAX_BAND (probe scale); peak is the most it added. Also the
    floor's mean own pressure per minute (probe scale), for resting-tone change."""

    def __init__(self, gain):
        self.gain = gain
        self.episodes = []
        self.minutes = []
        self._sum = 0.0
        self._n = 0
        self._minute_end = 60000

    def tick(self, t, person):
        if t >= self._minute_end:
            self.minutes.append(self._sum / self._n if self._n else 0.0)
            self._sum = 0.0
            self._n = 0
            self._minute_end += 60000
        self._sum += self.gain * person.muscle
        self._n += 1
        eps = person.episodes
        if len(self.episodes) < len(eps):
            self.episodes.append(Episode(eps[-1][0]))
        if not self.episodes:
            return
        e = self.episodes[-1]
        if e.end >= 0:
            return
        x = self.gain * person.ep
        if x > e.peak:
            e.peak = x
        if t >= eps[-1][1] and x < RELAX_BAND:
            e.end = t

    def records(self):
        return [e.obj() for e in self.episodes]
