"""The 25 faults of anchors section 9, each injected and its safe behaviour asserted.

Every case is `case_NN(tmp) -> str` (a one-line result) and raises AssertionError when the
device does not behave safely. CASES lists (number, title, where injected, function).
Injection points: the engine (firmware/pacer), a driver through its simulated device (vdev
World fault switches), the whole App on CPython (DevRig) or the virtual board (vboard, the
real MicroPython VM running firmware/main.py).
"""
import json
import math
import time as _wall

import rel_rig as R
import synth
from host_tools.frames import parse_frame
from pacer import builtin, eventfmt
from pacer.engine import ABSENT, DONE, Engine
from pacer.settings import Settings
from pacer_app.config import defaults
from pacer_app.protocol import MAX_LINE
from pacer_hw import fault

KEGEL = builtin.load("kegel")
# sizes: the short versions (make test); tools/reliability.py raises them
SOAK_HOURS = 0.02
POWER_CUTS = [9]
LONG = False
SQUEEZE_1 = 10000  # kegel: 10 s baseline rest, then 5 s squeeze / 5 s release


def _person(rig, program="kegel", level=25.0, rest=15.0, mods=None, abd=None):
    """A scripted person following `program` from the session start on channel 0."""
    tl = builtin.load(program)
    tr = synth.person(tl, synth.effort(level), rate_hz=100, rest=rest, extend_ms=20000)
    if mods:
        mods(tr)
    state = {"t0": None}

    def p(t):
        t0 = state["t0"]
        if t0 is None:
            return tr[0][1]
        k = (t - t0) // 10
        return tr[min(max(k, 0), len(tr) - 1)][1]

    rig.w.set_pressure(0, p)
    if abd is not None:
        rig.w.set_pressure(1, abd)
    return state


def _start(rig, program="kegel", **kw):
    st = _person(rig, program, **kw)
    r = rig.command("start " + program)
    assert r["ok"], r
    st["t0"] = rig.w.now_ms()
    return st


def _faults(rig, kind=None):
    return [e for e in rig.events("fault") if kind is None or e["kind"] == kind]


def _sensor_fault_case(tmp, board, fault_name, kind, value=True, check_success=True):
    """Inject a sensor fault mid-squeeze; assert fault event, fault pattern, motor off, no reach,
    no achieved rep while faulted, and recovery after clearing."""
    rig = R.DevRig(tmp, board=board)
    _start(rig)
    rig.run(SQUEEZE_1 + 20000 + 1000)        # into the 3rd squeeze, person squeezing
    assert rig.app.engine.reached, "the scripted person should be at target before the fault"
    t_inj = rig.app.el
    rig.w.set_fault(fault_name, value, 0)
    seen = []

    def watch(r):
        seen.append((r.app.el, r.motor, r.app.engine.reached))

    rig.run(22000, each=watch)
    got = [e for e in _faults(rig, kind) if e["t_ms"] >= t_inj]
    assert got and got[0]["active"] is True, "no %s fault event: %r" % (kind, _faults(rig))
    t_f = got[0]["t_ms"]
    assert not any(x[2] for x in seen if x[0] > t_f), "success cue (reached) while faulted"
    # the fault pattern buzzes once (at most 1.5 s); after it the motor stays off
    assert all(x[1] == 0 for x in seen if x[0] > t_f + 1500), "motor on during a sensor fault"
    assert rig.app.status()["state"] == "running"
    new_reps = [r for r in rig.events("rep") if r["t_ms"] > t_f]
    assert new_reps and not any(r["achieved"] for r in new_reps), new_reps
    led_red = rig.board.pixel is None or rig.board.pixel.rgb & 0x00FFFF == 0  # red or dark
    assert led_red, "fault pattern not shown (pixel %r)" % rig.board.pixel.rgb
    # the stored log has the fault event too
    rig.store.flush()
    sid = rig.store.sessions()[-1][0]
    assert any('"type": "fault"' in x for x in rig.store.read_session(sid))
    if check_success:
        rig.w.clear_fault(fault_name, 0)
        rig.run(25000)
        cleared = [e for e in _faults(rig, kind) if e["active"] is False]
        assert cleared, "fault never cleared after the sensor came back"
        later = rig.events("rep")[-1]
        assert later["achieved"], "no recovery: %r" % later
    return "%s event %d ms after injection, motor off, no reach, rep not achieved%s" % (
        kind, t_f - t_inj, "; recovered" if check_success else "")


