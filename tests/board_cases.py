"""The whole device (App + Board + drivers + Store) on the vdev World, for CPython and for the
MicroPython VM (tests/test_board_alloc.py runs it in mpvm). No pytest, no CPython-only syntax.

make(board, root): a World wired as the profile says (every sensor type: MPX5010 on an ADC pin,
HX710B on two GPIOs, MPRLS/BMP280 on I2C, the OLED), the App with a host that reads everything.
"""
import os

import machine
import neopixel
import world as W

from pacer_app.app import App
from pacer_app.board import Board
from pacer_app.storage import Store
from pacer_hw import profiles

TICK = 20


class SinkUsb:
    """A host that reads everything and keeps nothing (no allocation on the host side)."""

    def __init__(self):
        self.buf = bytearray(64)
        self.inbox = b""
        self.frames = 0
        self.text = 0

    def send(self, data):
        self.inbox = self.inbox + data

    def read(self):
        if not self.inbox:
            return 0
        n = min(64, len(self.inbox))
        self.buf[:n] = self.inbox[:n]
        self.inbox = self.inbox[n:]
        return n

    def ready(self):
        return True

    def write(self, text):
        self.text += 1
        return True

    def write_bytes(self, mv):
        self.frames += 1
        return len(mv)


def wire(w, prof):
    import wiring
    wiring.attach_sensors(w, prof)
    wiring.attach_oled(w, prof)


def _drop(t_ms, channel, value):
    pass


class QuietNeoPixel(neopixel.NeoPixel):
    """The vdev NeoPixel without its recording (which allocates on the host side): what is
    measured is the firmware's allocation, not the virtual device's."""

    def write(self):
        self.writes += 1


class _QuietModule:
    NeoPixel = QuietNeoPixel


class _NullI2C:
    """The display's bus with nothing on it: the virtual SSD1306 parses every byte in Python,
    and that allocation is the host's, not the firmware's."""

    def writeto(self, addr, buf, stop=True):
        return len(buf)


def make(board, root, usb=None, seed=1, quiet=False):
    """quiet: outputs are not recorded (w.sink drops them, the pixel is QuietNeoPixel)."""
    prof = profiles.get(board)
    w = W.World(port=prof["port"], seed=seed)
    machine.world = w
    if quiet:
        w.sink = _drop
    wire(w, prof)
    w.set_pressure(0, 0.0)
    w.set_pressure(1, 0.0)
    w.set_input(prof["button"], 1)
    b = Board(prof, machine, _QuietModule if quiet else neopixel)
    try:
        os.mkdir(root)
    except OSError:
        pass
    store = Store(os, root)
    app = App(b, store, usb if usb is not None else SinkUsb(), board)
    return w, app


def run(w, app, ms):
    for _ in range(ms // TICK):
        w.advance_ms(TICK)
        app.tick(w.now_ms(), TICK)


def alloc(board, root, stream=True):
    """Bytes allocated by the full App (driver, engine, cues, outputs, OLED, telemetry) over
    100 idle ticks (status glow), 100 running ticks mid-phase (kegel) and 50 paused ticks.
    VM only."""
    import gc
    w, app = make(board, root, quiet=True)
    if app.screen is not None:
        # the firmware's pages go out as writeto() of preallocated views, to no device
        app.screen.d._i2c = _NullI2C()
    app.stream = stream
    run(w, app, 1000)          # idle: self-zeroing, first conversions, device caches
    out = {}
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    run(w, app, 2000)
    out["idle"] = gc.mem_alloc() - a
    gc.enable()
    app.start("kegel")
    run(w, app, 2500)          # past the "zero" event (1 s) of the baseline step
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    run(w, app, 2000)          # inside the 10 s baseline step: no event, no flash write
    out["running"] = gc.mem_alloc() - a
    gc.enable()
    app.pause()
    run(w, app, 200)
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    run(w, app, 1000)
    out["paused"] = gc.mem_alloc() - a
    gc.enable()
    out["frames"] = app.usb.frames
    out["screen"] = app.screen is not None
    out["state"] = app.status()["state"]
    out["step"] = app.engine.step
    return out


def _measure(fn, n=50):
    import gc
    fn()
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(n):
        fn()
    d = gc.mem_alloc() - a
    gc.enable()
    return d // n


def parts(board, root):
    """Per-call allocation of each piece of a tick (VM only), to find what allocates."""
    w, app = make(board, root, quiet=True)
    b = app.board
    run(w, app, 1000)
    out = {}
    out["read"] = _measure(lambda: b.read(w.now_ms()))
    out["button"] = _measure(lambda: b.button_event(w.now_ms()))
    out["idle_show"] = _measure(lambda: app._idle_show(w.now_ms(), 0))
    out["show"] = _measure(lambda: b.show(w.now_ms(), 1000, 0x102030, 0))
    out["tele"] = _measure(lambda: app.tele.send(10, 20, 30, 1, 0, None))
    out["usb"] = _measure(lambda: app.usb.read())
    out["advance"] = _measure(lambda: w.advance_ms(20))
    app.start("kegel")
    run(w, app, 2500)
    e = app.engine
    t = [app.el]

    def etick():
        t[0] += 20
        e.tick(t[0], 5, -1)
    out["engine"] = _measure(etick)
    out["sensor_fault"] = _measure(lambda: e.sensor_fault(t[0], 0))
    out["tick"] = _measure(lambda: app.tick(w.now_ms(), 20))
    return out
