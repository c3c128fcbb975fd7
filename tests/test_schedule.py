"""Absolute-deadline scheduling: phases start on time whatever the sample rate or jitter; pause,
resume and stop behave."""
import json

import pytest

import synth
from pacer import builtin, program, replay
from pacer.engine import DONE, PAUSED, RUNNING, Engine
from pacer.settings import Settings


def phases(events):
    return [e for e in events if e["type"] == "phase"]


@pytest.mark.parametrize("rate,jitter", [(50, 0), (50, 6), (10, 20), (100, 3), (7, 0)])
def test_phase_times_follow_the_program_with_no_drift(rate, jitter):
    tl = builtin.load("ramp")
    tr = synth.person(tl, synth.effort(0.0), rate_hz=rate, jitter_ms=jitter, extend_ms=1000)
    ev = synth.run(tl, tr)
    ph = phases(ev)
    assert len(ph) == tl.n
    for e in ph:
        assert e["t_ms"] == tl.start_ms[e["step"]]
        assert e["duration_ms"] == tl.dur_ms[e["step"]]
    assert ev[-1]["type"] == "summary" and ev[-1]["duration_ms"] >= tl.total_ms


def _drive(eng, t_from, t_to, p=1500, out=None):
    for t in range(t_from, t_to, 20):
        eng.tick(t, p)
        if out is not None:
            while True:
                off = eng.q.pop()
                if off < 0:
                    break
                out.append((eng.q.buf[off], eng.q.buf[off + 1], eng.q.buf[off + 2]))


def test_pause_shifts_the_rest_of_the_program_by_exactly_the_pause():
    tl = builtin.load("box")
    eng = Engine(tl, Settings())
    eng.start()
    out = []
    _drive(eng, 0, 7000, out=out)
    eng.pause(7000)
    assert eng.state == PAUSED
    _drive(eng, 7000, 19000, out=out)   # 12 s paused: no phase may start meanwhile
    assert [e for e in out if e[0] == 1 and 7000 < e[1] < 19000] == []
    assert eng.cue.motor == 0
    eng.resume(19000)
    assert eng.state == RUNNING
    _drive(eng, 19000, 40000, out=out)
    starts = [e[1] for e in out if e[0] == 1]
    # box: 5 s lead-in, then 4 s steps; steps after the pause are 12 s late, exactly
    assert starts[:3] == [0, 5000, 9000 + 12000]
    assert starts[3] == 13000 + 12000


def test_stop_ends_with_an_incomplete_summary():
    tl = builtin.load("kegel")
    eng = Engine(tl, Settings())
    eng.start()
    _drive(eng, 0, 31000)
    eng.stop(31000)
    assert eng.state == DONE
    lines = []
    from pacer.replay import drain
    drain(eng, lines.append)
    s = json.loads(lines[-1])
    assert s["type"] == "summary" and s["completed"] is False and s["duration_ms"] == 31000
    assert s["reps"] == 3  # the third rep, cut short in its squeeze, is reported as missed


def test_short_trace_stops_early_and_long_trace_is_cut_at_program_end():
    tl = program.build({"name": "x", "blocks": [{"steps": [{"s": 10, "role": "baseline"},
                                                            {"s": 5, "muscle": "squeeze"},
                                                            {"s": 5, "muscle": "release"}]}]})
    rows = [(t, 1500, -1000000) for t in range(0, 40000, 20)]
    lines = []
    replay.run(tl, Settings(), rows, lines.append, t0=1000)
    ev = [json.loads(x) for x in lines]
    assert ev[0]["t_ms"] == 1000  # times are reported on the trace's clock
    assert ev[-1]["type"] == "summary" and ev[-1]["completed"] is True
    assert ev[-1]["t_ms"] == 1000 + 20000
    lines = []
    replay.run(tl, Settings(), rows[:600], lines.append)
    assert json.loads(lines[-1])["completed"] is False
