"""Cue envelopes as numbers: what the LED, the RGB pixel and the vibration motor should show at
each tick. No hardware calls here; the board shell copies led/rgb/motor to its outputs.

- LED duty 0..65535 through a gamma table (perceived brightness is not linear in duty).
  Breath steps ramp it (inhale up, exhale down, hold keeps the level); muscle-only steps show
  effort (bright for squeeze, dim for release).
- RGB colour per muscle cue, green once the target is reached, a steady warm red while a tension
  episode lasts (a nudge to let go, not a flashing alarm).
- Vibration: one pattern per transition, every pulse >= 40 ms (shorter is not felt as vibration,
  anchors section 5); none lasts longer than 700 ms in all. Muscle cues play at the full
  vibration setting; breath pulses, the tension nudge and the "dropped" confirmation play soft
  (SOFT_PCT of it), so with eyes closed a person tells "do something" from "breathe" or "well
  done" by strength as well as rhythm. When a breath change comes with a muscle change, the
  breath pattern follows the muscle one after a gap (GAP_MS) instead of being lost.
"""
from array import array

from pacer._compat import const, native
from pacer.program import (
    B_EXHALE,
    B_FREE,
    B_HOLD,
    B_INHALE,
    M_DROP,
    M_FLICK,
    M_MAX,
    M_PUSH,
    M_SQUEEZE,
)

# patterns: durations in 10 ms units, alternating on/off, starting with on
PATTERNS = (
    b"",                    # 0 none
    b"\x19",                # 1 contract: one 250 ms buzz
    b"\x08\x08\x08",        # 2 release/rest: two 80 ms
    b"\x06\x06\x06\x06\x06",  # 3 drop: three 60 ms
    b"\x04",                # 4 target reached: one 40 ms tick
    b"\x0f\x14\x0f",        # 5 tension nudge (soft): two 150 ms
    b"\x0c",                # 6 inhale (soft): 120 ms
    b"\x06\x06\x06",        # 7 exhale (soft): two 60 ms
    b"\x04\x06\x04\x06\x04",  # 8 hold (soft): three 40 ms
    b"\x14\x0a\x14",        # 9 done / start: two 200 ms
    b"\x1e\x0a\x05",        # 10 fault: 300 ms then 50 ms
    b"\x0a\x0a\x0a\x0a\x0a\x0a\x0a",  # 11 push: four 100 ms
    b"\x04\x08\x04",        # 12 dropped (soft): two 40 ms, "the floor let go"
)
PAT_NONE = const(0)
PAT_CONTRACT = const(1)
PAT_RELAX = const(2)
PAT_DROP = const(3)
PAT_REACHED = const(4)
PAT_TENSION = const(5)
PAT_INHALE = const(6)
PAT_EXHALE = const(7)
PAT_HOLD = const(8)
PAT_DONE = const(9)
PAT_FAULT = const(10)
PAT_PUSH = const(11)
PAT_DROPPED = const(12)
# played at SOFT_PCT of the vibration setting: guidance and confirmation, not a call to act
SOFT = b"\x00\x00\x00\x00\x00\x01\x01\x01\x01\x00\x00\x00\x01"
SOFT_PCT = const(45)
GAP_MS = const(200)

# colours per muscle cue: rest, squeeze, flick, release, drop, max, push. An array, not a tuple:
# frozen into a firmware image, tuple ints past +/-8191 become big integers and `>> 16` on one
# allocates; array items are plain small ints.
COLOURS = array("i", [0x006060, 0xFF8000, 0xFF8000, 0x0040FF, 0x8000FF, 0xFF4000, 0xFF00C0])
GREEN = const(0x00FF00)
NUDGE = const(0xFF2000)
RED = const(0xFF0000)
WHITE = const(0xFFFFFF)

_DIM = const(20)
_LOW = const(26)
_MID = const(160)
_FULL = const(255)
# the running step's kind of light (Cue.free): paced by the breath, or free breathing in a
# contraction (full when the target is reached) or not (dim)
_PACED = const(0)
_FREE_SQUEEZE = const(1)
_FREE_REST = const(2)


def _gamma_table():
    t = array("H", [0] * 256)
    for i in range(256):
        t[i] = int(65535 * (i / 255) ** 2.2 + 0.5)
    return t


@native
def scale(colour, num, den):
    """0xRRGGBB with each channel scaled by num/den, ints only."""
    r = ((colour >> 16) & 0xFF) * num // den
    g = ((colour >> 8) & 0xFF) * num // den
    b = (colour & 0xFF) * num // den
    return (r << 16) | (g << 8) | b


@native
def _ease(x):
    """Smoothstep on 0..256 -> 0..256, ints only."""
    if x <= 0:
        return 0
    if x >= 256:
        return 256
    return (x * x * (768 - 2 * x)) >> 16


