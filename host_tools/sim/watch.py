"""The person in the loop: a simulated person who watches and feels the device and reacts.

    w = Watcher(sampler, emit=fn)      # emit(t_ms, channel, value): where the truth goes
    w.see(t_ms, "pixel" | "led" | "motor", value)   # every output change the device makes
    w.poll(t_ms)                       # before each sensor read: time-based perception, truth

Only what a person at the device could notice is used, never the firmware's state:

- Vibration (every board has the motor): pulses are grouped into bursts (gaps under 130 ms)
  and read as the engine's transition patterns (pacer.cue.PATTERNS) by the kinds of pulse they
  hold (a new pattern can cut into the one playing). Full and soft pulses are told apart by
  strength: a pulse under 70 % of the strongest duty felt so far is soft. Full bursts are muscle
  cues: a long buzz (230 ms or more) = contract, acted on as soon as it stops; ~80 ms pulses =
  release; three or more ~100 ms pulses = push; ~60 ms pulses = drop; ~200 ms pulses (done) =
  rest; 150 ms pulses (the tension nudge) = let go (release). A lone target tick (40 ms) while
  relaxing = contract: the tick cuts the contract buzz short when a squeeze step starts with
  the pressure already over the target (a non-relaxer's residual tension). The rare fault
  pattern (300 + 50 ms) is mistaken for a contract cue. Soft bursts are never muscle cues except
  the soft tension nudge (~150 ms pulses, "let go"): one ~120 ms pulse = inhale, ~60 ms pulses =
  exhale, three 40 ms ticks = hold; the dropped confirmation (two soft ticks) is only felt. The
  self-test buzz at boot and one-tick blips (the done pattern cut off as the device goes idle)
  are not acted on. Pulse lengths are whole control ticks: this is tuned for loop_hz 50.
- The RGB pixel, on boards that have one: the hue names the muscle cue at once (COLOURS:
  orange squeeze, deeper orange max, blue release, teal rest, purple drop, magenta push, red
  (the tension alarm) let go; green (target reached), white (idle/paused) and dark are not
  acted on.
- Breathing, from the LED's brightness (or the pixel's, without an LED): a steady ramp up =
  inhale, down = exhale; steady for 400 ms after a ramp = hold (given up after 8 s); a lone
  jump in brightness (a third or more) = breathe freely. The soft breath pulses say the same
  with eyes closed; whichever is noticed first is followed.
- Squeeze or flick: the device cues both the same way, so the person goes by the rhythm: after
  a contraction cue that lasted 2 s or less, the next one is flicked.

Every perception is handed to Sampler.perceive() with the time the device began to show it, so
the persona's reaction latency counts from the device's cue. The truth goes out through emit:
"person.cue" {"shown_ms", "muscle", "breath"} per perceived change, "truth" [tension_cmH2O,
activation, artifact] every TRUTH_MS (tension: the pelvic floor's own pressure on the probe
scale), "truth.rep" (see rep_obj) whenever a rep's truth changes, "truth.drop" (drop_obj) per
drop or push step and "truth.tension" (episode_obj) per tension episode; for each, the last
record per "n" is final.
"""
from pacer.program import (
    B_EXHALE,
    B_FREE,
    B_HOLD,
    B_INHALE,
    BREATHS,
    M_DROP,
    M_FLICK,
    M_MAX,
    M_PUSH,
    M_RELEASE,
    M_REST,
    M_SQUEEZE,
    MUSCLES,
)

from .num import scaled

TRUTH_MS = 100
BURST_GAP_MS = 130
RAMP_GAP_MS = 100
RAMP_RUN = 4
HOLD_AFTER_MS = 400
HOLD_GIVE_UP_MS = 8000
JUMP_QUIET_MS = 200
FLICK_MAX_MS = 2000
SOFT_PCT = 70     # a pulse under this share of the strongest duty felt so far is soft

_CONTRACT = 1
_RELAX = 2
_DROP = 3
_PUSH = 4
_CLASS = (_RELAX, _CONTRACT, _CONTRACT, _RELAX, _DROP, _CONTRACT, _PUSH)


