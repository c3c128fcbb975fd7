"""The thinned pressure trace in every session log (pacer_app.trace): one value per 250 ms per
step, logged at the phase boundary with the step's events, coarser for steps over 64 s, and
drawn by `pacer report` when no telemetry CSV came with the session."""
import json
from array import array

from pacer_app import trace
from pacer_app.trace import Trace


def _tenths(d):
    return list(array("h", bytes.fromhex(d["p"])))


def _values(rec):
    d = json.loads(rec)
    return d, _tenths(d)


def test_means_per_period_in_tenths():
    tr = Trace()
    tr.begin(1000, 3)
    for k in range(1, 26):              # 500 ms of 20 ms ticks: 1000 cp, then 2000 cp
        t = 1000 + 20 * k
        tr.add(t, 1000 if t <= 1250 else 2000)
    d, v = _values(tr.record())
    assert (d["t_ms"], d["type"], d["step"], d["dt_ms"]) == (1000, "trace", 3, 250)
    # 12 samples of 10.00 cmH2O then one of 20.00 in the first period (its end sample); the
    # second wholly 20.00: (12 * 1000 + 2000) // 13 = 1076 cp -> 108
    assert v == [108, 200]


def test_a_long_step_is_thinned_into_one_bounded_record():
    tr = Trace()
    tr.begin(0, 0)
    t = 0
    while t < 300000:                   # a 5-minute rest, a slow ramp 0 -> 30 cmH2O
        t += 20
        tr.add(t, t // 100)
    d, v = _values(tr.record())
    assert d["dt_ms"] == 2000 and len(v) in (149, 150), (d["dt_ms"], len(v))
    # each value is the mean over its own 2 s: the ramp's value at the interval's middle
    for i, x in enumerate(v):
        mid = (i + 0.5) * 2000
        assert abs(x - mid / 1000) <= 2, (i, x, mid)   # each halving rounds down once
    assert len(tr.record()) < 1200       # well within the log's 2 KB record limit
    # extreme readings are clamped to int16, never wrapped
    tr.begin(0, 0)
    for t in range(20, 1001, 20):
        tr.add(t, -400000 if t <= 500 else 400000)
    assert _values(tr.record())[1] == [-32768, -32768, 32767, 32767]


def test_no_record_before_any_whole_period_or_outside_a_step():
    tr = Trace()
    assert tr.record() is None
    tr.begin(0, 2)
    tr.add(100, 500)
    assert tr.record() is None
    tr.begin(0, -1)
    for t in range(20, 1000, 20):
        tr.add(t, 500)
    assert tr.record() is None


def test_the_session_log_holds_one_trace_per_step_before_the_summary(tmp_path):
    from app_rig import Rig
    rig = Rig(tmp_path, program="flicks", level=25.0, rest=15.0)
    rig.usb.send("start flicks\n")
    rig.run(100)
    rig.start_ms = rig.w.now_ms()
    rig.run(60000)
    rig.usb.send("stop\n")
    rig.run(200)
    recs = [json.loads(x) for x in rig.store.read_session(1)]
    assert recs[-1]["type"] == "summary"
    traces = [r for r in recs if r.get("type") == "trace"]
    phases = [r for r in recs if r.get("type") == "phase"]
    assert [r["step"] for r in traces] == [p["step"] for p in phases]
    assert [r["t_ms"] for r in traces] == [p["t_ms"] for p in phases]
    assert all(r["dt_ms"] == trace.PERIOD_MS for r in traces)
    # the flicks show: rest near 15 cmH2O above zero is the board's zero, so look at the
    # shape: each flick step's trace rises well above the rest steps' before it
    rest = _tenths(traces[0])
    flicks = [max(_tenths(r)) for r, p in zip(traces, phases) if p["muscle"] == "flick"]
    assert flicks and min(flicks) > max(rest) + 50, (flicks, rest)


def _b64(tenths):
    return array("h", tenths).tobytes().hex()


def test_report_draws_the_boards_trace_without_a_csv(tmp_path):
    from host_tools.commands import report
    p = tmp_path / "session-00001.jsonl"
    recs = [{"program": "kegel", "started": 1796083200},
            {"t_ms": 0, "type": "phase", "step": 0, "breath": "free", "muscle": "rest",
             "role": None, "duration_ms": 1000},
            {"t_ms": 0, "type": "trace", "step": 0, "dt_ms": 250, "p": _b64([1, 2, 3, 4])},
            {"t_ms": 1000, "type": "phase", "step": 1, "breath": "free", "muscle": "squeeze",
             "role": None, "duration_ms": 500},
            {"t_ms": 1000, "type": "trace", "step": 1, "dt_ms": 250, "p": _b64([150, 160])},
            {"t_ms": 1500, "type": "rep", "step": 1, "index": 1, "kind": "squeeze",
             "target_cmH2O": 12.5, "achieved": True, "peak_cmH2O": 16.0, "held_ms": 400,
             "relax_ms": None, "flags": []},
            {"t_ms": 1500, "type": "summary", "program": "kegel", "reps": 1}]
    p.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    s = report.Session(str(p))
    assert s.frames_from == "board"
    assert s.frames == [(125, 0.1, 0.0), (375, 0.2, 0.0), (625, 0.3, 0.0), (875, 0.4, 0.0),
                        (1125, 15.0, 12.5), (1375, 16.0, 12.5)]
    assert report.board_trace({"p": "01z"}) is None        # damaged: no curve, no crash
    report.plot_session(s, str(tmp_path / "s.png"))
    assert (tmp_path / "s.png").stat().st_size > 1000


_VM_STEPS = """
from pacer_app.trace import Trace
tr = Trace()
tr.begin(0, 1)
t = 0
while t < 70000:   # past one halving
    t += 20
    tr.add(t, (t // 7) % 3000 - 500)
print(tr.record())
"""


def test_the_board_writes_the_same_record_as_cpython(mpvm):
    from pathlib import Path
    fw = Path(__file__).resolve().parents[1] / "firmware"
    res = mpvm.check(_VM_STEPS, dirs={"/fw": fw}, path=["/fw"])
    ns = {}
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(_VM_STEPS, ns)
    assert res.stdout.strip() == buf.getvalue().strip()
    d, v = _values(res.stdout.strip())
    assert d["dt_ms"] == 500 and len(v) == 140


def test_a_kegel_sessions_trace_stays_within_its_flash_budget(tmp_path):
    # the budget pacer_app/trace.py documents: a kegel log about 29 KB, 11 KB of it the trace
    from app_rig import Rig
    rig = Rig(tmp_path, program="kegel")
    rig.usb.send("start kegel\n")
    rig.run(100)
    rig.start_ms = rig.w.now_ms()
    rig.run(8 * 60000)
    raw = next((tmp_path / "sessions").glob("*.log")).read_bytes()
    lines = raw.split(b"\n")
    assert b'"type": "summary"' in lines[-2]                  # the session ended
    trace = sum(len(x) + 1 for x in lines if b'"type": "trace"' in x)
    assert 9000 < trace <= 12000 and len(raw) <= 31000, (trace, len(raw))
