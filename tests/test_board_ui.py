"""The device alone: the button drives it through the vdev World (the real Button, Board, App and
drivers of each profile on CPython), the status patterns tell the states apart, and sensor
faults on every sensor type give fault events, motor off, the fault pattern and recovery."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ on sys.path

# isort: split
import json

import pytest

import board_cases as C
from pacer import builtin
from pacer_hw import profiles


class RecUsb(C.SinkUsb):
    def __init__(self):
        super().__init__()
        self.out = []

    def write(self, text):
        self.out.append(text)
        return True

    def events(self, kind=None):
        ev = [json.loads(x) for x in "".join(self.out).splitlines() if x.startswith('{"t_ms"')]
        return [e for e in ev if kind is None or e["type"] == kind]


def rig(tmp_path, board="pico"):
    usb = RecUsb()
    w, app = C.make(board, str(tmp_path / "fs"), usb=usb)
    C.run(w, app, 500)
    return w, app, usb


def press(w, app, ms, pin=None):
    pin = app.board.profile["button"] if pin is None else pin
    w.set_input(pin, 0)
    C.run(w, app, ms)
    w.set_input(pin, 1)
    C.run(w, app, 100)


def outputs(w, app, ms):
    """[(led duty, pixel rgb, motor duty)] sampled every tick for ms."""
    b = app.board
    seen = []
    for _ in range(ms // C.TICK):
        C.run(w, app, C.TICK)
        seen.append((_duty(w, b.profile.get("led")), b.pixel.rgb if b.pixel is not None else None,
                     _duty(w, b.profile["motor"])))
    return seen


def _duty(w, pin):
    return None if pin is None else w.current("pwm%d" % pin, 0)


def test_long_press_selects_short_starts_pauses_resumes_long_stops(tmp_path):
    w, app, usb = rig(tmp_path, "pico2")   # pico2: LED and WS2812 pixel
    assert app.selected == "kegel" and app.engine is None
    press(w, app, 2000)                    # long: next program, its number blinked
    assert app.selected == builtin.NAMES[1]
    blink = [px for (_l, px, _m) in outputs(w, app, 800)]
    assert 0xA0A0A0 in blink and 0 in blink
    press(w, app, 2000)
    assert app.selected == builtin.NAMES[2]
    for _ in range(len(builtin.NAMES) - 2):  # all the way round, to the results view
        press(w, app, 2000)
    assert app.selected == "results"
    press(w, app, 2000)
    assert app.selected == builtin.NAMES[0]
    press(w, app, 200)                     # short: start
    assert app.engine is not None and app.status()["state"] == "running"
    assert app.program_name == "kegel"
    C.run(w, app, 3000)
    press(w, app, 200)                     # short: pause
    assert app.status()["state"] == "paused"
    t = app.el
    step = app.engine.step
    C.run(w, app, 2000)
    # paused time still counts on the engine clock, but the program does not move on
    assert app.el - t >= 2000 and app.engine.step == step
    press(w, app, 200)                     # short: resume
    assert app.status()["state"] == "running" and app.engine.step == step
    assert app.engine.paused_ms >= 2000
    press(w, app, 2000)                    # long: stop, session saved, outputs off
    assert app.status()["state"] == "done"
    summary = usb.events("summary")[-1]
    assert summary["completed"] is False
    sid = app.store.sessions()[-1][0]
    assert any('"type": "summary"' in r for r in app.store.read_session(sid))
    assert _duty(w, app.board.profile["motor"]) == 0


def test_results_view_shows_the_last_relaxation_sessions(tmp_path):
    from pacer_app import results
    w, app, _usb = rig(tmp_path, "pico2")
    st = app.store
    for sm in ({"program": "reverse-kegel", "drops": 20, "drops_achieved": 18, "grade": "great",
                "rest_tone_change_cmH2O": -0.5},
               {"program": "kegel", "reps": 30, "reps_achieved": 20, "grade": "good"},
               {"program": "push", "pushes": 10, "pushes_judged": 10, "pushes_coordinated": 2,
                "paradoxical": 3, "grade": "keep_going"},
               # a `pacer test` run (samples from the computer) is nobody's practice
               {"program": "reverse-kegel", "drops": 20, "drops_achieved": 20, "grade": "great",
                "injected": True}):
        st.begin_session(json.dumps({"program": sm["program"],
                                     "injected": sm.pop("injected", False)}))
        st.append(json.dumps(dict(type="summary", **sm)))
        st.end_session()
    while app.selected != "results":
        press(w, app, 2000)
    press(w, app, 200)                     # short on "results": the view, not a session
    assert app.engine is None
    assert [(r.let_go, r.asked, r.paradoxical, r.grade) for r in app.history] == [
        (2, 10, 3, 1), (18, 20, 0, 3)]    # newest first; the kegel session is no relaxation
    text = results.lines(app.history)
    assert text == ["LAST RELAXATION", "3 * 2/10 P3", "1 *** 18/20 -0.5"]
    px = [p for (_l, p, _m) in outputs(w, app, 3000) if p]
    firsts = [p for i, p in enumerate(px) if i == 0 or px[i - 1] != p]
    assert firsts[:2] == [0x00A020, 0xA000A0]   # oldest (great, green) first, then magenta
    press(w, app, 200)                     # any press leaves the view
    assert app.history is None and app.engine is None


def test_bounce_and_ambiguous_presses_do_nothing(tmp_path):
    w, app, _usb = rig(tmp_path)
    pin = app.board.profile["button"]
    for _ in range(5):                     # contact bounce: 10 ms blips
        w.set_input(pin, 0)
        w.advance_ms(10)
        app.tick(w.now_ms(), 10)
        w.set_input(pin, 1)
        C.run(w, app, 20)
    press(w, app, 1000)                    # between short and long: deliberately nothing
    assert app.engine is None and app.selected == "kegel"


def test_very_long_press_calibrates(tmp_path):
    w, app, _usb = rig(tmp_path, "esp32s3")
    press(w, app, 5600)
    assert app.engine is not None and app.program_name == "calibrate"
    assert app.status()["state"] == "running"


def _patterns(w, app, ms):
    seen = outputs(w, app, ms)
    return {"led": [x[0] for x in seen], "px": [x[1] for x in seen], "motor": [x[2] for x in seen]}


def test_status_patterns_are_distinct(tmp_path):
    w, app, _usb = rig(tmp_path, "pico2")
    spec = {"name": "mini", "blocks": [
        {"steps": [{"s": 2, "muscle": "rest", "role": "baseline"}]},
        {"reps": 2, "steps": [{"s": 1, "muscle": "squeeze"}, {"s": 1, "muscle": "release"}]}]}
    app.program_push(spec)
    idle = _patterns(w, app, 4000)
    assert all(m == 0 for m in idle["motor"])
    assert {p & 0xFF0000 for p in idle["px"]} == {0} and max(idle["px"]) > 0  # blue glow
    assert len(set(idle["led"])) > 20                                       # breathing
    app.start("mini")
    C.run(w, app, 2500)
    app.pause()
    paused = _patterns(w, app, 2000)
    assert all(m == 0 for m in paused["motor"])
    assert all(p in (0, None) or (p >> 16) == (p & 0xFF) for p in paused["px"])  # white
    app.resume()
    C.run(w, app, 6000)
    assert app.status()["state"] == "done" and app.result in (1, 2, 3)
    done = _patterns(w, app, 3000)
    # the result: 1-3 flashes in 3 s, dark in between, never the idle blue
    flashes = sum(1 for a, b in zip(done["px"], done["px"][1:]) if not a and b)
    assert flashes == app.result
    assert all(p == 0 or p & 0xFF0000 for p in done["px"])
    # fault while idle: fast red flashing
    w.set_fault("disconnect", True, 0)
    C.run(w, app, 300)   # a few samples until the driver calls it a disconnect
    fault = _patterns(w, app, 2000)
    reds = {p for p in fault["px"] if p}
    assert reds and all(p & 0x00FFFF == 0 for p in reds) and fault["px"].count(0) > 20
    assert all(m == 0 for m in fault["motor"])


def test_oled_shows_phase_countdown_reps_and_bar(tmp_path):
    w, app, _usb = rig(tmp_path, "pico")
    assert app.screen is not None
    app.start("kegel")
    w.set_pressure(0, 0.0)
    C.run(w, app, 12500)                   # into the first squeeze
    fb = app.screen.d.fb
    text_rows = ["".join("#" if fb.pixel(x, y) else "." for x in range(128)) for y in range(64)]
    assert any("#" in r for r in text_rows[0:8])      # phase name
    assert any("#" in r for r in text_rows[16:24])    # countdown and rep count
    assert text_rows[34].count("#") > 100             # the bar's frame
    frames = [v for (_t, ch, v) in w.log if ch == "oled"]
    assert 30 <= len(frames) <= 60                    # ~4 redraws a second, not 50


@pytest.mark.parametrize("board,fault,kind", [
    ("pico", "disconnect", "disconnected"),
    ("pico", "saturate", "over_range"),
    ("pico", "stuck", "stuck"),
    ("pico_w", "nack", "bus_error"),
    ("pico_w", "busy_forever", "busy_timeout"),
    ("pico_w", "bus_held_low", "bus_error"),
    ("pico2", "hx_never_ready", "not_ready"),
    ("pico2", "disconnect", None),
    ("esp32", "bus_error", "bus_error"),
    ("esp32s3", "disconnect", "disconnected"),
])
def test_sensor_fault_motor_off_fault_pattern_and_recovery(tmp_path, board, fault, kind):
    w, app, usb = rig(tmp_path, board)
    app.start("kegel")
    C.run(w, app, 12000)
    # bus_held_low -1: shorted, so recover_bus cannot free it until it is cleared
    value = {"bus_error": 1000000, "bus_held_low": -1}.get(fault, True)
    w.set_fault(fault, value, 0 if fault not in ("nack", "bus_held_low", "bus_error") else None)
    seen = outputs(w, app, 6000)
    ev = [e for e in usb.events("fault") if e.get("active")]
    assert ev, "no fault event for %s" % fault
    if kind is not None:
        assert ev[0]["kind"] == kind
    t_f = ev[0]["t_ms"]
    n_f = (t_f - 12000) // C.TICK
    after = seen[n_f + 80:]   # after the fault pattern's single buzz
    assert after and all(m == 0 for (_l, _p, m) in after), "motor on during a sensor fault"
    assert not app.engine.reached
    if app.board.pixel is not None:
        assert all(p & 0x00FFFF == 0 for (_l, p, _m) in after)        # red or dark
        assert len({p for (_l, p, _m) in after}) == 2                    # flashing
    w.clear_fault()
    C.run(w, app, 8000)
    cleared = [e for e in usb.events("fault") if e.get("active") is False]
    assert cleared, "the fault never cleared after the sensor came back"
    assert app.status()["state"] == "running"
    if fault in ("nack", "bus_held_low", "bus_error"):
        assert app.board.bus_recoveries >= 1     # recover_bus then fresh I2C objects


@pytest.mark.parametrize("board", profiles.NAMES)
def test_every_profile_self_test_passes_on_its_sensor(tmp_path, board):
    import time as _t

    from pacer_app import supervisor

    w, app, _usb = rig(tmp_path, board)

    class Clock:
        def ticks_ms(self):
            return w.now_ms()

        def sleep_ms(self, ms):
            w.advance_ms(ms)

    ok, msg = supervisor.self_test(app.board, Clock())
    assert (ok, msg) == (True, "ok")
    assert _t  # the real clock is not used
    w.set_fault("disconnect", True, 0)
    ok, msg = supervisor.self_test(app.board, Clock())
    assert not ok and "sensor fault" in msg


def test_oled_frame_goes_out_a_page_per_tick(tmp_path):
    # a whole frame in one tick (1 KB, ~25 ms at 400 kHz) would overrun the 20 ms tick and
    # delay the cues four times a second: the app draws, then sends a 128-byte page per tick
    w, app, _usb = rig(tmp_path, "pico")
    oled = app.board.profile["oled"]
    dev = w.bus(oled["scl"], oled["sda"]).devices[oled["addr"]]
    app.start("kegel")
    C.run(w, app, 12500)                   # into the first squeeze
    per_tick = []
    real = dev.i2c_write
    sent: list = []

    def count(buf):
        sent.append(len(buf))
        real(buf)
    dev.i2c_write = count
    frames0 = dev.frames
    for _ in range(50):                    # one second
        del sent[:]
        C.run(w, app, C.TICK)
        per_tick.append(sum(sent))
    assert max(per_tick) <= 129 + 6 * 2    # one page and the window's commands at most
    assert sum(1 for n in per_tick if n >= 129) == 4 * 8   # four frames of eight pages
    assert dev.frames - frames0 == 4
    # what the glass shows is what the firmware drew
    fb = app.screen.d.fb
    assert dev.rows() == ["".join("#" if fb.pixel(x, y) else "." for x in range(128))
                          for y in range(64)]
