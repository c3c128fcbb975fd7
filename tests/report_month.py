"""A month of simulated training, written as `pacer sessions pull` files, for report tests.

Each session is the simulator's person doing a built-in program (host_tools.sim), replayed
through the exercise engine (host_tools.replay, CPython), with the header the board writes and a
wall-clock start time. The person improves over the month: stronger and faster squeezes, less
tension left after a release, deeper drops. Some days are missed and some have one session, so
the calendar shows gaps. Every event, drops included, is the engine's own.

    python tests/report_month.py DIR [DAYS]     # writes DIR/session-NNNNN.jsonl
"""
import datetime
import json
import os
import sys
import tempfile

import host_tools.sim  # noqa: F401  (puts the engine on the path)
from host_tools import replay, trace
from host_tools.sim import simulate
from pacer import builtin

START = datetime.datetime(2026, 11, 2, 7, 30)    # a Monday morning
SKIPPED_DAYS = (4, 11, 12, 19, 25)               # days with no practice
ONE_SESSION_DAYS = (6, 15, 22, 27)               # days with only the morning session
EVENING = ("flicks", "resonance", "reverse-kegel")


def plan(days):
    """[(start datetime, program, day index)] of the month, morning and evening."""
    out = [(START - datetime.timedelta(minutes=30), "calibrate", 0)]
    for d in range(days):
        if d in SKIPPED_DAYS:
            continue
        day = START + datetime.timedelta(days=d)
        out.append((day + datetime.timedelta(minutes=7 * (d % 3)), "kegel", d))
        if d not in ONE_SESSION_DAYS:
            out.append((day + datetime.timedelta(hours=12, minutes=5 * (d % 4)),
                        EVENING[d % 3], d))
    return out


def person(day, days):
    """The persona's parameters on that day: a weak person getting stronger and looser."""
    f = day / max(1, days - 1)
    return {"mvc": round(17 + 14 * f, 1), "rise": round(13 + 12 * f, 1),
            "residual": round(0.25 * (1 - f), 3), "drop": round(1.0 + 3.0 * f, 2),
            "latency_ms": (300, 700)}


def session(start, program, day, days, seed, rate_hz=25):
    """The lines of one pulled session file."""
    tl = builtin.load(program)
    tr = simulate(tl, "weak", seed, rate_hz=rate_hz, overrides=person(day, days))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trace.csv")
        with open(path, "w") as f:
            tr.write_csv(f)
        t = trace.read(path)
    lines = replay.run_cpython(tl, t)
    events = [json.loads(ln) for ln in lines]
    header = {"program": program, "user": "default", "board": "pico", "mvc_cp": 0,
              "version": "sim", "started": int(start.timestamp())}
    return [json.dumps(header)] + [json.dumps(e) for e in events]


def make_month(out, days=30, rate_hz=25):
    """Write the month's sessions into OUT; returns their paths in time order."""
    os.makedirs(out, exist_ok=True)
    paths = []
    for n, (start, program, day) in enumerate(plan(days), 1):
        path = os.path.join(out, "session-%05d.jsonl" % n)
        with open(path, "w") as f:
            f.write("\n".join(session(start, program, day, days, seed=n, rate_hz=rate_hz))
                    + "\n")
        paths.append(path)
    return paths


if __name__ == "__main__":
    made = make_month(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30)
    print("wrote %d sessions to %s" % (len(made), sys.argv[1]))
