"""A device on CPython for app tests: the real firmware shell and drivers, the virtual machine
module (host_tools/vdev) with a scripted person on the pressure channels, virtual time."""
import hw_env  # noqa: F401 - puts firmware/ and host_tools/vdev first on sys.path

# isort: split
import machine
import neopixel
import world as W

import synth
from pacer import builtin
from pacer_app.app import App
from pacer_app.board import Board
from pacer_app.storage import Store
from pacer_hw import profiles
from vdev_mpx import attach_mpx


class FakeUsb:
    def __init__(self):
        self.buf = bytearray(64)
        self.inbox = b""
        self.out = []
        self.frames = []
        self.dropped = 0

    def send(self, text):
        self.inbox += text.encode()

    def read(self):
        n = min(64, len(self.inbox))
        self.buf[:n] = self.inbox[:n]
        self.inbox = self.inbox[n:]
        return n

    def ready(self):
        return True

    def write(self, text):
        self.out.append(text)
        return True

    def write_bytes(self, mv):
        self.frames.append(bytes(mv))
        return len(mv)

    def lines(self):
        return "".join(self.out).splitlines()


class Rig:
    def __init__(self, tmp_path, board="pico", level=25.0, rest=15.0, program="kegel"):
        self.w = W.World(port=profiles.get(board)["port"], seed=3)
        machine.world = self.w
        tl = builtin.load(program)
        self.person = synth.person(tl, synth.effort(level), rate_hz=100, rest=rest,
                                   extend_ms=5000)
        self.start_ms = None
        self.w.set_pressure(0, self._pressure)
        self.w.set_pressure(1, 9.0)
        prof = profiles.get(board)
        attach_mpx(self.w, prof)
        self.board = Board(prof, machine, neopixel)
        self.usb = FakeUsb()
        self.store = Store(_Os(tmp_path), str(tmp_path))
        self.app = App(self.board, self.store, self.usb, board)

    def _pressure(self, t_ms):
        if self.start_ms is None:
            return self.person[0][1]
        k = (t_ms - self.start_ms) // 10
        return self.person[min(max(k, 0), len(self.person) - 1)][1]

    def run(self, ms):
        for _ in range(ms // 20):
            self.w.advance_ms(20)
            self.app.tick(self.w.now_ms(), 20)


class _Os:
    """os with paths that stay inside the test's folder."""

    def __init__(self, root):
        import os
        self._os = os
        self.root = str(root)

    def __getattr__(self, name):
        return getattr(self._os, name)
