"""The streaming simulator: a person, a probe and a sensor that can be polled at any time.

    s = Sampler("typical", seed=1, timeline=tl)    # or no timeline, then drive it with set_cue()
    pelvic, abdominal = s.sample(t_ms)             # t_ms must not go backwards

After each sample() the truth for that instant is in s.true_cmH2O, s.activation (0..1),
s.artifact (ARTIFACT_* code), s.step and s.status (STATUS_* code).
"""
from pacer.program import B_FREE, M_REST

from . import personas
from . import rng as _rng
from .person import TICK_MS, Person
from .sensors import NONE, Sensor
from .truth import DropBook, RepBook, TensionBook

ARTIFACT_NONE = 0
ARTIFACT_SPIKE = 1
ARTIFACT_COUGH = 2
ARTIFACT_BEAR = 3
ARTIFACT_FAULT = 4
ARTIFACT_MOTOR = 5

STATUS_OK = 0
STATUS_DISCONNECTED = 1   # pelvic reading is None: the sensor is not there
STATUS_BUS_ERROR = 2      # both readings are None: the sample is missing
STATUS_SATURATED = 3
STATUS_STUCK = 4

FAULT_KINDS = ("disconnect", "saturate", "stuck", "bus")
_FAULT_STATUS = (STATUS_DISCONNECTED, STATUS_SATURATED, STATUS_STUCK, STATUS_BUS_ERROR)

# Motor switching noise: the reading steps by the sensor's motor_step and gets noisier.
_MOTOR_NOISE = 2.0
_NEVER = 0x3FFFFFFF  # the largest small int on 32-bit MicroPython: no long-int compares


class FaultError(ValueError):
    pass


def parse_faults(faults):
    """Faults as [(status, start_ms, end_ms, p)]: from dicts {"kind", "at_ms", "ms"[, "p"]} or
    tuples (kind, at_ms, ms[, p]); p is the share of samples lost to a bus fault (default all)."""
    out = []
    for f in faults or ():
        if isinstance(f, dict):
            f = (f.get("kind"), f.get("at_ms"), f.get("ms"), f.get("p", 1.0))
        kind = f[0] if len(f) else None
        if len(f) < 3 or kind not in FAULT_KINDS:
            raise FaultError("fault %s: kind must be one of %s" % (kind, ", ".join(FAULT_KINDS)))
        at = f[1]
        ms = f[2]
        p = f[3] if len(f) > 3 else 1.0
        if not isinstance(at, int) or not isinstance(ms, int) or at < 0 or ms <= 0:
            raise FaultError("fault %s: start and duration must be whole ms, duration > 0" % kind)
        if not isinstance(p, (int, float)) or not (0.0 <= p <= 1.0):
            raise FaultError("fault %s: p (share of samples lost) must be 0 to 1" % kind)
        out.append((_FAULT_STATUS[FAULT_KINDS.index(kind)], at, at + ms, p, kind))
    return out