class Cue:
    def __init__(self, settings):
        self.s = settings
        self.gamma = _gamma_table()
        self.led = 0
        self.rgb = 0
        self.motor = 0
        self.level = 0
        self._colour = -1  # the colour led/rgb were computed for; -1: recompute
        self.pat = 0
        self.pat_t0 = 0
        self.next_pat = 0
        self.hold_level = _LOW
        # the step step() entered, for running()
        self.breath = B_FREE
        self.muscle = 0
        self.dur = 0
        self.colour = COLOURS[0]
        self.free = _FREE_REST

    def trigger(self, pat, t):
        self.pat = pat
        self.pat_t0 = t
        self.next_pat = PAT_NONE

    def step(self, t, breath, muscle, prev_muscle, prev_breath, dur):
        """Start the transition patterns for entering a step of dur ms: the muscle's, then the
        breath's."""
        self.breath = breath
        self.muscle = muscle
        self.dur = dur
        squeeze = muscle == M_SQUEEZE or muscle == M_FLICK or muscle == M_MAX
        # what running() asks of the step on every tick, worked out here once (each module-level
        # name it reads is a hash look-up on the chip)
        self.colour = COLOURS[muscle]
        self.free = _PACED if breath != B_FREE else (_FREE_SQUEEZE if squeeze else _FREE_REST)
        mp = PAT_NONE
        if muscle != prev_muscle:
            if squeeze:
                mp = PAT_CONTRACT
            elif muscle == M_DROP:
                mp = PAT_DROP
            elif muscle == M_PUSH:
                mp = PAT_PUSH
            else:
                mp = PAT_RELAX
        bp = PAT_NONE
        if self.s.haptic_breath and breath != prev_breath:
            if breath == B_INHALE:
                bp = PAT_INHALE
            elif breath == B_EXHALE:
                bp = PAT_EXHALE
            elif breath == B_HOLD:
                bp = PAT_HOLD
        if mp:
            self.trigger(mp, t)
            self.next_pat = bp
        elif bp:
            self.trigger(bp, t)

    @native
    def _motor(self, t):
        pat = PATTERNS[self.pat]
        if not pat:
            return 0
        e = (t - self.pat_t0) // 10
        for i in range(len(pat)):
            e -= pat[i]
            if e < 0:
                if i % 2:
                    return 0
                v = self.s.vibration
                return v * SOFT_PCT // 100 if SOFT[self.pat] else v
        if self.next_pat and e * 10 >= GAP_MS:
            self.pat_t0 = t
            self.pat = self.next_pat
            self.next_pat = PAT_NONE
            return self._motor(t)
        if not self.next_pat:
            self.pat = PAT_NONE
        return 0

    @native
    def _out(self, level, colour):
        if level == self.level and colour == self._colour:
            return  # led and rgb are already these (most ticks of a step)
        s = self.s
        self.level = level
        self._colour = colour
        if s.haptic_only:
            self.led = 0
            self.rgb = 0
            return
        bright = (level * (s.brightness >> 8)) >> 8
        self.led = self.gamma[bright]
        self.rgb = scale(colour, bright, 255)

    @native
    def running(self, t, pos, reached, tension):
        """Outputs for the running step (the one step() entered): pos ms into it. Every tick:
        few locals (on MicroPython a frame past 11 words comes from the heap), and no call
        when nothing changes."""
        b = self.free
        if b == _FREE_SQUEEZE:
            level = _FULL if reached else _MID
        elif b == _FREE_REST:
            level = _DIM * 3
        else:
            b = self.breath
            pos = (pos << 8) // self.dur if self.dur > 0 else 256  # 0..256 through the step
            if b == B_INHALE:
                level = _LOW + (((_FULL - _LOW) * _ease(pos)) >> 8)
                self.hold_level = _FULL
            elif b == B_EXHALE:
                level = _FULL - (((_FULL - _LOW) * _ease(pos)) >> 8)
                self.hold_level = _LOW
            else:
                level = self.hold_level
        b = self.colour
        if tension:
            b = NUDGE
            if level < _MID:
                level = _MID
        elif reached:
            b = GREEN
        if level != self.level or b != self._colour:
            self._out(level, b)
        self.motor = self._motor(t) if self.pat else 0  # no pattern plays: no vibration

    def paused(self, t):
        # a slow 0.5 Hz glow says "waiting for you"
        x = (t % 2000) >> 3
        if x > 125:
            x = 250 - x
        self._out(_DIM + x // 2, WHITE)
        self.motor = 0

    def done(self, t):
        self._out(_MID, GREEN)
        self.motor = self._motor(t)

    @native
    def fault(self, t):
        self._out(_FULL if (t // 250) % 2 == 0 else 0, RED)
        # never vibrate on a fault beyond the one announcing pattern, and never if it already ended
        self.motor = self._motor(t) if self.pat == PAT_FAULT else 0

    def off(self):
        self.led = 0
        self.rgb = 0
        self._colour = -1
        self.motor = 0
        self.pat = PAT_NONE
        self.next_pat = PAT_NONE
