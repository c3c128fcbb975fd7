"""Boot, the fixed-rate loop and what happens when something goes wrong.

- Outputs off before anything else, then a power-on self-test (sensor present with sane noise,
  outputs blinked), then the loop.
- The loop keeps absolute deadlines: next = ticks_add(next, period); a tick that overran by more
  than a few periods resynchronises instead of bursting to catch up.
- The watchdog is fed only at the end of a tick that completed: a hung loop resets the board.
- Any exception turns every output off, is appended to errors.log (bounded) and resets the
  board. Three crash resets in a row boot into safe mode: outputs off, nothing started, the REPL
  reachable so a bad build can always be replaced. A session that completes, or ten minutes of
  healthy running, clears the count.
"""
import sys

from pacer_hw._compat import const

_CRASH_FILE = "crashes.txt"
_ERROR_LOG = "errors.log"
_ERROR_LOG_MAX = const(8192)
_SAFE_AFTER = const(3)
_HEALTHY_MS = const(600000)
_WDT_MS = const(4000)
_SELFTEST_SAMPLES = const(25)
_REST_CP = const(150)   # peak to peak below 1.5 cmH2O over the self-test: the probe is at rest


# The app was stopped on purpose (Ctrl-C: a person at the REPL, `pacer flash`). The rp2 port's
# machine.WDT cannot be stopped, so the watchdog the loop started would reset the board under
# the REPL a few seconds later (seen on the emulated RP2040): switch it off in the chip, with the
# atomic bit-clear alias (+0x3000) of WATCHDOG CTRL (RP2040 0x40058000, RP2350 0x400D8000),
# bit 30 ENABLE. No mem32 (AttributeError): not the rp2 port.
def stop_watchdog(machine, chip):
    if chip[:2] == "rp":
        try:
            machine.mem32[0x4005B000 if chip == "rp2040" else 0x400DB000] = 0x40000000
        except AttributeError:
            pass


def crash_count(os):
    try:
        with open(_CRASH_FILE) as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


def set_crash_count(n):
    try:
        with open(_CRASH_FILE, "w") as f:
            f.write(str(n))
    except OSError:
        pass


def log_error(os, exc):
    try:
        try:
            size = os.stat(_ERROR_LOG)[6]
        except OSError:
            size = 0
        mode = "a" if size < _ERROR_LOG_MAX else "w"
        with open(_ERROR_LOG, mode) as f:
            sys.print_exception(exc, f) if hasattr(sys, "print_exception") else f.write(repr(exc))
    except OSError:
        pass


def safe_outputs(machine, neopixel, profile):
    """Safe mode: motor and buzzer pins driven low, the status light steady and dim (LED at a
    low duty, pixel dim purple): nothing moves, so it cannot be mistaken for idle's glow."""
    for key in ("motor", "buzzer"):
        try:
            if profile.get(key) is not None:
                machine.Pin(profile[key], machine.Pin.OUT, value=0)
        except Exception:  # noqa: BLE001 - each pin on its own: the rest must still go off
            pass
    try:
        if profile.get("led") is not None:
            pwm = machine.PWM(machine.Pin(profile["led"]))
            pwm.freq(1000)
            pwm.duty_u16(1500)
    except Exception:  # noqa: BLE001
        pass
    try:
        if profile.get("pixel") is not None and neopixel is not None:
            np = neopixel.NeoPixel(machine.Pin(profile["pixel"], machine.Pin.OUT), 1)
            np[0] = (16, 0, 16)
            np.write()
    except Exception:  # noqa: BLE001
        pass


def self_test(board, time, period_ms=20):
    """Sensor present with sane noise and outputs blinked. Returns (ok, message). A quiet
    sensor (every sample good, within 1.5 cmH2O) is at rest: the absolute sensors take their
    zero here, not from whatever the first sample after power-up read (a squeezed probe)."""
    from pacer_hw import fault
    board.outputs_off()
    lo = 1 << 29
    hi = -lo
    bad = 0
    code = fault.OK
    for _ in range(_SELFTEST_SAMPLES):
        code, cp, _abd = board.read(time.ticks_ms())
        if code != fault.OK:
            bad += 1
        else:
            lo = min(lo, cp)
            hi = max(hi, cp)
        time.sleep_ms(period_ms)
    if bad == 0 and hi - lo <= _REST_CP:
        board.zero_at_rest()
    now = time.ticks_ms()
    board.show(now, 65535, 0xFFFFFF, 0)
    time.sleep_ms(150)
    board.show(time.ticks_ms(), 0, 0, 40000)
    time.sleep_ms(120)
    board.outputs_off()
    if bad > _SELFTEST_SAMPLES // 2:  # mostly failing: a last good value can linger a sample
        return False, "sensor fault %s" % fault.name(code)
    if hi - lo > 500:   # 5 cmH2O of jitter at rest: loose tube, bad wiring or a noisy supply
        return False, "sensor noisy: %d cp peak to peak" % (hi - lo)
    return True, "ok"


