"""The engine inside the real MicroPython VM: identical output to CPython, no allocation per tick,
and it fits a Pico's heap."""
import json

import pytest

import synth
from host_tools import replay as host_replay
from host_tools import trace as host_trace
from pacer import builtin, program


def _trace_file(tmp_path, tl, fn, abd=False, **kw):
    tr = synth.person(tl, fn, extend_ms=1000, **kw)
    for k in range(0, len(tr), 997):
        tr[k][1] += 70.0                       # single-sample spikes
    synth.cough(tr, 12500, amp=50.0)
    a = [9.0 + 0.3 * (s[1] - 15.0) for s in tr] if abd else None
    path = tmp_path / "trace.csv"
    path.write_text(synth.csv_text(tr, a))
    return host_trace.read(str(path))


CASES = [
    ("kegel", 25.0, False),
    ("flicks", 30.0, True),
    ("reverse-kegel", 0.0, False),
    ("reverse-kegel", 0.0, True),
    ("push", 0.0, True),
    ("assessment", 35.0, True),
    ("box", 0.0, False),
]


@pytest.mark.parametrize("name,level,abd", CASES)
def test_cpython_and_micropython_replays_are_identical(tmp_path, name, level, abd):
    spec = builtin.spec(name)
    tl = program.build(spec)
    tr = _trace_file(tmp_path, tl, synth.effort(level), abd=abd, rate_hz=50, jitter_ms=3,
                     noise=0.4)
    a = host_replay.run_cpython(tl, tr)
    b = host_replay.run_micropython(spec, tr)
    assert len(a) > tl.n
    assert a == b
    assert json.loads(a[-1])["type"] == "summary"


ALLOC_CODE = """
import gc
import mpvm_host
from pacer import builtin
from pacer.engine import Engine
from pacer.replay import drain as drain_events
from pacer.settings import Settings
eng = Engine(builtin.load(%r), Settings(%s))
eng.start()
sink = []
def drain():
    del sink[:]
    drain_events(eng, sink.append)
def level(t):
    return %s
t = 0
worst = 0
total = 0
ticks = 0
def abd(t):
    return %s
while t < %d:
    p = level(t) + (t * 7919) %% 37
    q = abd(t)
    if t >= %d:
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        if q is None:
            eng.tick(t, p)
        else:
            eng.tick(t, p, q)
        used = gc.mem_alloc() - a
        gc.enable()
        if eng.q.count == 0:
            # steady-state tick: nothing to report
            total += used
            ticks += 1
            worst = max(worst, used)
        drain()
    elif q is None:
        eng.tick(t, p)
        drain()
    else:
        eng.tick(t, p, q)
        drain()
    t += 20
    if t %% 2000 == 0:
        await mpvm_host.collect()
print(ticks, total, worst)
"""


@pytest.mark.parametrize("name,settings,level,abd,until,measure_from", [
    ("kegel", "{}", "4000 if 10400 <= t %% 10000 < 15400 and t > 10000 else 1500", "None", 95000,
     30000),
    ("resonance", "{'haptic_breath': True}", "1500", "None", 60000, 10000),
    ("reverse-kegel", "{}", "1200 if (t // 5000) % 2 else 1500", "None", 90000, 20000),
    ("reverse-kegel", "{}", "1200 if (t // 5000) % 2 else 1500", "900 + (t // 50) % 100", 90000,
     20000),
    ("push", "{}", "1200 if (t // 5000) % 2 else 1500", "900 + (t % 10000) // 40", 120000,
     20000),
])
def test_steady_state_ticks_allocate_nothing(mpvm, name, settings, level, abd, until,
                                             measure_from):
    res = mpvm.check(ALLOC_CODE % (name, settings, level.replace("%%", "%"), abd, until,
                                   measure_from))
    ticks, total, worst = [int(x) for x in res.stdout.split()]
    assert ticks > 1000
    assert total == 0, "allocated %d bytes over %d steady ticks (worst %d)" % (total, ticks, worst)


def test_a_full_assessment_runs_from_source_in_a_120_kb_heap(mpvm, tmp_path):
    # compiled from .py in the VM: the source compiler's garbage comes on top of the engine;
    # the deployed (.mpy) session heap is budgeted in test_budget.py. It needed 109-112 KB until
    # the tick's bodies became generators (their code and pacer.tone: 113-116 KB)
    tl = builtin.load("assessment")
    tr = synth.person(tl, synth.effort(30.0), extend_ms=1000)
    path = tmp_path / "t.csv"
    path.write_text(synth.csv_text(tr))
    lines = host_replay.run_micropython(builtin.spec("assessment"), host_trace.read(str(path)),
                                        heap=120 * 1024)
    s = json.loads(lines[-1])
    assert s["type"] == "summary" and s["completed"] is True and s["reps"] == 11
