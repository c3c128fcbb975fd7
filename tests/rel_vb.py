"""Fault cases on the virtual board: the real firmware (boot.py, main.py, supervisor) in the
MicroPython VM, a bug injected by a wrapper main.py that patches one function, then runs the
firmware's own main.py (kept as main_real.py)."""
import json
import time as _wall
from pathlib import Path

import rel_rig as R
from host_tools.vboard import start as vb_start

CUE_BUG = """
import pacer.cue as _c
_orig = _c.Cue.running
def _bad(self, t, *a):
    r = _orig(self, t, *a)
    if t > 10000 and self.motor > 0:
        raise RuntimeError("injected cue bug")
    return r
_c.Cue.running = _bad
"""

HANG = """
import machine as _m
import pacer_app.app as _a
_orig = _a.App.tick
_n = [0]
_first = _m.reset_cause() == _m.PWRON_RESET
def _tick(self, now, dt):
    _n[0] += 1
    if (self.board.motor.out > 0) if _first else _n[0] > 100:
        import time
        print("HANGING", _n[0])
        while True:
            time.sleep_ms(10)   # never returns: the watchdog is not fed
    return _orig(self, now, dt)
_a.App.tick = _tick
"""


def _flash_with(tmp, patch):
    flash = R.install_firmware(Path(tmp) / "flash")
    (flash / "main_real.py").write_bytes((flash / "main.py").read_bytes())
    (flash / "main.py").write_text(patch + "\nexec(open('main_real.py').read())\n")
    return flash


def _record(path):
    rows = []
    for x in Path(path).read_text().splitlines():
        try:
            rows.append(json.loads(x))
        except ValueError:
            pass
    return rows


def cue_exception(tmp):
    tmp = Path(tmp)
    flash = _flash_with(tmp, CUE_BUG)
    rec = tmp / "rec.jsonl"
    with vb_start(board="pico", flash_dir=flash, record=rec, log=tmp / "vb.log") as vb:
        link = R.Link(vb.port)
        try:
            link.wait(R.is_boot, what="boot")
            assert link.command("start kegel")["ok"]
            err = link.wait(lambda x: x.startswith("pacer: error"), 30, "the crash")
            boots = link.wait(lambda x: R.is_boot(x) and '"crashes": 1' in x, 20, "reboot")
            st = link.command("status")
            assert st["ok"] and st["state"] == "idle", st
        finally:
            link.close()
        _wall.sleep(1.2)  # the recording is flushed every second
    assert "injected cue bug" in (flash / "errors.log").read_text()
    assert (flash / "crashes.txt").read_text().strip() == "1"
    rows = _record(rec)
    motor = [r for r in rows if r["ch"] == "motor"]
    on = [r for r in motor if r["v"]]
    assert on, "the motor never ran before the bug"
    # after the last time the motor was on, it went to 0 before the reset (boot record)
    last_on = max(i for i, r in enumerate(rows) if r["ch"] == "motor" and r["v"])
    after = rows[last_on + 1:]
    off_i = next(i for i, r in enumerate(after) if r["ch"] == "motor" and r["v"] == 0)
    boot_i = next((i for i, r in enumerate(after) if r["ch"] == "boot"), len(after))
    assert off_i < boot_i, "motor not switched off before the reset"
    sess = sorted((flash / "sessions").iterdir())
    assert sess, "the interrupted session's log is gone"
    return "motor on -> exception: motor off before reset, errors.log + crash count 1, " \
        "rebooted idle (%s)" % err[:60] + ("" if boots else "")


def hang_watchdog_safe_mode(tmp):
    tmp = Path(tmp)
    flash = _flash_with(tmp, HANG)
    rec = tmp / "rec.jsonl"
    with vb_start(board="pico", flash_dir=flash, record=rec, log=tmp / "vb.log") as vb:
        link = R.Link(vb.port)
        try:
            link.wait(R.is_boot, what="boot")
            assert link.command("start kegel")["ok"]
            link.wait(lambda x: x.startswith("HANGING"), 30, "the hang")
            for n in (1, 2):
                link.wait(lambda x, n=n: R.is_boot(x) and '"crashes": %d' % n in x, 30,
                          "boot after watchdog reset %d" % n)
            safe = link.wait(lambda x: "safe mode" in x, 30, "safe mode")
            # safe mode returns to the REPL: the board is reachable for a new build
            m = link.mark()
            link.write(b"\r\n")
            link.wait_after(m, lambda x: x.startswith(">>>"), 10, "REPL prompt")
        finally:
            link.close()
        _wall.sleep(1.2)
    rows = _record(rec)
    boots = [i for i, r in enumerate(rows) if r["ch"] == "boot"]
    assert len(boots) >= 4, boots
    # motor on-intervals: each ends by a motor 0 or by the next reset (a reset stops the PWM)
    on_ms = []
    since = None
    for r in rows:
        if r["ch"] == "boot" or (r["ch"] == "motor" and not r["v"]):
            if since is not None:
                on_ms.append(r["t_ms"] - since)
            since = None
        elif r["ch"] == "motor" and r["v"] and since is None:
            since = r["t_ms"]
    assert on_ms and since is None, (on_ms, since)
    # the hang with the motor on lasts at most the watchdog timeout (4 s); after every reset
    # the only motor use is the self-test's 120 ms blink
    assert max(on_ms) <= 4100, on_ms
    assert sorted(on_ms)[-2] <= 200, on_ms
    assert int((flash / "crashes.txt").read_text()) >= 3
    return "hang with the motor on -> watchdog reset after %d ms, outputs off at boot; 3 " \
        "watchdog resets -> safe mode, REPL reachable" % max(on_ms) + ("" if safe else "")
