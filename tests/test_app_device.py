"""The device's own record keeping and settings, on CPython against virtual hardware (the real
Board, App, Store and drivers): sessions are dated by the host's clock, a setting takes effect
when it is set, and a setting that names no program can never crash the loop."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ on sys.path

# isort: split
import json

import pytest

import board_cases as C
from pacer import builtin


class RecUsb(C.SinkUsb):
    def __init__(self):
        super().__init__()
        self.out = []

    def write(self, text):
        self.out.append(text)
        return True

    def replies(self):
        return [json.loads(x) for x in "".join(self.out).splitlines() if x.startswith('{"ok"')]


def rig(tmp_path, board="pico"):
    usb = RecUsb()
    w, app = C.make(board, str(tmp_path / "fs"), usb=usb)
    C.run(w, app, 500)
    return w, app, usb


def cmd(w, app, usb, line):
    n = len(usb.replies())
    usb.send(line.encode() + b"\n")
    C.run(w, app, 100)
    got = usb.replies()[n:]
    assert len(got) == 1, got
    return got[0]


def press(w, app, ms):
    pin = app.board.profile["button"]
    w.set_input(pin, 0)
    C.run(w, app, ms)
    w.set_input(pin, 1)
    C.run(w, app, 100)


def header(app, sid):
    return json.loads(next(iter(app.store.read_session(sid))))


def test_sessions_are_dated_by_the_hosts_clock(tmp_path):
    w, app, usb = rig(tmp_path)
    # before any host set the clock: no date rather than a wrong one
    assert app.status()["clock"] is None
    app.start("box")
    app.stop()
    assert header(app, 1)["started"] is None
    epoch = 1796083200
    assert cmd(w, app, usb, "clock set %d" % epoch)["clock"] == epoch
    C.run(w, app, 65000)                      # the board counts on from the host's time
    assert app.status()["clock"] == epoch + 65
    app.start("box")
    assert header(app, 2)["started"] == epoch + 65
    assert app.status()["session"] == 2
    app.stop()
    assert app.status()["session"] is None
    assert header(app, 2)["injected"] is False
    # a session fed by the host's samples (`pacer test`) says so: it is nobody's practice
    assert cmd(w, app, usb, "inject on")["ok"]
    app.start("box")
    app.stop()
    assert header(app, 3)["injected"] is True


def test_the_clock_survives_the_tick_counter_range(tmp_path):
    # ticks_diff spans 6.2 days; the app moves its anchor hourly, so a board left alone for
    # a week still dates its sessions right
    from pacer_app.clock import WallClock
    from pacer_hw._compat import ticks_add
    c = WallClock()
    c.set(1796083200, 1000)
    t = 1000
    for _ in range(7 * 24):
        t = ticks_add(t, 3600000)
        assert c.due(t)
        c.read(t)
    assert c.read(t) == 1796083200 + 7 * 24 * 3600
    lone = WallClock()
    lone.set(1796083200, 1000)
    assert lone.read(ticks_add(1000, 7 * 24 * 3600000)) != 1796083200 + 7 * 24 * 3600


def test_config_set_program_refuses_a_name_that_is_no_program(tmp_path):
    w, app, usb = rig(tmp_path)
    r = cmd(w, app, usb, 'config set program "nosuch"')
    assert r["ok"] is False and r["error"] == (
        'program: no program "nosuch"; `programs list` shows them')
    assert app.store.config_get("program") == "kegel" and app.selected == "kegel"


def test_config_set_program_and_user_take_effect_at_once(tmp_path):
    w, app, usb = rig(tmp_path)
    assert cmd(w, app, usb, 'config set program "box"')["value"] == "box"
    assert app.selected == "box"
    press(w, app, 200)                        # the button starts it now, not after a reboot
    assert app.program_name == "box"
    r = cmd(w, app, usb, 'config set user "anna"')
    assert r["ok"] is False and "`stop` the session first" in r["error"]
    app.stop()
    assert cmd(w, app, usb, 'config set user "anna"')["value"] == "anna"
    assert app.user == "anna" and app.status()["user"] == "anna"
    app.start("box")
    assert header(app, 2)["user"] == "anna"


def test_a_stored_program_that_is_gone_never_crashes_the_button(tmp_path):
    w, app, usb = rig(tmp_path)
    spec = {"name": "mine", "blocks": [{"steps": [{"s": 5, "role": "baseline"}]}]}
    assert cmd(w, app, usb, "programs push " + json.dumps(spec))["ok"]
    assert cmd(w, app, usb, 'config set program "mine"')["ok"]
    app.store.delete_program("mine")          # gone behind the app's back
    press(w, app, 200)                        # was: ValueError out of the loop
    assert app.selected == builtin.NAMES[0] and app.engine is None
    assert "mine" in app.status()["warning"] and app.status()["warnings"] >= 1
    # and a config naming no program (an old backup, a deleted file) at boot
    w2, app2 = C.make("pico", str(tmp_path / "fs"), usb=RecUsb())
    assert app2.selected == builtin.NAMES[0]
    assert "no program 'mine'" in app2.store.warnings[-1]
    press(w2, app2, 200)
    assert app2.program_name == builtin.NAMES[0]


def test_whole_number_settings_refuse_fractions_and_board_is_read_only(tmp_path):
    w, app, usb = rig(tmp_path)
    r = cmd(w, app, usb, "config set vibration_pct 33.7")
    assert r["ok"] is False and "vibration_pct: must be a whole number" in r["error"], r
    assert app.store.config_get("vibration_pct") == 70
    r = cmd(w, app, usb, "config set vibration_pct 33.0")
    assert r["value"] == 33 and app.store.config_get("vibration_pct") == 33   # echoed as stored
    r = cmd(w, app, usb, "config set reach_s 2.5")
    assert r["value"] == 2.5
    r = cmd(w, app, usb, 'config set board "esp32"')
    assert r["ok"] is False and "read-only" in r["error"], r
    assert "board" not in app.store.config_get()


def _squeezed_at_power_up(t_ms):
    return 25.0 if t_ms < 300 else 0.0   # someone held the probe while plugging in


@pytest.mark.parametrize("board", ["pico_w", "esp32"])   # MPRLS, BMP280: absolute sensors
def test_absolute_sensors_are_zeroed_at_rest_not_at_the_first_sample(tmp_path, board):
    from pacer_app import supervisor
    w, app = C.make(board, str(tmp_path / "fs"), usb=RecUsb())
    w.set_pressure(0, _squeezed_at_power_up)
    C.run(w, app, 200)                          # the first samples: the squeezed probe
    assert abs(app.board.cp) < 100              # ... read as zero

    class Clock:
        def ticks_ms(self):
            return w.now_ms()

        def sleep_ms(self, ms):
            w.advance_ms(ms)

    C.run(w, app, 300)
    assert app.board.cp < -2000, app.board.cp   # at rest, but reads -25 cmH2O
    assert supervisor.self_test(app.board, Clock()) == (True, "ok")
    C.run(w, app, 500)
    assert abs(app.board.cp) < 100, app.board.cp   # zeroed at the quiet self-test
    # a self-test that is not quiet (a squeeze) leaves the zero alone
    w.set_pressure(0, lambda t: 10.0 + (t // 20 % 2) * 3.0)
    supervisor.self_test(app.board, Clock())
    w.set_pressure(0, 0.0)
    C.run(w, app, 500)
    assert abs(app.board.cp) < 100, app.board.cp


def test_a_calibration_is_stored_with_its_date_and_no_unused_baseline(tmp_path):
    from app_rig import Rig
    rig = Rig(tmp_path, program="calibrate")
    rig.usb.send("clock set 1796083200\nstart calibrate\n")
    rig.run(100)
    rig.start_ms = rig.w.now_ms()
    rig.run(3 * 60000)
    cal = json.loads((tmp_path / "cal" / "default.json").read_text())
    assert set(cal) == {"mvc_cp", "t"} and cal["mvc_cp"] > 1000, cal
    assert 1796083200 < cal["t"] < 1796083200 + 4 * 60, cal   # a date, not ms into the session
    assert rig.store.load_cal("default") == cal
    # status shows every user's calibration: after a second user calibrates, both
    rig.store.save_cal("anna", 2500, 1796083300)
    rig.usb.send("status\n")
    rig.run(200)
    st = [json.loads(x) for x in rig.usb.lines() if '"cmd": "status"' in x][-1]
    assert st["calibration"] == cal
    assert st["calibrations"] == {"anna": {"mvc_cp": 2500, "t": 1796083300}, "default": cal}


def test_programs_delete_removes_a_custom_program_and_reselects(tmp_path):
    w, app, usb = rig(tmp_path)
    spec = {"name": "mine", "blocks": [{"steps": [{"s": 5, "role": "baseline"}]}]}
    assert cmd(w, app, usb, "programs push " + json.dumps(spec))["ok"]
    assert cmd(w, app, usb, 'config set program "mine"')["ok"]
    r = cmd(w, app, usb, "programs delete kegel")
    assert r["ok"] is False and "no custom program 'kegel'" in r["error"]
    assert "kegel" in app.programs()
    app.start("mine")   # a running session keeps its timeline and runs to its end
    r = cmd(w, app, usb, "programs delete mine")
    assert r == {"ok": True, "cmd": "programs delete"}, r
    assert "mine" not in app.programs() and app.selected == builtin.NAMES[0]
    assert app.status()["state"] == "running"
    app.stop()
    assert "no custom program" in cmd(w, app, usb, "programs delete mine")["error"]