# 1 -------------------------------------------------------------------------------------------
def case_01(tmp):
    return _sensor_fault_case(tmp, "pico", "disconnect", "disconnected")


# 2 -------------------------------------------------------------------------------------------
def case_02(tmp):
    r = _sensor_fault_case(tmp / "a", "pico", "saturate", "over_range")
    # calibration with a clipped maximum squeeze: no %MVC from clipped data
    rig = R.DevRig(tmp / "b", board="pico")
    _start(rig, "calibrate", level=40.0)

    def clip(rg):
        t = rg.w.now_ms() - rg._t0
        rg.w.set_fault("saturate", any(a + 1000 <= t < a + 4000 for a in (20000, 35000, 50000)), 0)

    rig._t0 = rig.w.now_ms()
    rig.run(70000, each=clip)
    assert not rig.events("calibration"), "MVC adopted from clipped data: %r" % rig.events(
        "calibration")
    assert rig.store.load_cal("default") is None
    # control: the same calibration without clipping is adopted
    rig2 = R.DevRig(tmp / "c", board="pico")
    _start(rig2, "calibrate", level=40.0)
    rig2.run(70000)
    assert rig2.events("calibration") and rig2.store.load_cal("default") is not None
    return r + "; clipped MVC refused (control adopted)"


# 3 -------------------------------------------------------------------------------------------
def case_03(tmp):
    return _sensor_fault_case(tmp, "pico", "stuck", "stuck")


# 4 -------------------------------------------------------------------------------------------
def case_04(tmp):
    # NACK at boot: the board comes up, reads report bus_error within bounded transactions
    rig = R.DevRig(tmp / "boot", board="pico_w")
    rig.w.set_fault("nack", True)
    bus = rig.w.bus(5, 4)
    before = bus.transactions
    codes = []
    for _ in range(10):
        rig.w.advance_ms(20)
        codes.append(rig.board.read(rig.w.now_ms())[0])
    per_tick = (bus.transactions - before) / 10.0
    assert fault.BUS_ERROR in codes and per_tick <= 4, (codes, per_tick)
    st = rig.command("status")
    assert st["ok"]
    # mid-session
    r = _sensor_fault_case(tmp / "mid", "pico_w", "nack", "bus_error")
    return "boot: bus_error, %.1f transactions/tick; mid-session: %s" % (per_tick, r)


# 5 -------------------------------------------------------------------------------------------
def case_05(tmp):
    # held low, lets go after 9 clocks: recovered by clocking out and re-initialising
    rig = R.DevRig(tmp / "a", board="pico_w")
    _start(rig)
    rig.run(31000)
    rig.w.set_fault("bus_held_low", 9)
    codes = []
    rig.run(3000, each=lambda r: codes.append(r.board.sensor.fault))
    assert codes[-1] == fault.OK and rig.app.engine.reached, codes
    rig.run(30000)
    assert rig.events("rep")[-1]["achieved"]
    r = "held low: %d faulted ticks, then recovered" % sum(1 for c in codes if c)
    # shorted for good: stays faulted, the loop keeps ticking (bounded work per tick, WDT fed)
    rig = R.DevRig(tmp / "b", board="pico_w")
    _start(rig)
    rig.run(12000)
    rig.w.set_fault("bus_held_low", -1)
    wdt = _Wdt()
    vt = R.VTime(rig.w)
    R.run_loop(rig.app, vt, wdt, max_ticks=500)
    assert wdt.feeds == 500 and rig.w.now_ms() - 12000 < 500 * 20 + 1000
    assert _faults(rig, "bus_error") and rig.motor == 0
    return r + "; shorted bus: faulted, 500 ticks fed the watchdog on time"