def loop(app, time, wdt=None, max_ticks=-1):
    """The fixed-rate loop. Returns only after max_ticks (tests) or by an exception."""
    period = app.period
    now = time.ticks_ms()
    nxt = time.ticks_add(now, period)
    last = now
    healthy_since = now
    n = 0
    while n != max_ticks:
        now = time.ticks_ms()
        dt = time.ticks_diff(now, last)
        last = now
        app.tick(now, dt)
        n += 1
        if wdt is not None:
            wdt.feed()
        if healthy_since is not None and (time.ticks_diff(now, healthy_since) > _HEALTHY_MS
                                          or getattr(app, "result", 0)):
            # ten minutes of healthy running, or a finished session: the build is good
            if crash_count(None):
                set_crash_count(0)
            healthy_since = None
        wait = time.ticks_diff(nxt, time.ticks_ms())
        if wait > 0:
            time.sleep_ms(wait)
            nxt = time.ticks_add(nxt, period)
        elif wait < -4 * period:
            app.overruns = getattr(app, "overruns", 0) + 1
            nxt = time.ticks_add(time.ticks_ms(), period)
        else:
            nxt = time.ticks_add(nxt, period)


def main(machine, os, time, select, neopixel=None, board_name=None):
    """Boot the device. Returns to the REPL on Ctrl-C or in safe mode; otherwise never."""
    from pacer_app.board import Board
    from pacer_hw import profiles
    if board_name is None:
        board_name = _board_name(os)
    profile = profiles.get(board_name)
    crashes = crash_count(os)
    own_reset = crashes < 0  # -N: the crash path counted N, then reset the board itself
    crashes = abs(crashes)
    try:
        wdt_reset = machine.reset_cause() == machine.WDT_RESET
    except AttributeError:
        wdt_reset = False
    # The rp2 port's machine.reset() goes through the watchdog, so after the crash path's own
    # reset reset_cause() says WDT_RESET too: that crash is counted already.
    if wdt_reset and not own_reset:  # a hung loop is a crash too: three in a row: safe mode
        crashes += 1
    if wdt_reset or own_reset:
        set_crash_count(crashes)
    board = None
    if crashes >= _SAFE_AFTER:
        # nothing of the app is built (the crash may be in a driver): pins only
        safe_outputs(machine, neopixel, profile)
        print("pacer: safe mode after %d crash resets; outputs off. Replace the build, then "
              "delete %s to leave safe mode." % (crashes, _CRASH_FILE))
        return "safe"
    try:
        board = Board(profile, machine, neopixel)
        from pacer_app.app import App
        from pacer_app.storage import Store
        from pacer_app.usb import Usb
        store = Store(os, "/")
        app = App(board, store, Usb(select, sys.stdin, sys.stdout), board_name)
        ok, msg = self_test(board, time)
        app.self_test = msg
        print('{"t_ms": 0, "type": "boot", "board": "%s", "self_test": "%s", "crashes": %d}'
              % (board_name, msg, crashes))
        wdt = machine.WDT(timeout=min(_WDT_MS, profile.get("wdt_max_ms", _WDT_MS)))
        loop(app, time, wdt)
    except KeyboardInterrupt:
        if board is not None:
            board.outputs_off()
        stop_watchdog(machine, profile["chip"])
        print("pacer: stopped (Ctrl-C); outputs off")
        return "interrupted"
    except Exception as e:  # noqa: BLE001 - anything at all must end in the safe state
        if board is not None:
            board.outputs_off()
        log_error(os, e)
        set_crash_count(-crashes - 1)
        print("pacer: error %r; outputs off, resetting (crash %d of %d before safe mode)"
              % (e, crashes + 1, _SAFE_AFTER))
        machine.reset()
    return "ended"


def start():
    """main.py: boot with the board's own modules."""
    import os
    import select
    import time

    import machine
    try:
        import neopixel
    except ImportError:
        neopixel = None
    return main(machine, os, time, select, neopixel)


def motor_off():
    """boot.py: the motor pin driven low before anything else runs."""
    import os

    import machine

    from pacer_hw import profiles
    machine.Pin(profiles.get(_board_name(os))["motor"], machine.Pin.OUT, value=0)


def _board_name(os):
    """board.txt (written by `pacer flash`), else a guess from os.uname(): sys.platform is
    "webassembly" on the virtual board, whose uname names the board it stands for."""
    try:
        with open("board.txt") as f:
            name = f.read().strip()
            if name:
                return name
    except OSError:
        pass
    return guess_board(os)


def guess_board(os):
    try:
        u = os.uname()
        port = u.sysname
        mach = u.machine
    except (AttributeError, OSError):
        port = sys.platform
        mach = ""
    if port == "esp32" or "ESP32" in mach:
        return "esp32s3" if "ESP32S3" in mach or "ESP32-S3" in mach else "esp32"
    if "Pico 2" in mach or "RP2350" in mach:
        return "pico2"
    if "Pico W" in mach:
        return "pico_w"
    return "pico"