class Sampler:
    """persona: a name or a dict from personas.get(); sensor: a sensors.NAMES model, or None
    for the physical probe pressure (no noise, quantisation, spikes or motor noise: for a host
    that models the sensor itself); faults: see parse_faults(); timeline: a pacer Timeline the
    person follows, or None to drive them with set_cue(); overrides: persona parameter changes."""

    def __init__(self, persona, seed, sensor=None, abdominal=True, faults=None, timeline=None,
                 overrides=None):
        params = personas.get(persona, overrides) if isinstance(persona, str) else persona
        self.params = params
        self.seed = seed
        self.values = v = personas.draw(params, _rng.Rng(seed, _rng.DRAW))
        self.person = Person(v, _rng.Rng(seed, _rng.PERSON), _rng.Rng(seed, _rng.EVENTS),
                             _rng.Rng(seed, _rng.BREATH), _rng.Rng(seed, _rng.RELAX))
        self.noise = _rng.Rng(seed, _rng.SENSOR)
        self.sensor = Sensor(sensor or NONE)
        self.abd_sensor = Sensor(sensor or NONE) if abdominal else None
        self.faults = parse_faults(faults)
        self.book = RepBook(v["gain"])
        self.drops = DropBook(v["gain"], v["rest"])
        self.tension = TensionBook(v["gain"])
        self.timeline = timeline
        self.external = timeline is None
        self._next = 0        # next timeline step to cue, and when
        self._next_t = 0 if timeline is not None else _NEVER
        self._shown = -1      # step on show at the last sample
        self._ended = False
        self._serial = 0
        self.motor = False
        self._stuck = None
        self._last_spike = False
        self.thermal = 0.0
        self._thermal_amp = v["thermal"]
        self._gain_tx = v["gain"] * v["iap_tx"]
        self._leak = v["leak"] / 60000.0   # cmH2O per ms
        self._k_thermal = (TICK_MS / 1000.0) / (v["thermal_tau_s"] + TICK_MS / 1000.0)
        self.t = 0
        self.true_cmH2O = v["rest"]
        self.activation = 0.0
        self.artifact = ARTIFACT_NONE
        self.status = STATUS_OK
        self.step = -1
        self.missing = 0
        self._pair_t = -1
        self._pair = (None, None)
        self._tick(0)

    # -- cues --

    def _cue(self, t, breath, muscle, step, dur_ms):
        self._serial += 1
        self.person.cue(t, breath, muscle, self._serial, dur_ms)
        self.book.cue(t, muscle, step, self._serial)
        self.drops.cue(t, muscle, step, self._serial, self.person)

    def set_cue(self, t_ms, breath, muscle, step=-1, dur_ms=0):
        """Make the person react to what the device shows from t_ms on. The timeline, if any,
        stops driving the person from the first call."""
        self._advance(t_ms)
        self.external = True
        self.step = step
        self._cue(t_ms, breath, muscle, step, dur_ms)

    def perceive(self, t_ms, shown_ms, muscle=None, breath=None):
        """A person watching a device: at t_ms they have recognised a cue the device began to
        show at shown_ms (<= t_ms); they react shown_ms + their latency (at once if that has
        passed). muscle None: a breath-only change; breath None: keep breathing as before."""
        self._advance(t_ms)
        self.external = True
        self.step = -1
        self._serial += 1
        self.person.cue(shown_ms, breath, muscle, self._serial, 0)
        if muscle is not None:
            self.book.cue(shown_ms, muscle, -1, self._serial)
            self.drops.cue(shown_ms, muscle, -1, self._serial, self.person)

    def motor_on(self, on):
        self.motor = bool(on)

    def pressure(self, ch, t_ms):
        """One channel (0 pelvic, 1 abdominal) at t_ms, for hosts that poll channels separately:
        both channels of one instant come from a single sample()."""
        if t_ms != self._pair_t:
            self._pair = self.sample(t_ms)
            self._pair_t = t_ms
        return self._pair[ch]

    def _timeline_cues(self, t):
        tl = self.timeline
        if tl is None:
            return
        while self._next < tl.n and tl.start_ms[self._next] <= t:
            i = self._next
            self._cue(tl.start_ms[i], tl.breath[i], tl.muscle[i], i, tl.dur_ms[i])
            self._next += 1
        if self._next < tl.n:
            self._next_t = tl.start_ms[self._next]
        elif not self._ended:
            # After the last step the person is told to rest, as the device would show.
            self._next_t = tl.total_ms
            if t >= tl.total_ms:
                self._ended = True
                self._next_t = _NEVER
                self._cue(tl.total_ms, B_FREE, M_REST, -1, 0)

    # -- time --

    def _tick(self, t):
        if t >= self._next_t and not self.external:
            self._timeline_cues(t)
        self.person.tick(t)
        if self.book.open is not None:
            self.book.tick(t, self.person)
        if self.drops.open is not None:
            self.drops.tick(t, self.person)
        self.tension.tick(t, self.person)
        self.thermal += (self._thermal_amp - self.thermal) * self._k_thermal

    def _advance(self, t):
        if t < self.t:
            raise ValueError("time went backwards: %d after %d" % (t, self.t))
        while self.t + TICK_MS <= t:
            self.t += TICK_MS
            self._tick(self.t)

    def _shown_step(self, t):
        tl = self.timeline
        if self.external or tl is None:
            return self.step
        i = self._shown
        while i + 1 < tl.n and tl.start_ms[i + 1] <= t:
            i += 1
        self._shown = i
        return i if t < tl.total_ms else -1

    def _fault(self, t):
        for f in self.faults:
            if f[1] <= t < f[2]:
                return f
        return None

    # -- sampling --

    def sample(self, t_ms):
        """(pelvic_cmH2O, abdominal_cmH2O) as read at t_ms; None where nothing was read."""
        self._advance(t_ms)
        v = self.values
        p = self.person
        gain_tx = self._gain_tx
        true = v["rest"] + v["gain"] * p.muscle + gain_tx * (p.breath_iap + p.push_iap)
        art_iap = p.cough_iap + p.bear_iap
        self.true_cmH2O = true
        self.activation = p.activation()
        self.step = self._shown_step(t_ms)
        art = ARTIFACT_NONE
        if self.motor:
            art = ARTIFACT_MOTOR
        if p.bearing_down:
            art = ARTIFACT_BEAR
        if p.coughing:
            art = ARTIFACT_COUGH
        sensor = self.sensor
        noise = v["noise"]
        meas = true + gain_tx * art_iap + self.thermal
        if self._leak:
            meas -= self._leak * t_ms
        if self.motor:
            meas += sensor.motor_step
            noise *= _MOTOR_NOISE
        fault = self._fault(t_ms)
        status = fault[0] if fault else STATUS_OK
        if fault is None or status != STATUS_STUCK:
            self._stuck = None
        if fault is not None and status == STATUS_BUS_ERROR:
            if self.noise.chance(fault[3]):
                self.status = status
                self.artifact = ARTIFACT_FAULT
                self.missing += 1
                return None, None
            fault = None  # this read got through
            status = STATUS_OK
        pelvic = sensor.convert(t_ms, meas, self.noise, noise)
        spike = (not self._last_spike) and self.noise.chance(sensor.spike_rate * v["spikes"])
        self._last_spike = spike
        if spike:
            jump = self.noise.band(sensor.spike)
            pelvic = sensor.clip(pelvic + (jump if self.noise.chance(0.5) else -jump))
            art = ARTIFACT_SPIKE
        if status == STATUS_SATURATED:
            pelvic = sensor.hi
        elif status == STATUS_STUCK:
            if self._stuck is None:
                self._stuck = pelvic
            pelvic = self._stuck
        elif status == STATUS_DISCONNECTED:
            pelvic = None
        if fault is not None:
            art = ARTIFACT_FAULT
        elif pelvic >= sensor.hi:
            status = STATUS_SATURATED
        self.artifact = art
        self.status = status
        abd = None
        if self.abd_sensor is not None:
            abd = (v["iap_rest"] + p.breath_iap + p.push_iap + art_iap
                   + v["cocontract"] * max(0.0, p.muscle - p.basal - p.ep))
            abd = self.abd_sensor.convert(t_ms, abd, self.noise, v["noise"])
        return pelvic, abd

    def finish(self, t_ms):
        """Run the person on to t_ms so the last rep's relaxation can still be seen."""
        self._advance(t_ms)
