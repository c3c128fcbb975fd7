"""Synthetic traces with known truth, for engine tests (independent of the full simulator).

A scripted person follows a timeline: after a latency they move first-order toward the level a
scenario asks for. Artifacts are added afterwards, so each test controls exactly what it sees.
"""
import math

from pacer.engine import ABSENT
from pacer.program import M_DROP, M_FLICK, M_MAX, M_SQUEEZE


def effort(level=25.0, drop=-2.0):
    """The default scenario: squeeze to `level` cmH2O above rest, relax fully, drop a little."""
    def fn(i, muscle, pos, dur):
        if muscle in (M_SQUEEZE, M_FLICK, M_MAX):
            return level
        if muscle == M_DROP:
            return drop
        return 0.0
    return fn


def person(tl, fn, rate_hz=50, rest=15.0, latency_ms=350, tau_ms=250, jitter_ms=0, seed=1,
           extend_ms=0, noise=0.0):
    """Returns a list of [t_ms, pressure_cmH2O] (floats) following the timeline."""
    step_ms = 1000.0 / rate_hz
    total = tl.total_ms + extend_ms
    out = []
    level = 0.0
    t = 0.0
    prev = 0.0
    x = seed * 2654435761 % 4294967296 or 1
    i = 0
    while t <= total:
        seen = t - latency_ms
        while i + 1 < tl.n and seen >= tl.start_ms[i + 1]:
            i += 1
        if seen < 0:
            aim = 0.0
        else:
            aim = fn(i, tl.muscle[i], seen - tl.start_ms[i], tl.dur_ms[i])
        dt = t - prev
        prev = t
        level += (aim - level) * (1 - math.exp(-dt / tau_ms))
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        n = ((x % 2001) / 1000.0 - 1.0) * noise
        out.append([int(round(t)), rest + level + n])
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        j = ((x % 2001) / 1000.0 - 1.0) * jitter_ms
        t += step_ms + j
    return out


def cough(trace, at_ms, amp=60.0, dur_ms=300):
    for s in trace:
        d = s[0] - at_ms
        if 0 <= d < dur_ms:
            rise = min(1.0, d / 40.0)
            s[1] += amp * rise * (1 - d / dur_ms)
    return trace


def spike(trace, at_ms, amp=80.0):
    for s in trace:
        if s[0] >= at_ms:
            s[1] += amp
            return trace
    return trace


def drift(trace, cm_per_min):
    for s in trace:
        s[1] += cm_per_min * s[0] / 60000.0
    return trace


def samples(trace, abd=None):
    """Float rows -> the engine's int samples (t, cp, abd_cp)."""
    out = []
    for k, s in enumerate(trace):
        a = ABSENT if abd is None else int(round(abd[k] * 100))
        out.append((s[0], int(round(s[1] * 100)), a))
    return out


def run(tl, trace, settings=None, abd=None, mvc_cp=0):
    """Replay and return the parsed events."""
    import json

    from pacer import replay
    from pacer.settings import Settings
    lines = []
    replay.run(tl, settings or Settings(), samples(trace, abd), lines.append, 0, mvc_cp)
    return [json.loads(x) for x in lines]


def reps(events):
    return [e for e in events if e["type"] == "rep"]


def csv_text(trace, abd=None):
    rows = ["t_ms,pressure_cmH2O" + (",abdominal_cmH2O" if abd else "")]
    for k, s in enumerate(trace):
        rows.append("%d,%.3f" % (s[0], s[1]) + (",%.3f" % abd[k] if abd else ""))
    return "\n".join(rows) + "\n"