def hue(v):
    """Hue 0..359 of a 0xRRGGBB colour, or -1 when it is too dark or too pale to name."""
    r = (v >> 16) & 0xFF
    g = (v >> 8) & 0xFF
    b = v & 0xFF
    hi = max(r, g, b)
    lo = min(r, g, b)
    if hi < 3 or lo * 2 > hi:
        return -1
    d = hi - lo
    if hi == r:
        h = 60 * (g - b) // d
    elif hi == g:
        h = 120 + 60 * (b - r) // d
    else:
        h = 240 + 60 * (r - g) // d
    return h % 360


def colour_muscle(v):
    """The muscle cue a person reads from the pixel colour, or -1 (not a muscle cue)."""
    h = hue(v)
    if h < 0:
        return -1            # dark or pale (idle, paused)
    if h < 8 or h >= 330:
        return M_RELEASE     # red: the tension alarm (or a fault), "let go"
    if h < 22:
        return M_MAX
    if h < 50:
        return M_SQUEEZE
    if h < 160:
        return -1            # green: target reached, or the idle "done" glow
    if h < 205:
        return M_REST
    if h < 255:
        return M_RELEASE
    if h < 292:
        return M_DROP        # purple (about 270)
    return M_PUSH            # magenta (about 315)


def _kind(ms):
    """One pulse by its length (the engine's pulses are whole ticks: 40, 60, 80, 100, 120,
    160, 200, 260, 300 ms at 50 Hz)."""
    if ms <= 25:
        return "blip"        # one control tick: the done pattern cut off as the device idles
    if ms <= 50:
        return "tick"
    if ms <= 70:
        return "short"       # drop (full), exhale (soft)
    if ms <= 90:
        return "double"      # release
    if ms <= 140:
        return "push"        # push (full, several), inhale (soft, one)
    if ms <= 180:
        return "alarm"       # tension
    if ms < 230:
        return "done"
    # contract (250 ms); longer when it cut into a pattern that was playing (the tension
    # alarm before a squeeze step). The fault pattern (300 + 50 ms) reads as this too.
    return "long"


def _soft(p):
    return len(p) > 2 and p[2]


def burst_muscle(pulses):
    """The muscle cue of a burst of vibration pulses [(start_ms, length_ms[, soft])], or -1.
    Patterns can cut into each other (a new one replaces the one playing), so a burst is read
    by the kinds of pulse it holds rather than by an exact match. Soft pulses only count when
    the burst has no full one, and then only the tension nudge means anything: "let go"."""
    full = [_kind(p[1]) for p in pulses if p[1] > 25 and not _soft(p)]
    if not full:
        soft = [_kind(p[1]) for p in pulses if p[1] > 25]
        return M_RELEASE if "alarm" in soft else -1
    kinds = full
    while len(kinds) > 1 and kinds[0] == "tick":
        kinds.pop(0)
    n = len(kinds)
    if "long" in kinds:
        return M_SQUEEZE
    if n >= 2 and "done" in kinds:
        return M_REST
    if kinds.count("push") >= 3:
        return M_PUSH
    if n >= 2 and ("double" in kinds or "push" in kinds):
        return M_RELEASE
    if "alarm" in kinds:
        return M_RELEASE     # the tension alarm: "let go"
    if kinds.count("short") >= 2:
        return M_DROP
    if kinds[0] == "tick":
        # "target reached" while the person thought they should relax: a contraction step
        # began with the pressure already over the target (residual tension), and the tick
        # cut the contract buzz short. Only a contraction is ever ticked.
        return M_SQUEEZE
    return -1


def burst_breath(pulses):
    """The breath cue of a burst of soft pulses, or -1: one ~120 ms pulse = inhale, ~60 ms
    pulses = exhale, three 40 ms ticks = hold. A burst with a full pulse is a muscle cue, and
    two soft ticks are the dropped confirmation, not a cue."""
    kinds = []
    for p in pulses:
        if p[1] <= 25:
            continue
        if not _soft(p):
            return -1
        kinds.append(_kind(p[1]))
    if kinds.count("tick") >= 3:
        return B_HOLD
    if kinds.count("short") >= 2:
        return B_EXHALE
    if len(kinds) == 1 and kinds[0] == "push":
        return B_INHALE
    return -1


