"""Whole-program simulation: a Trace of samples, its CSV text and its truth sidecar.

A Trace is re-iterable and keeps nothing but the rep records: each pass re-runs the simulation
from the seed (identical every time), so a 30-minute trace fits in the board VM's small heap.
"""
from . import personas, sensors
from .num import Dec, Obj, Rows, dump, dumps, fixed, scaled
from .sampler import (
    ARTIFACT_BEAR,
    ARTIFACT_COUGH,
    ARTIFACT_FAULT,
    ARTIFACT_MOTOR,
    ARTIFACT_SPIKE,
    STATUS_BUS_ERROR,
    Sampler,
    parse_faults,
)
from .truth import RELAX_BAND, Drop, Episode, Rep

HEADER = "t_ms,pressure_cmH2O,abdominal_cmH2O,true_cmH2O,activation,artifact,step"
HEADER_NO_ABD = "t_ms,pressure_cmH2O,true_cmH2O,activation,artifact,step"
ARTIFACTS = ((0, "none"), (ARTIFACT_SPIKE, "spike"), (ARTIFACT_COUGH, "cough"),
             (ARTIFACT_BEAR, "bear-down"), (ARTIFACT_FAULT, "fault"), (ARTIFACT_MOTOR, "motor"))
FORMAT = "pacer-sim-truth/1"