class _Wdt:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


# 6 -------------------------------------------------------------------------------------------
def case_06(tmp):
    a = _sensor_fault_case(tmp / "a", "pico_w", "busy_forever", "busy_timeout")
    b = _sensor_fault_case(tmp / "b", "pico_w", "integrity_fail", "integrity")
    return "busy: " + a + " | integrity: " + b


# 7 -------------------------------------------------------------------------------------------
def case_07(tmp):
    return _sensor_fault_case(tmp, "pico2", "hx_never_ready", "not_ready")


# 8 -------------------------------------------------------------------------------------------
def case_08(tmp):
    tl = KEGEL
    tr = synth.person(tl, synth.effort(25.0), rate_hz=50, rest=15.0)
    synth.drift(tr, -3.0)  # a leak: -3 cmH2O/min, past the 10 cmH2O limit in ~3.5 min
    evs = synth.run(tl, tr)
    zeros = [e for e in evs if e["type"] == "zero"]
    leaks = [e for e in evs if e["type"] == "fault" and e["kind"] == "leak"]
    assert leaks, "no leak fault"
    # every zero happens during rest (baseline or release steps), never during a squeeze
    for z in zeros:
        i = max(k for k in range(tl.n) if tl.start_ms[k] <= z["t_ms"])
        assert tl.muscle[i] in (0, 3), "zeroed during muscle %d at %d" % (tl.muscle[i], z["t_ms"])
    # a slow (0.5 cmH2O/min) drift is followed without a leak fault
    tr2 = synth.drift(synth.person(tl, synth.effort(25.0), rate_hz=50, rest=15.0), -0.5)
    evs2 = synth.run(tl, tr2)
    assert not [e for e in evs2 if e["type"] == "fault" and e["kind"] == "leak"]
    assert sum(r["achieved"] for r in synth.reps(evs2)) >= 28
    return "leak flagged at %d ms; %d zero events all in rest; slow drift followed" % (
        leaks[0]["t_ms"], len(zeros))