def rep_obj(n, r):
    return {"n": n, "start_ms": r.start, "muscle": MUSCLES[r.muscle],
            "effort": int(r.effort * 1000 + 0.5) / 1000, "missed": r.missed,
            "onset_ms": r.onset if r.onset >= 0 else None,
            "peak_cmH2O": int(r.peak * 100 + 0.5) / 100,
            "relax_ms": r.relax_ms if r.relax_ms >= 0 else None,
            "cough": r.cough, "bear_down": r.bear or r.bore}


def _r2(x):
    return scaled(x, 100) / 100


def drop_obj(n, d):
    """The truth.Drop record of one drop or push step (docs/simulator.md)."""
    resp = d.response()
    push = d.kind == "push"
    return {"n": n, "step": d.step, "kind": d.kind, "start_ms": d.start,
            "end_ms": d.end if d.end >= 0 else None,
            "onset_ms": d.onset if d.onset >= 0 and resp != "none" else None,
            "rest_cmH2O": _r2(d.rest), "floor_cmH2O": _r2(d.floor()) if d.n else None,
            "push_cmH2O": _r2(d.push()) if push and d.n else None,
            "response": resp, "pattern": d.pattern(), "cough": d.cough}


def episode_obj(n, e):
    """The truth.Episode record of one tension episode."""
    return {"n": n, "start_ms": e.start, "end_ms": e.end if e.end >= 0 else None,
            "peak_cmH2O": _r2(e.peak)}