class Trace:
    """Iterating gives (t_ms, pressure, abdominal, true, activation, artifact, step) per sample,
    pressures in cmH2O rounded to 0.01 (None: not read), step -1 outside the program. Samples
    lost to a bus fault are left out. After a full pass, .reps holds the truth.Rep of each rep."""

    def __init__(self, timeline, persona, seed, rate_hz=50, jitter_ms=0, sensor=None,
                 abdominal=True, faults=None, overrides=None):
        if not isinstance(rate_hz, int) or rate_hz < 1 or rate_hz > 1000:
            raise ValueError("rate_hz must be a whole number from 1 to 1000, got %r" % (rate_hz,))
        if not isinstance(jitter_ms, int) or jitter_ms < 0 or jitter_ms * 2 * rate_hz >= 1000:
            raise ValueError("jitter_ms must be whole ms below half the sample period, got %r"
                             % (jitter_ms,))
        self.params = personas.get(persona, overrides) if isinstance(persona, str) else persona
        self.timeline = timeline
        self.seed = seed
        self.rate_hz = rate_hz
        self.jitter_ms = jitter_ms
        self.sensor = sensor or sensors.NONE
        sensors.get(self.sensor)
        self.abdominal = abdominal
        self.faults = faults or []
        parse_faults(self.faults)
        self.sampler = None
        self.reps = None
        self.samples = 0

    def _times(self):
        jit = None
        if self.jitter_ms:
            from .rng import JITTER, Rng
            jit = Rng(self.seed, JITTER)
        total = self.timeline.total_ms
        k = 0
        last = -1
        while True:
            t = k * 1000 // self.rate_hz
            if t >= total:
                if last < total:
                    yield total     # a last sample at the program's end: a replay completes
                return
            if jit is not None:
                d = jit.randint(-self.jitter_ms, self.jitter_ms)
                # the first sample stays at 0: a replay times the program from it
                t = max(t + d, last + 1) if k else 0
            last = t
            yield t
            k += 1

    def rows(self):
        """Samples as ints: pressures in 0.01 cmH2O (None: not read), activation in 0.001."""
        s = Sampler(self.params, self.seed, self.sensor, self.abdominal, self.faults,
                    self.timeline)
        self.sampler = s
        self.reps = None
        n = 0
        for t in self._times():
            pelvic, abd = s.sample(t)
            if s.status == STATUS_BUS_ERROR:
                continue
            n += 1
            yield (t, None if pelvic is None else scaled(pelvic, 100),
                   None if abd is None else scaled(abd, 100), scaled(s.true_cmH2O, 100),
                   scaled(s.activation, 1000), s.artifact, s.step)
        s.finish(self.timeline.total_ms)
        self.samples = n
        self.reps = s.book.reps

    def __iter__(self):
        for t, p, a, tr, act, art, step in self.rows():
            yield (t, None if p is None else p / 100, None if a is None else a / 100, tr / 100,
                   act / 1000, art, step)

    def lines(self):
        """The CSV text line by line, without line ends."""
        yield HEADER if self.abdominal else HEADER_NO_ABD
        for t, p, a, tr, act, art, step in self.rows():
            cells = [str(t), "" if p is None else fixed(p, 2)]
            if self.abdominal:
                cells.append("" if a is None else fixed(a, 2))
            cells.append(fixed(tr, 2))
            cells.append(fixed(act, 3))
            cells.append(str(art))
            cells.append("" if step < 0 else str(step))
            yield ",".join(cells)

    def write_csv(self, f):
        for line in self.lines():
            f.write(line + "\n")

    def _run(self):
        """(sampler, rep records) of a completed pass, running one if there was none."""
        if self.reps is None:
            for _ in self.rows():
                pass
        s = self.sampler
        reps = self.reps
        assert s is not None and reps is not None
        return s, reps

    def truth(self):
        """The truth sidecar as an ordered Obj (runs the simulation if no full pass was made)."""
        s, reps = self._run()
        v = s.values
        p = self.params
        person = []
        for k in personas.KEYS:
            x = v[k]
            if isinstance(x, tuple):
                x = [Dec(x[0], 3), Dec(x[1], 3)]
            elif not isinstance(x, str):
                x = Dec(x, 3)
            person.append((k, x))
        faults = [Obj([("kind", f[4]), ("at_ms", f[1]), ("ms", f[2] - f[1]),
                       ("p", Dec(f[3], 3))]) for f in s.faults]
        return Obj([
            ("format", FORMAT),
            ("persona", p.get("name", "custom")),
            ("description", p.get("desc", "")),
            ("seed", self.seed),
            ("program", self.timeline.name),
            ("duration_ms", self.timeline.total_ms),
            ("rate_hz", self.rate_hz),
            ("jitter_ms", self.jitter_ms),
            ("sensor", self.sensor),
            ("abdominal", self.abdominal),
            ("samples", self.samples),
            ("missing_samples", s.missing),
            ("mvc_cmH2O", Dec(v["mvc"])),
            ("probe_gain", Dec(v["gain"], 3)),
            ("mvc_read_cmH2O", Dec(v["mvc"] * v["gain"])),
            ("rest_cmH2O", Dec(v["rest"])),
            ("abdominal_rest_cmH2O", Dec(v["iap_rest"])),
            ("posture", v["posture"]),
            ("relax_band_cmH2O", Dec(RELAX_BAND)),
            ("artifact_codes", Obj([(str(c), n) for c, n in ARTIFACTS])),
            ("person", Obj(person)),
            ("reps", Rows(Rep.obj, reps)),
            ("drops", Rows(Drop.obj, s.drops.drops)),
            ("tension", Rows(Episode.obj, s.tension.episodes)),
            ("floor_per_min_cmH2O", [Dec(x) for x in s.tension.minutes]),
            ("coughs", [[c[0], c[1]] for c in s.person.coughs]),
            ("faults", faults),
        ])

    def truth_json(self):
        return dumps(self.truth()) + "\n"

    def write_truth(self, f):
        """The truth sidecar written piece by piece (same text as truth_json())."""
        dump(self.truth(), f.write)
        f.write("\n")

    def summary(self):
        s, reps = self._run()
        v = s.values
        relaxed = 0
        for r in reps:
            if r.relax_ms >= 0:
                relaxed += 1
        drops = s.drops.drops
        let_go = 0
        for d in drops:
            if d.response() == "let_go":
                let_go += 1
        extra = ""
        if drops:
            extra += ", %d drop/push steps, %d let go" % (len(drops), let_go)
        if s.tension.episodes:
            extra += ", %d tension episodes" % len(s.tension.episodes)
        return ("%d samples over %s s, persona %s (seed %d): MVC %s cmH2O, rest %s, %d reps, "
                "%d relaxed%s, %d coughs" % (self.samples,
                                             fixed(self.timeline.total_ms // 100, 1),
                                             self.params.get("name", "custom"), self.seed,
                                             fixed(scaled(v["mvc"], 10), 1),
                                             fixed(scaled(v["rest"], 10), 1), len(reps),
                                             relaxed, extra, len(s.person.coughs)))


def simulate(timeline, persona, seed, rate_hz=50, jitter_ms=0, sensor=None, abdominal=True,
             faults=None, overrides=None):
    """A Trace of `persona` (name or parameter dict) following `timeline` (a pacer Timeline)."""
    return Trace(timeline, persona, seed, rate_hz, jitter_ms, sensor, abdominal, faults, overrides)


def truth_path(csv_path):
    """trace.csv -> trace.truth.json"""
    if csv_path.endswith(".csv"):
        return csv_path[:-4] + ".truth.json"
    return csv_path + ".truth.json"
