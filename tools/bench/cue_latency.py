"""Cue latency at engine level: a pressure step crossing the target, sampled at 50 Hz, to the
first tick whose cue shows it (reached flag, green colour and the 'reached' motor tick all
change on that tick). The step instant is uniformly placed between samples, so the figure
includes the sampling delay (0-20 ms) as well as the filter's. Runs the firmware's engine on
CPython: the same code and integer maths as on the board, so the same ticks.
"""
from pacer import builtin
from pacer.engine import Engine
from pacer.program import M_SQUEEZE
from pacer.settings import Settings

TICK = 20


def _green(rgb):
    """The colour if it is pure green (the cue scales GREEN by brightness), else -1."""
    return rgb if rgb and not rgb & 0xFF00FF else -1


def _trial(tl, offset_us, rest=1500, over=1.5, lead_ticks=60):
    """One squeeze step: rest until `lead_ticks` into the first squeeze step plus offset_us,
    then rest + over * target. Returns the latency in ms (float) or None."""
    eng = Engine(tl, Settings({}), 0)
    eng.start()
    sq = next(i for i in range(tl.n) if tl.muscle[i] == M_SQUEEZE)
    t_step_us = (tl.start_ms[sq] + lead_ticks * TICK) * 1000 + offset_us
    high = None
    t = 0
    while t <= tl.start_ms[sq] + lead_ticks * TICK + 2000:
        if t * 1000 >= t_step_us:
            if high is None:   # the target is absolute (baseline + share of MVC)
                high = rest + int((eng.target - rest) * over)
            p = high
        else:
            p = rest
        eng.tick(t, p)
        if t * 1000 >= t_step_us and eng.reached and eng.cue.rgb == _green(eng.cue.rgb):
            return (t * 1000 - t_step_us) / 1000.0
        t += TICK
    return None


def measure(n=200, program="kegel"):
    tl = builtin.load(program)
    lat = []
    missed = 0
    for k in range(n):
        offset_us = (k * 7919) % (TICK * 1000)   # spread evenly over the sampling interval
        v = _trial(tl, offset_us)
        if v is None:
            missed += 1
        else:
            lat.append(v)
    lat.sort()
    return {"cue_latency_p95_ms": lat[int(0.95 * (len(lat) - 1))] if lat else None,
            "cue_latency_max_ms": lat[-1] if lat else None,
            "cue_latency_median_ms": lat[len(lat) // 2] if lat else None,
            "cue_latency_steps": n, "cue_latency_missed": missed}


if __name__ == "__main__":
    import json
    print(json.dumps(measure()))