class Watcher:
    def __init__(self, sampler, emit=None, has_led=True):
        self.s = sampler
        self.emit = emit
        self.has_led = has_led
        self.cls = _RELAX            # the muscle class the person currently follows
        self.muscle = M_REST
        self.contract_from = -1      # when the current contraction cue began to show
        self.flick = False
        self.breath = B_FREE
        # vibration
        self.m_on = -1
        self.m_duty = 0
        self.m_full = 0              # the strongest duty felt so far
        self.pulses = []
        self.m_off = 0
        # brightness (breathing)
        self.b_last = -1
        self.b_dir = 0
        self.b_run = 0
        self.b_run_t = 0
        self.b_t = -100000
        self.b_prev_t = -100000
        self.b_jump = False
        self.b_light = True          # the breath being followed was read from the light
        # truth
        self.next_truth = 0
        self.sent = []               # per rep: (onset, relax, closed) last emitted
        self.sent_drops = []         # per drop/push step: (onset, end, cough) last emitted
        self.sent_eps = []           # per tension episode: end last emitted
        self.perceived = 0

    # -- output changes --------------------------------------------------------------------

    def see(self, t, ch, v):
        if ch == "motor":
            self._motor(t, v)
        elif ch == "pixel":
            if isinstance(v, int):
                m = colour_muscle(v)
                if m >= 0:
                    self._muscle(t, t, m)
                if not self.has_led:
                    self._bright(t, max((v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF))
        elif ch == "led":
            self._bright(t, v)

    def _motor(self, t, v):
        s = self.s
        if v and self.m_on >= 0 and v != self.m_duty:
            self._pulse_end(t)   # a new pattern cut in at another strength
        if v:
            if self.m_on < 0:
                if self.pulses and t - self.m_off >= BURST_GAP_MS:
                    self._burst(t)
                self.m_on = t
                self.m_duty = v
                if v > self.m_full:
                    self.m_full = v
                s.motor_on(True)
            return
        if self.m_on < 0:
            return
        s.motor_on(False)
        self._pulse_end(t)

    def _pulse_end(self, t):
        soft = self.m_duty * 100 < SOFT_PCT * self.m_full
        self.pulses.append((self.m_on, t - self.m_on, soft))
        self.m_on = -1
        self.m_off = t
        if not soft and _kind(t - self.pulses[-1][0]) == "long":
            # one long buzz: no other pattern has one, act at once (and forget what came
            # before it in the burst: a target tick or the tension alarm)
            self.pulses = self.pulses[-1:]
            self._burst(t)

    def _burst(self, t):
        m = burst_muscle(self.pulses)
        b = burst_breath(self.pulses)
        start = self.pulses[0][0]
        self.pulses = []
        if m >= 0:
            self._muscle(t, start, m)
        elif b >= 0:
            self._breath(t, start, b, False)

    def _muscle(self, t, shown, m):
        c = _CLASS[m]
        if c == self.cls:
            return
        if self.cls == _CONTRACT and self.contract_from >= 0:
            self.flick = shown - self.contract_from <= FLICK_MAX_MS
        self.cls = c
        if c == _CONTRACT:
            self.contract_from = shown
            if m == M_SQUEEZE and self.flick:
                m = M_FLICK
        self.muscle = m
        self._perceive(t, shown, m, None)

    def _breath(self, t, shown, b, by_light=True):
        if b == self.breath:
            return
        self.breath = b
        self.b_light = by_light
        self._perceive(t, shown, None, b)

    def _perceive(self, t, shown, m, b):
        s = self.s
        if shown > t:
            shown = t
        s.perceive(t, shown, m, b)
        self.perceived += 1
        if self.emit is not None:
            self.emit(t, "person.cue", {"shown_ms": shown,
                                        "muscle": MUSCLES[m] if m is not None else None,
                                        "breath": BREATHS[b] if b is not None else None})

    def _bright(self, t, v):
        last = self.b_last
        self.b_last = v
        if last < 0 or v == last:
            return
        d = 1 if v > last else -1
        quiet = t - self.b_t
        if d == self.b_dir and quiet <= RAMP_GAP_MS:
            self.b_run += 1
        else:
            self.b_dir = d
            self.b_run = 1
            self.b_run_t = t
        self.b_prev_t = self.b_t
        self.b_t = t
        # a lone, big change after a quiet spell (not the slow start of a ramp): decided in
        # poll() once it stays quiet
        self.b_jump = quiet >= JUMP_QUIET_MS and abs(v - last) * 3 >= max(v, last)
        if self.b_run == RAMP_RUN:
            self._breath(t, self.b_run_t, B_INHALE if d > 0 else B_EXHALE)

    # -- time ------------------------------------------------------------------------------

    def poll(self, t):
        if self.pulses and self.m_on < 0 and t - self.m_off >= BURST_GAP_MS:
            self._burst(t)
        quiet = t - self.b_t
        if self.b_jump and quiet >= JUMP_QUIET_MS:
            self.b_jump = False
            if self.b_run == 1:
                self._breath(t, self.b_t, B_FREE)
        b = self.breath
        # a breath felt as vibration is held until the next one, not timed out by the light
        if not self.b_light:
            pass
        elif (b == B_INHALE or b == B_EXHALE) and quiet >= HOLD_AFTER_MS:
            self._breath(t, self.b_t, B_HOLD)
        elif b == B_HOLD and quiet >= HOLD_GIVE_UP_MS:
            self._breath(t, t, B_FREE)
        if self.emit is not None and t >= self.next_truth:
            self.next_truth = t - t % TRUTH_MS + TRUTH_MS
            self._truth(t)

    def _truth(self, t):
        s = self.s
        emit = self.emit
        if emit is None:
            return
        p = s.person
        emit(t, "truth", [int(s.values["gain"] * p.muscle * 100) / 100,
                          int(p.activation() * 1000) / 1000, s.artifact])
        reps = s.book.reps
        sent = self.sent
        n = len(reps)
        while len(sent) < n:
            sent.append(None)
        for i in range(n):
            r = reps[i]
            key = (r.onset, r.relax_ms, i < n - 1 or s.book.open is None, r.cough, r.bear,
                   int(r.peak))
            if key != sent[i]:
                sent[i] = key
                emit(t, "truth.rep", rep_obj(i + 1, r))
        drops = s.drops.drops
        sent = self.sent_drops
        for i in range(len(drops)):
            d = drops[i]
            if i == len(sent):
                sent.append(None)
            key = (d.onset, d.end, d.cough)
            if key != sent[i]:
                sent[i] = key
                emit(t, "truth.drop", drop_obj(i + 1, d))
        eps = s.tension.episodes
        sent = self.sent_eps
        for i in range(len(eps)):
            e = eps[i]
            if i == len(sent):
                sent.append(None)
            if e.end != sent[i]:
                sent[i] = e.end
                emit(t, "truth.tension", episode_obj(i + 1, e))
