"""The simulated person: reacts to cues after a latency, drives the pelvic floor and breathes.

State advances on a fixed 10 ms grid so the body's truth does not depend on how often the sensor
is polled. Every update is a backward-Euler or slew step made of + - * / only (no exp), so
CPython and MicroPython compute bit-identical states. Pressures here are in cmH2O on the body's
own scale; the probe gain is applied by the sampler.
"""
from pacer.program import (
    B_EXHALE,
    B_FREE,
    B_HOLD,
    B_INHALE,
    M_DROP,
    M_FLICK,
    M_MAX,
    M_PUSH,
    M_REST,
    MUSCLES,
    is_contraction,
)

TICK_MS = 10
_DT = TICK_MS / 1000.0

# Muscle force lags the neural drive a little: rounds the corners of the slew ramps.
_SMOOTH_S = 0.08
_BREATH_LAG_S = 0.3
_BEAR_RISE_S = 1.0
_BEAR_FALL_S = 0.4
# Free (tidal) breaths are about half as deep as cued deep breaths; inhale takes 40% of a cycle.
_FREE_DEPTH = 0.5
_FREE_INHALE = 0.4
# Without a known step length (externally driven cues) a cued breath is taken over 4 s.
_CUED_BREATH_S = 4.0
_COUGH_MS = (250, 450)
_COUGH_PEAK = 0.2
# An incomplete push lets the floor fall by only this share of the person's drop.
_INCOMPLETE = 0.25
# Tension episodes build up and ease off slowly, unlike a cued squeeze (cmH2O/s, assumed).
_EPISODE_RISE = 1.5
_EPISODE_FALL = 0.75
# Resting tone eases by tone_ease over this long at rest.
_EASE_S = 1200.0
# Table lookups instead of calls in the per-tick path: calls are slow in MicroPython.
_CONTRACTION = tuple([is_contraction(m) for m in range(len(MUSCLES))])
_REP = tuple([is_contraction(m) for m in range(len(MUSCLES))])


def _k(tau_s):
    """Per-tick weight of a first-order lag with time constant tau_s."""
    return _DT / (tau_s + _DT)