# 9 -------------------------------------------------------------------------------------------
def case_09(tmp):
    tl = KEGEL
    # squeezing through the whole baseline (a held squeeze trembles, +-3 cmH2O at ~1 Hz):
    # no zero until a real rest
    tr = synth.person(tl, synth.effort(25.0), rate_hz=50, rest=15.0)
    for s in tr:
        if s[0] < 10000:
            s[1] += 20.0 + 3.0 * math.sin(s[0] / 160.0)
    evs = synth.run(tl, tr)
    zeros = [e for e in evs if e["type"] == "zero"]
    assert not zeros or zeros[0]["t_ms"] >= 10000, zeros[:1]
    # noisy probe (+-4 cmH2O) in the baseline: refused while noisy
    tr2 = synth.person(tl, synth.effort(25.0), rate_hz=50, rest=15.0)
    for s in tr2:
        if s[0] < 10000:
            s[1] += 4.0 if (s[0] // 20) % 2 else -4.0
    evs2 = synth.run(tl, tr2)
    z2 = [e for e in evs2 if e["type"] == "zero"]
    assert not z2 or z2[0]["t_ms"] >= 10000, z2[:1]
    z1 = synth.run(tl, synth.person(tl, synth.effort(25.0), rate_hz=50, rest=15.0))
    assert [e for e in z1 if e["type"] == "zero"][0]["t_ms"] < 10000  # control: quiet rest zeroes
    return "no zero while squeezed or noisy (first zero %s / %s ms); quiet control zeroes" % (
        zeros[0]["t_ms"] if zeros else None, z2[0]["t_ms"] if z2 else None)


# 10 ------------------------------------------------------------------------------------------
def case_10(tmp):
    tl = KEGEL

    def bear(i, muscle, pos, dur):  # slow push instead of a squeeze
        return min(30.0, pos / 200.0) if muscle == 1 else 0.0
    tr = synth.person(tl, bear, rate_hz=50, rest=15.0)
    abd = [max(0.0, s[1] - 15.0) * 1.2 + 9.0 for s in tr]  # the belly pushes with it
    reps = synth.reps(synth.run(tl, tr, abd=abd))
    assert reps and not any(r["achieved"] for r in reps), "bearing down was rewarded"
    assert any("bearing_down" in r["flags"] for r in reps)
    # coughs during rest: no squeeze is counted
    tr2 = synth.person(tl, lambda i, m, p, d: 0.0, rate_hz=50, rest=15.0)
    abd2 = [9.0] * len(tr2)
    for at in range(11000, 200000, 10000):
        synth.cough(tr2, at, amp=60.0)
        for k, s in enumerate(tr2):
            if 0 <= s[0] - at < 300:
                abd2[k] += 50.0
    evs = synth.run(tl, tr2, abd=abd2)
    assert not any(r["achieved"] for r in synth.reps(evs)), "a cough was rewarded"
    return "bearing down: %d reps, none achieved; coughs: none achieved" % len(reps)


# 11 ------------------------------------------------------------------------------------------
def case_11(tmp):
    tl = KEGEL
    tr = synth.person(tl, lambda i, m, p, d: 0.0, rate_hz=50, rest=15.0)
    for at in range(10500, 420000, 3700):
        synth.spike(tr, at, amp=80.0)
    evs = synth.run(tl, tr)
    assert not any(r["achieved"] for r in synth.reps(evs)), "a single-sample spike was rewarded"
    # motor switching noise on the real App: the supply dips while the motor runs
    rig = R.DevRig(tmp, board="pico")
    _start(rig, level=0.0)  # a person who never squeezes

    def noisy(r):
        r.w.set_fault("supply_sag", 0.97 if r.board.motor.out else 0, 0)
    rig.run(60000, each=noisy)
    assert any(m for (_, m) in rig.motor_log), "the motor never ran"
    assert not any(e["achieved"] for e in rig.events("rep")), "motor noise rewarded"
    assert not rig.app.engine.reached
    return "spikes and motor-on supply noise: no detection"


# 12 ------------------------------------------------------------------------------------------
def case_12(tmp):
    # the whole supply sags to 80 % whenever the motor runs (a weak battery): safe state
    rig = R.DevRig(tmp, board="pico")
    _start(rig)
    rig.run(SQUEEZE_1 + 1000)
    samples = []

    def sag(r):
        # (was the supply sagging during this tick, reached after it); then the next tick's
        was = bool(r.w.fault("supply_sag"))
        samples.append((r.app.el, r.board.motor.out, r.app.engine.reached, was))
        r.w.set_fault("supply_sag", 0.8 if r.board.motor.out else 0)
    rig.run(30000, each=sag)
    got = [e for e in _faults(rig, "not_ready") if e["active"]]
    assert got, "no fault from a sagging supply"
    assert not any(x[2] for x in samples if x[3]), "reward while the supply sagged"
    # the motor never runs longer than the fault pattern while the supply keeps sagging
    on = [x[0] for x in samples if x[1]]
    assert len(on) * 20 < 30000 // 4, "motor on %d ms of 30 s on a sagging supply" % (len(on) * 20)
    # low battery: the board stays below the limit: outputs off, no reward, fault shown
    rig.w.set_fault("supply_sag", 0.85)
    rig.run(5000)
    assert rig.motor == 0 and not rig.app.engine.reached
    assert rig.board.pixel is None or rig.board.pixel.rgb & 0x00FFFF == 0
    rig.w.clear_fault("supply_sag")
    rig.run(25000)
    assert [e for e in _faults(rig, "not_ready") if not e["active"]], "no recovery"
    return "supply sag with the motor: not_ready fault, motor on %d ms of 30 s, no reward; " \
        "low battery: outputs off; recovered" % (len(on) * 20)


# 13 ------------------------------------------------------------------------------------------
def case_13(tmp):
    # MVC = 0 with %MVC targets, zero-length steps, absurd pressures: no exception, no nan
    eng = Engine(builtin.load("kegel"), Settings(), 0)
    eng.start()
    lines = []
    t = 0
    vals = [0, 0, -100000, 100000, 0, 1, -1, 99999, ABSENT]
    for k in range(25000):
        t += 20
        eng.tick(t, vals[k % len(vals)] if k % 50 < 5 else 1500)
        while True:
            off = eng.q.pop()
            if off < 0:
                break
            lines.append(eventfmt.event_line(eng.q.buf, off, 0, eng.summary, eng.tl.name))
        if eng.state == DONE:
            break
    text = "\n".join(lines)
    for bad in ("nan", "NaN", "inf", "Infinity"):
        assert bad not in text, bad
    for x in lines:
        json.loads(x)
    from pacer_app.telemetry import Telemetry
    tel = Telemetry()
    for p in (0, -100000, 100000, 2 ** 31, -2 ** 31):
        fr = bytes(tel.frame(1, 10, p, 0, 0, 0, p))
        d = parse_frame(fr.decode().strip())
        assert d is not None and all(not (isinstance(v, float) and not math.isfinite(v))
                                     for v in d), d
    return "MVC 0 and absurd pressures: %d events, valid JSON, no nan/inf; frames finite" % len(
        lines)


# 14 ------------------------------------------------------------------------------------------
def case_14(tmp):
    rig = R.DevRig(tmp)
    rig.store.save_config({"target_pct": 55})
    rig.app.proto.feed(bytes(range(256)) * 4)
    rig.send("x" * 10240 + "\n")
    rig.send("status\x00\n\xff\xfe status\nstat")
    rig.send("us\n")  # partial line completed later
    rig.send("frobnicate 1 2 3\nconfig set target_pct 1e999\nconfig set loop_hz 999999999999\n"
             "S 1 2 3\nsessions get -5\n"
             "programs push {\"name\": [[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}\n")
    rig.run(4000)
    replies = rig.replies()
    assert any(r["cmd"] == "line" and not r["ok"] for r in replies), "no error for the 10 kB line"
    st = [r for r in replies if r["cmd"] == "status" and r["ok"]]
    assert st, "the partial line `stat`+`us` was not answered"
    assert all(not r["ok"] for r in replies if r["cmd"] != "status"), replies
    assert len(rig.app.proto._buf) == MAX_LINE
    assert rig.store.config_get("target_pct") == 55 and rig.store.config_get("loop_hz") == 50
    return "%d replies, all errors but status; config unchanged; line buffer %d B" % (
        len(replies), MAX_LINE)


# 15 ------------------------------------------------------------------------------------------
def _motor_timeline(tmp, ready):
    rig = R.DevRig(tmp, board="pico")
    rig.usb.ready = ready
    _start(rig)
    rig.app.stream = True
    rig.run(60000)
    return rig


def case_15(tmp):
    a = _motor_timeline(tmp / "a", lambda: True)
    b = _motor_timeline(tmp / "b", lambda: False)
    assert a.motor_log == b.motor_log, "cue timing changed when the host stops reading"
    assert b.app.tele.dropped > 2000 and a.app.tele.dropped == 0
    return "identical motor timeline (%d changes); %d frames dropped, none blocked" % (
        len(a.motor_log), b.app.tele.dropped)


# 16 ------------------------------------------------------------------------------------------
def case_16(tmp):
    rig = R.DevRig(tmp / "a", board="pico")
    _start(rig)
    rig.run(30000)
    plugged = [True]
    rig.usb.ready = lambda: plugged[0]
    plugged[0] = False           # unplugged: nothing goes out, nothing comes in
    rig.run(40000)
    plugged[0] = True            # replugged
    rig.run(10000)
    st = rig.command("status")
    assert st["state"] == "running" and st["t_ms"] >= 80000, st
    assert rig.command("stop")["ok"]
    recs = list(rig.store.read_session(rig.store.sessions()[-1][0]))
    reps = sum('"type": "rep"' in x for x in recs)
    assert reps == 8 and any('"type": "summary"' in x for x in recs), reps
    # battery only: no host link at all, started and stopped with the button
    rig2 = R.DevRig(tmp / "b", board="pico", usb=False)
    st2 = _person(rig2)
    pin = rig2.prof["button"]
    rig2.w.set_input(pin, 0)
    rig2.run(100)
    rig2.w.set_input(pin, 1)
    rig2.run(40)
    st2["t0"] = rig2.w.now_ms()
    rig2.run(60000)
    rig2.w.set_input(pin, 0)     # long press: stop, the session is saved
    rig2.run(1500)
    rig2.w.set_input(pin, 1)
    rig2.run(200)
    recs2 = list(rig2.store.read_session(rig2.store.sessions()[-1][0]))
    assert any('"type": "summary"' in x for x in recs2)
    achieved = sum('"achieved": true' in x for x in recs2)
    assert achieved >= 4, achieved
    return "unplugged 40 s mid-session: all %d reps stored; battery-only button session: %d " \
        "achieved, stored" % (reps, achieved)


# 17 ------------------------------------------------------------------------------------------
def case_17(tmp):
    import rel_power
    r = rel_power.run_cuts(tmp, cuts=POWER_CUTS, models=("littlefs", "direct") if LONG
                           else ("littlefs",))
    assert r["sessions_lost"] == 0 and r["config_lost"] == 0 and r["failures"] == [], r
    return "vboard: %d power cuts (log + config writes), 0 sessions/configs lost" % r["power_cuts"]


# 18 ------------------------------------------------------------------------------------------
def case_18(tmp):
    op = R.MemOpener()
    rig = R.DevRig(tmp, board="pico", opener=op)
    _start(rig)
    rig.run(30000)
    op.budget = 0  # the flash is full from now on
    rig.run(40000)
    assert not rig.store.logging and rig.store.dropped > 0
    assert rig.app.status()["state"] == "running"
    reps = [r for r in rig.events("rep") if r["t_ms"] > 30000]
    assert len(reps) == 4 and all(r["achieved"] for r in reps), reps
    assert any("logging stopped" in w for w in rig.store.warnings)
    assert rig.command("stop")["ok"]
    recs = list(rig.store.read_session(rig.store.sessions()[-1][0]))
    assert recs and all(json.loads(x) for x in recs)
    return "logging stopped (%d records dropped), exercise went on (4/4 reps), %d stored " \
        "records valid" % (rig.store.dropped, len(recs))


# 19 ------------------------------------------------------------------------------------------
DEF_TARGET = defaults()["target_pct"]


def case_19(tmp):
    out = []
    for name, cfg, bak, want in (
            ("empty, good backup", b"", b'{"target_pct": 60}\n', 60),
            ("truncated, good backup", b'{"target_pct": 6', b'{"target_pct": 60}\n', 60),
            ("empty, no backup", b"", None, DEF_TARGET),
            ("truncated, truncated backup", b'{"targ', b'{', DEF_TARGET),
            ("binary junk", bytes(range(256)), None, DEF_TARGET)):
        d = tmp / name.replace(" ", "_").replace(",", "")
        d.mkdir(parents=True)
        (d / "config.json").write_bytes(cfg)
        if bak is not None:
            (d / "config.bak").write_bytes(bak)
        rig = R.DevRig(d)
        assert rig.store.config_get("target_pct") == want, name
        assert rig.command("status")["ok"]
        out.append(want)
    return "empty/truncated/junk config -> backup or defaults (%s), device answers" % out


# 20 ------------------------------------------------------------------------------------------
def case_20(tmp):
    import rel_vb
    return rel_vb.cue_exception(tmp)


# 21 ------------------------------------------------------------------------------------------
def case_21(tmp):
    import rel_vb
    return rel_vb.hang_watchdog_safe_mode(tmp)


# 22 ------------------------------------------------------------------------------------------
def case_22(tmp):
    import rel_soak
    r = rel_soak.app_soak(tmp, hours=SOAK_HOURS)
    assert r["memory_errors"] == 0 and r["drift_ms"] == 0
    return "App+telemetry %.2f h: %d frames, pacing drift %d ms, no MemoryError" % (
        r["hours"], r["frames"], r["drift_ms"])


# 23 ------------------------------------------------------------------------------------------
def _loop_run(tmp, stall, offset_ms=0, ms=60000):
    rig = R.DevRig(tmp, board="pico")
    _start(rig)
    vt = R.VTime(rig.w, offset_ms)
    n = [0]
    real_tick = rig.app.tick
    marks = []

    def tick(now, dt):
        n[0] += 1
        extra = stall(n[0])
        if extra:
            rig.w.advance_ms(extra)
        real_tick(vt.ticks_ms(), dt)
        m = rig.board.motor.out
        if not marks or marks[-1][1] != m:
            marks.append((rig.w.now_ms(), m))
    rig.app.tick = tick
    R.run_loop(rig.app, vt, None, max_ticks=ms // 20)
    return rig, marks


def _phase_error(rig):
    t0 = rig.events("phase")
    errs = []
    for e in t0:
        errs.append(e["t_ms"] - KEGEL.start_ms[e["step"]])
    return errs


def case_23(tmp):
    def stall(n):
        if n % 97 == 0:
            return 30   # a flash write
        if n % 13 == 0:
            return 4    # a GC pause
        return 0
    rig, marks = _loop_run(tmp / "a", stall)
    base, bmarks = _loop_run(tmp / "b", lambda n: 0)
    errs = _phase_error(rig)
    assert errs and max(abs(x) for x in errs) < 50, errs
    # cue changes happen within 50 ms of the undisturbed run's, with no growth over time
    m = min(len(marks), len(bmarks))
    jit = [abs(marks[i][0] - bmarks[i][0]) for i in range(m) if marks[i][1] == bmarks[i][1]]
    assert jit and max(jit) < 50, max(jit)
    assert abs(marks[m - 1][0] - bmarks[m - 1][0]) < 50
    return "GC 4 ms/13 ticks + flash 30 ms/97 ticks: phase error max %d ms, cue jitter max %d ms" \
        % (max(abs(x) for x in errs), max(jit))


# 24 ------------------------------------------------------------------------------------------
def case_24(tmp):
    off = (1 << 30) - 30000   # ticks_ms wraps 30 s into the session
    rig, marks = _loop_run(tmp / "a", lambda n: 0, offset_ms=off)
    base, bmarks = _loop_run(tmp / "b", lambda n: 0)
    assert [e["t_ms"] for e in rig.events("phase")] == [e["t_ms"] for e in base.events("phase")]
    assert [m[1] for m in marks] == [m[1] for m in bmarks]
    assert [m[0] for m in marks] == [m[0] for m in bmarks]
    # the motor's own cut-off across the wrap
    from pacer_hw.motor import Motor

    class Pwm:
        def freq(self, f):
            pass

        def duty_u16(self, d):
            self.d = d
    pwm = Pwm()
    mot = Motor(pwm, max_on_ms=2000)
    t = (1 << 30) - 1000
    mot.set(40000)
    ticks = 0
    while not mot.cut:
        mot.update(t & ((1 << 30) - 1))
        t += 20
        ticks += 1
    assert 100 <= ticks <= 102 and pwm.d == 0, ticks
    return "wrap 30 s in: identical phases and cue timeline; motor cut-off after %d ms across " \
        "the wrap" % ((ticks - 1) * 20)


# 25 ------------------------------------------------------------------------------------------
def case_25(tmp):
    rig = R.DevRig(tmp, board="pico")
    _start(rig)
    rig.run(12000)
    cls = type(rig.app.engine.cue)
    orig = cls.running

    def stuck_on(self, *a):
        orig(self, *a)
        self.motor = 65535  # a bug: the cue code keeps the motor on

    try:
        cls.running = stuck_on
        on_since = None
        cut_at = None
        for _ in range(300):
            rig.tick()
            if rig.motor and on_since is None:
                on_since = rig.w.now_ms()
            if on_since is not None and rig.motor == 0 and cut_at is None:
                cut_at = rig.w.now_ms()
        assert cut_at is not None and cut_at - on_since <= 2020, (on_since, cut_at)
        assert rig.board.motor.cut and rig.motor == 0
    finally:
        cls.running = orig
    rig.run(5000)
    return "motor forced on by a bug: cut after %d ms and latched off" % (cut_at - on_since)


CASES = [
    (1, "Analog sensor unplugged", "vdev mpx5010 disconnect, App", case_01),
    (2, "Over-range / saturation", "vdev saturate, App (+ calibrate)", case_02),
    (3, "Stuck sensor", "vdev stuck, App", case_03),
    (4, "I2C NACK at boot / mid-session", "vdev nack (MPRLS, pico_w), App", case_04),
    (5, "I2C bus held low", "vdev bus_held_low (9 clocks, shorted), App + loop", case_05),
    (6, "MPRLS busy forever / integrity bit", "vdev busy_forever, integrity_fail, App", case_06),
    (7, "HX710B never ready", "vdev hx_never_ready (pico2), App", case_07),
    (8, "Slow leak or drift", "engine (scripted drift)", case_08),
    (9, "Zeroing while squeezed or noisy", "engine (scripted baseline)", case_09),
    (10, "Bearing down and coughs", "engine (scripted, abdominal channel)", case_10),
    (11, "Spikes and motor switching noise", "engine + vdev supply_sag tied to the motor",
     case_11),
    (12, "Supply sag / low battery", "vdev supply_sag, App", case_12),
    (13, "Zero or NaN maths (MVC 0)", "engine + telemetry frames", case_13),
    (14, "Serial garbage, 10 kB line, partial lines", "protocol + App", case_14),
    (15, "Host holds the port, never reads", "App with a stalled USB", case_15),
    (16, "USB unplugged / battery only", "App (USB gone; no USB, button)", case_16),
    (17, "Power cut during log or config write", "vboard power_cut_at", case_17),
    (18, "Filesystem full", "Store ENOSPC, App", case_18),
    (19, "Empty or truncated config", "flash files, App", case_19),
    (20, "Exception in cue code, motor on", "vboard (firmware main.py)", case_20),
    (21, "Main loop hangs", "vboard watchdog, 3 hangs", case_21),
    (22, "Hours with telemetry", "App soak (short; long in make reliability)", case_22),
    (23, "GC / flash write at the worst moment", "supervisor loop with stalls", case_23),
    (24, "Tick counter wrap", "supervisor loop, ticks near 2**30", case_24),
    (25, "Motor left on by a bug", "engine patched, Board motor cut-off", case_25),
]


def run_all(tmp, only=None, log=print):
    """Run every case; returns [(n, title, where, ok, result, seconds)]."""
    out = []
    for n, title, where, fn in CASES:
        if only and n not in only:
            continue
        d = tmp / ("case%02d" % n)
        d.mkdir(parents=True, exist_ok=True)
        t = _wall.monotonic()
        try:
            res = fn(d)
            ok = True
        except Exception as e:  # noqa: BLE001 - a failing case is reported, not fatal
            ok = False
            res = "%s: %s" % (type(e).__name__, str(e)[:300])
        dt = _wall.monotonic() - t
        log("case %2d %-4s %5.1fs %s: %s" % (n, "ok" if ok else "FAIL", dt, title, res))
        out.append((n, title, where, ok, res, dt))
    return out