class Person:
    def __init__(self, values, rng, events, breath_rng=None, relax_rng=None):
        self.v = values
        self.rng = rng
        self.events = events
        v = values
        self.mvc = v["mvc"]
        self._k_fat = _k(v["fat_tau_s"])
        self._k_rec = _k(v["rec_tau_s"])
        self._k_tone = _k(v["tone_tau_s"])
        self._rise = v["rise"] * _DT
        self._flick_rise = self._rise * v["flick_speed"]
        self._fall = v["fall"] * _DT
        self._fat_max = v["fat_max"]
        self._drop = v["drop"]
        self._breath_iap = v["breath_iap"]
        self._free_step = v["breath_rate"] / 60.0 * _DT
        # Letting go: drop and push steps, resting tone and tension episodes draw from their own
        # stream, so people who never see those cues keep every other draw unchanged.
        self.relax_rng = relax_rng or rng
        self._tighten = v["tighten"] * v["mvc"]
        self.shift = 0.0             # floor aim on a drop or push step, relative to rest
        self.pushing = False
        self.push_amp = 0.0
        self.push_iap = 0.0          # abdominal pressure of a cued push
        self.basal = v["tone_rest"]  # resting floor tension (hypertonic), eases at rest
        self._basal_min = v["tone_rest"] - v["tone_ease"]
        self._ease = v["tone_ease"] * _DT / _EASE_S
        self.ep = 0.0                # floor tension of a spontaneous episode, cmH2O
        self.ep_aim = 0.0
        self.ep_until = -1           # when the floor starts to ease back down
        self.episodes = []           # [start_ms, ease_ms] of every tension episode
        self._ep_rise = _EPISODE_RISE * _DT
        self._ep_fall = _EPISODE_FALL * _DT
        self._next_ep = self._episode_gap(0)
        self.breath_rng = breath_rng  # latencies of breath-only cues (None: rng)
        self.pending = []            # perceived-later cues: [t_react, breath, muscle, serial, dur]
        self.breath_cue = B_FREE
        self.muscle_cue = 0
        self.breath_s = _CUED_BREATH_S
        self.effort = 0.0
        self.missed = False
        self.bearing = False
        self.bear_amp = 0.0
        self.react_serial = -1       # serial of the last cue reacted to, and how late
        self.react_latency = 0
        self.drive = 0.0
        self.muscle = 0.0            # pelvic floor pressure above rest, cmH2O (negative: drop)
        self.tone = 0.0              # residual tension left by earlier squeezes
        self.fat = 0.0
        self.phase = 0.0
        self.bvt = 0.0               # breath volume the person is aiming at, 0..1
        self.bv = 0.0
        self.breath_iap = 0.0        # abdominal pressure from breathing
        self.bear_iap = 0.0
        self.cough_iap = 0.0
        self.coughs = []             # [start_ms, dur_ms] of every cough
        self._cough_end = -1
        self._next_cough = self._cough_gap(0)

    def _cough_gap(self, t):
        per_min = self.v["cough_per_min"]
        if per_min <= 0:
            return -1
        # Jittered rather than exponential gaps: an exponential draw needs log().
        return t + int(60000.0 / per_min * self.events.uniform(0.2, 1.8))

    def _episode_gap(self, t):
        per_min = self.v["episode_per_min"]
        if per_min <= 0:
            return -1
        return t + int(60000.0 / per_min * self.relax_rng.uniform(0.5, 1.5))

    def cue(self, t, breath, muscle, serial, dur_ms):
        """A cue change shown at t; the person acts on it after their latency. breath None keeps
        the current breathing, muscle None changes only the breathing."""
        # Breath-only cues draw from their own stream, so how many the person saw (the idle
        # glow before a session) does not shift the draws of the muscle cues.
        rng = self.rng if muscle is not None or self.breath_rng is None else self.breath_rng
        when = t + int(rng.band(self.v["latency_ms"]))
        if self.pending and when < self.pending[-1][0]:
            when = self.pending[-1][0]  # cues are perceived in the order shown
        self.pending.append([when, breath, muscle, serial, dur_ms, when - t])

    def _react(self, ev):
        when, breath, muscle, serial, dur_ms, latency = ev
        if muscle is None:
            # A breath-only change (the person follows the light): effort and reps unchanged.
            self._breath_cue(breath, dur_ms)
            return
        if breath is None:
            breath = self.breath_cue
        if is_contraction(self.muscle_cue) and not is_contraction(muscle):
            self.tone = max(self.tone, self.v["residual"] * (self.muscle - self.basal))
        self._breath_cue(breath, dur_ms)
        self.muscle_cue = muscle
        self.missed = False
        self.bearing = False
        self.pushing = False
        if muscle != M_REST and self.ep_until >= 0:
            self.ep_until = -1       # a new cue takes the person's attention: the episode eases
            self.ep_aim = 0.0
            self.episodes[-1][1] = when
        if muscle == M_DROP:
            self.shift = self._tighten if self.v["drop_mode"] == "tighten" else -self._drop
        elif muscle == M_PUSH:
            mode = self.v["push_mode"]
            if mode == "tighten":
                self.shift = self._tighten
            elif mode == "incomplete":
                self.shift = -self._drop * _INCOMPLETE
            else:
                self.shift = -self._drop
            self.pushing = True
            self.push_amp = self.relax_rng.band(self.v["push_amp"])
        if muscle == M_MAX:
            self.effort = self.v["max_effort"]
        elif is_contraction(muscle):
            self.missed = self.rng.chance(self.v["miss"])
            self.effort = 0.0 if self.missed else self.rng.band(self.v["effort"])
            if is_contraction(muscle) and not self.missed and self.rng.chance(self.v["bear_p"]):
                self.bearing = True
                self.bear_amp = self.rng.band(self.v["bear_amp"])
        self.react_serial = serial
        self.react_latency = latency

    def _breath_cue(self, breath, dur_ms):
        if breath == B_FREE and self.breath_cue != B_FREE:
            # Start free breathing where the cued breath left off, mid-exhale.
            self.phase = 1.0 - (1.0 - _FREE_INHALE) * min(self.bvt, _FREE_DEPTH) / _FREE_DEPTH
        self.breath_cue = breath
        self.breath_s = min(8.0, max(1.5, dur_ms / 1000.0)) if dur_ms > 0 else _CUED_BREATH_S

    def tick(self, t):
        while self.pending and self.pending[0][0] <= t:
            self._react(self.pending.pop(0))
        if self._next_ep >= 0 or self.ep:
            self._episode(t)
        self._muscle()
        self._breath()
        self._artifacts(t)

    def _episode(self, t):
        if self._next_ep >= 0 and t >= self._next_ep and self.muscle_cue == M_REST:
            # Only during a rest step: long relaxation is where tension creeps back in.
            self.ep_aim = self.relax_rng.band(self.v["episode_amp"])
            self.ep_until = t + int(1000.0 * self.relax_rng.band(self.v["episode_s"]))
            self.episodes.append([t, self.ep_until])
            self._next_ep = self._episode_gap(self.ep_until)
        if self.ep_until >= 0 and t >= self.ep_until:
            self.ep_until = -1
            self.ep_aim = 0.0
        ep = self.ep
        if ep < self.ep_aim:
            ep += self._ep_rise
            if ep > self.ep_aim:
                ep = self.ep_aim
        elif ep > self.ep_aim:
            ep -= self._ep_fall
            if ep < self.ep_aim:
                ep = self.ep_aim
        self.ep = ep

    def _muscle(self):
        m = self.muscle_cue
        # The floor's resting level: residual tension after squeezes, resting tone, episodes.
        tone = self.basal + self.tone + self.ep
        if _CONTRACTION[m]:
            target = self.effort * self.mvc * (1.0 - self.fat)
            if target < tone:
                target = tone
        elif m == M_DROP or m == M_PUSH:
            target = tone + self.shift
        else:
            target = tone
        d = self.drive
        if target > d:
            d += self._flick_rise if m == M_FLICK else self._rise
            if d > target:
                d = target
        else:
            d -= self._fall
            if d < target:
                d = target
        self.drive = d
        self.muscle += (d - self.muscle) * _K_SMOOTH
        # Fatigue grows with the intended effort, not the achieved force, so it keeps growing as
        # the force fades (the person is still trying).
        if self.muscle > 0.1 * self.mvc:
            self.fat += (self._fat_max - self.fat) * self.effort * self._k_fat
        elif self.fat:
            self.fat -= self.fat * self._k_rec
        if self.tone:
            self.tone -= self.tone * self._k_tone
        if self.basal > self._basal_min and not _CONTRACTION[m]:
            self.basal -= self._ease

    def _breath(self):
        b = self.breath_cue
        if self.bearing or b == B_HOLD:
            pass  # breath held: volume stays where it is
        elif b == B_INHALE:
            self.bvt = min(1.0, self.bvt + _DT / self.breath_s)
        elif b == B_EXHALE:
            self.bvt = max(0.0, self.bvt - _DT / self.breath_s)
        else:
            ph = self.phase + self._free_step
            if ph >= 1.0:
                ph -= 1.0
            self.phase = ph
            if ph < _FREE_INHALE:
                self.bvt = _FREE_DEPTH * ph / _FREE_INHALE
            else:
                self.bvt = _FREE_DEPTH * (1.0 - ph) / (1.0 - _FREE_INHALE)
        self.bv += (self.bvt - self.bv) * _K_BREATH
        self.breath_iap = self._breath_iap * self.bv

    def _artifacts(self, t):
        if self.pushing:
            self.push_iap += (self.push_amp - self.push_iap) * _K_BEAR_RISE
        elif self.push_iap:
            self.push_iap -= self.push_iap * _K_BEAR_FALL
        if self.bearing and _REP[self.muscle_cue]:
            self.bear_iap += (self.bear_amp - self.bear_iap) * _K_BEAR_RISE
        elif self.bear_iap:
            self.bear_iap -= self.bear_iap * _K_BEAR_FALL
        if self._next_cough >= 0 and t >= self._next_cough:
            dur = self.events.randint(_COUGH_MS[0], _COUGH_MS[1])
            self._cough_amp = self.events.band(self.v["cough_amp"])
            self.coughs.append([t, dur])
            self._cough_end = t + dur
            self._next_cough = self._cough_gap(t + dur)
        if t >= self._cough_end:
            self.cough_iap = 0.0
        else:
            start, dur = self.coughs[-1]
            u = (t - start) / dur
            if u < _COUGH_PEAK:
                s = u / _COUGH_PEAK
            else:
                s = 1.0 - (u - _COUGH_PEAK) / (1.0 - _COUGH_PEAK)
                s = s * s
            self.cough_iap = self._cough_amp * s

    @property
    def coughing(self):
        return self.cough_iap > 0.0

    @property
    def bearing_down(self):
        return self.bear_iap > 1.0

    def activation(self):
        a = self.muscle / self.mvc
        return 0.0 if a < 0.0 else (1.0 if a > 1.0 else a)


_K_SMOOTH = _k(_SMOOTH_S)
_K_BREATH = _k(_BREATH_LAG_S)
_K_BEAR_RISE = _k(_BEAR_RISE_S)
_K_BEAR_FALL = _k(_BEAR_FALL_S)
