"""Start a virtual board on a pseudo-terminal, for mpremote, the pacer host tools or a person.

    with start(board="pico", flash_dir="flash") as vb:
        subprocess.run([".venv/bin/mpremote", "connect", vb.port, "exec", "print(1)"])

    python -m host_tools.vboard --board pico --flash-dir flash     # prints the port, then runs

The pty: os.openpty(), the slave set raw and closed again (the port stays valid while the
master is open; a program opening /dev/pts/N is "the host"), the master handed to Node
(board.mjs) as an inherited non-blocking fd. The launcher keeps its own copy of the master, so
the port survives the Node process: power_cut() kills Node at once (SIGKILL: no flush, like
pulling the plug), power_on() boots it again on the same port and flash (PWRON_RESET). An
injected power cut (power_cut_at=N, or PACER_VBOARD_POWER_CUT_AT=N) ends Node inside the Nth
flash write; wait_power_cut() waits for that. The CLI restores power after a second.

Options: board (profile name from firmware/pacer_hw/profiles.py), flash_dir (default: a temp
dir, deleted by stop()), realtime (sleeps really wait) or accelerated virtual time (default),
seed, persona (host_tools.sim persona for the pressure channels), heap (initial MicroPython
heap; this port grows it on demand and only collects garbage when Python returns to the host,
so a long-running main.py uses more memory than on a board: MemoryError is not emulated here,
use host_tools.mpvm for heap budgets), record (JSONL file of the World's outputs: one
{"t_ms", "ch", "v"} object per line, t_ms on the board clock since power-on, flushed at least
every second), capacity (flash bytes; default the board's filesystem size), fs_model
("littlefs" copy-on-write commits, or "direct" torn writes), tick_cost_us (virtual time charged
per time call), rate (accelerated mode: at most this many times real time, e.g. 8 for a
watchable demo; default as fast as possible), ticks_offset_ms (start the tick counters that far
in, to test wraps), epoch
(RTC seconds since 1970 at power-on; default 2021-01-01, the wall clock in realtime mode).
"""
from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tty
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BOARD_MJS = HERE / "board.mjs"
VM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
VM_MJS = VM_PACKAGE / "micropython.mjs"
VDEV = ROOT / "host_tools" / "vdev"
FIRMWARE = ROOT / "firmware"
EXIT_POWER_CUT = 75
POWER_CUT_ENV = "PACER_VBOARD_POWER_CUT_AT"

# Filesystem bytes of each board's stock MicroPython image (flash minus firmware).
CAPACITY = {"pico": 1408 * 1024, "pico_w": 848 * 1024, "pico2": 3 * 1024 * 1024,
            "esp32": 2 * 1024 * 1024, "esp32s3": 6 * 1024 * 1024}
TITLES = {"pico": "Raspberry Pi Pico", "pico_w": "Raspberry Pi Pico W",
          "pico2": "Raspberry Pi Pico 2", "esp32": "Generic ESP32 module",
          "esp32s3": "Generic ESP32S3 module"}
EPOCH_2021 = 1609459200


class VBoardError(RuntimeError):
    pass


def board_profile(board: str) -> dict:
    """The firmware's profile for `board` (as JSON-able data), or a bare one without firmware/."""
    src = FIRMWARE / "pacer_hw" / "profiles.py"
    if src.is_file():
        spec = importlib.util.spec_from_file_location("_vboard_profiles", src)
        assert spec and spec.loader
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if board not in mod.NAMES:
            raise VBoardError("unknown board %r (one of %s)" % (board, ", ".join(mod.NAMES)))
        return json.loads(json.dumps(mod.get(board)))
    return {"name": board, "port": "esp32" if board.startswith("esp32") else "rp2"}


class VBoard:
    """A running virtual board. .port is the pty to open; use as a context manager or stop()."""

    script = BOARD_MJS  # the Node program that is the board

    def __init__(self, config: dict, master: int, tmp_flash: bool, log_path: str | None):
        self.config = config
        self.flash_dir = config["flashDir"]
        self.record = config["record"]
        self._master = master
        self.port = config["port"]
        self._tmp_flash = tmp_flash
        self._log_path = log_path
        self._proc: subprocess.Popen | None = None
        self._ready = threading.Event()
        self._cut = threading.Event()
        self.power_cut_write: int | None = None
        self.stderr_lines: collections.deque[str] = collections.deque(maxlen=200)

    # -- process --

    def _spawn(self, cut_at: int):
        node = shutil.which("node")
        if node is None:
            raise VBoardError("node not found on PATH (Node 20 is needed)")
        cfg = dict(self.config, cutAtWrite=cut_at)
        self._ready.clear()
        self._cut.clear()
        log = open(self._log_path, "ab") if self._log_path else None
        self._proc = subprocess.Popen([node, str(self.script), json.dumps(cfg)],
                                      pass_fds=(self._master,), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE if log is None else log,
                                      start_new_session=True, cwd=str(ROOT))
        if log is not None:
            log.close()
        proc = self._proc
        threading.Thread(target=self._read_status, args=(proc,), daemon=True).start()
        if proc.stderr is not None:
            threading.Thread(target=self._read_stderr, args=(proc,), daemon=True).start()

    def _read_status(self, proc):
        assert proc.stdout is not None
        for raw in proc.stdout:
            line = raw.decode(errors="replace").strip()
            if line == "READY":
                self._ready.set()
            elif line.startswith("POWERCUT"):
                self.power_cut_write = int(line.split()[1])
                self._cut.set()

    def _read_stderr(self, proc):
        for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.stderr_lines.append(line)
            sys.stderr.write(line + "\n")

    def wait_ready(self, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self._proc is None or self._proc.poll() is not None:
                raise VBoardError("virtual board exited during boot:\n" + self.log_tail())
            if time.monotonic() > deadline:
                raise VBoardError("virtual board did not boot in %gs" % timeout)
        return self

    def log_tail(self) -> str:
        if self._log_path and os.path.exists(self._log_path):
            with open(self._log_path, errors="replace") as f:
                return f.read()[-4000:]
        return "\n".join(list(self.stderr_lines)[-40:])

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- power --

    def power_cut(self):
        """Pull the plug now: Node is killed without flushing anything."""
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait()

    def power_on(self, power_cut_at: int = 0, timeout: float = 20.0):
        """Boot again on the same port and flash (after power_cut() or an injected cut)."""
        if self.alive:
            raise VBoardError("the board is still powered")
        self._spawn(power_cut_at)
        return self.wait_ready(timeout)

    def wait_power_cut(self, timeout: float = 30.0) -> int:
        """Wait for an injected power cut; returns the flash write it hit."""
        if not self._cut.wait(timeout):
            raise VBoardError("no power cut within %gs" % timeout)
        assert self._proc is not None
        self._proc.wait(timeout=5)
        assert self.power_cut_write is not None
        return self.power_cut_write

    def exit_code(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    # -- lifetime --

    def stop(self):
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(self._proc.pid, signal.SIGKILL)
                self._proc.wait()
        if self._master >= 0:
            os.close(self._master)
            self._master = -1
        if self._tmp_flash:
            shutil.rmtree(self.flash_dir, ignore_errors=True)
            self._tmp_flash = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        if getattr(self, "_master", -1) >= 0:
            self.stop()



def power_cut_from_env():
    """The flash operation a power cut is injected at (POWER_CUT_ENV), 0 for none."""
    return int(os.environ.get(POWER_CUT_ENV, "0") or 0)


def start_record(record):
    """An empty recording file, its folder made (None: no recording)."""
    if record is not None:
        Path(record).parent.mkdir(parents=True, exist_ok=True)
        Path(record).write_text("")


def open_pty():
    """A raw pseudo-terminal for the board's USB serial: (master fd, non-blocking; port path)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    port = os.ttyname(slave)
    os.close(slave)
    os.set_blocking(master, False)
    return master, port


def start(board: str = "pico", flash_dir: str | os.PathLike | None = None, realtime: bool = False,
          seed: int = 0, persona: str | None = None, heap: int = 192 * 1024, *,
          record: str | os.PathLike | None = None, capacity: int | None = None,
          fs_model: str = "littlefs", tick_cost_us: int = 0, ticks_offset_ms: int = 0,
          epoch: int | None = None, power_cut_at: int | None = None,
          log: str | os.PathLike | None = None, wait: bool = True,
          ready_timeout: float = 20.0, rate: float | None = None) -> VBoard:
    """Start a virtual board; returns once the VM has booted (before boot.py) unless wait=False."""
    if not VM_MJS.is_file():
        raise VBoardError("MicroPython VM missing (%s): run `make setup`" % VM_MJS)
    if fs_model not in ("littlefs", "direct"):
        raise VBoardError("fs_model must be 'littlefs' or 'direct'")
    profile = board_profile(board)
    tmp_flash = flash_dir is None
    flash = Path(tempfile.mkdtemp(prefix="vboard-flash-") if tmp_flash else flash_dir).resolve()
    flash.mkdir(parents=True, exist_ok=True)
    if power_cut_at is None:
        power_cut_at = power_cut_from_env()
    start_record(record)
    master, port = open_pty()

    config = {
        "fd": master,
        "port": port,
        "mjs": str(VM_MJS),
        "board": board,
        "boardTitle": TITLES.get(board, board),
        "profile": profile,
        "flashDir": str(flash),
        "capacity": int(capacity if capacity is not None else CAPACITY.get(board, 1408 * 1024)),
        "fsModel": fs_model,
        "realtime": bool(realtime),
        "seed": int(seed),
        "persona": persona,
        "heap": int(heap),
        "record": str(Path(record).resolve()) if record is not None else None,
        "tickCostUs": int(tick_cost_us),
        "rate": float(rate or 0),
        "ticksOffsetUs": int(ticks_offset_ms) * 1000,
        "epochS": int(epoch if epoch is not None else (time.time() if realtime else EPOCH_2021)),
        "pyDir": str(HERE / "py"),
        "vdevDir": str(VDEV) if (VDEV / "machine.py").is_file() else None,
        "simDir": str(ROOT / "host_tools" / "sim"),
        "pacerDir": str(FIRMWARE / "pacer"),
    }
    vb = VBoard(config, master, tmp_flash, str(log) if log is not None else None)
    try:
        vb._spawn(power_cut_at)
        if wait:
            vb.wait_ready(ready_timeout)
    except BaseException:
        vb.stop()
        raise
    return vb


def _parser():
    p = argparse.ArgumentParser(prog="python -m host_tools.vboard",
                                description="Run a virtual pacer board on a pseudo-terminal "
                                            "(prints the port on the first line).")
    p.add_argument("--board", default="pico")
    p.add_argument("--flash-dir", help="host folder holding the board's flash (default: temp)")
    p.add_argument("--realtime", action="store_true", help="sleeps take real time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--persona", help="simulated person on the pressure channels")
    p.add_argument("--heap", type=int, default=192 * 1024)
    p.add_argument("--record", help="JSONL file for the outputs timeline")
    p.add_argument("--capacity", type=int, help="flash filesystem bytes")
    p.add_argument("--fs-model", choices=("littlefs", "direct"), default="littlefs")
    p.add_argument("--tick-cost-us", type=int, default=0)
    p.add_argument("--rate", type=float, help="accelerated: at most this many x real time")
    p.add_argument("--ticks-offset-ms", type=int, default=0)
    p.add_argument("--epoch", type=int, help="RTC at power-on, seconds since 1970")
    p.add_argument("--power-cut-at", type=int, help="cut the power inside flash write N")
    p.add_argument("--log", help="write the board's diagnostics here instead of stderr")
    return p


def main(argv=None) -> int:
    a = _parser().parse_args(argv)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    vb = start(board=a.board, flash_dir=a.flash_dir, realtime=a.realtime, seed=a.seed,
               persona=a.persona, heap=a.heap, record=a.record, capacity=a.capacity,
               fs_model=a.fs_model, tick_cost_us=a.tick_cost_us,
               ticks_offset_ms=a.ticks_offset_ms, epoch=a.epoch, power_cut_at=a.power_cut_at,
               log=a.log, wait=False, rate=a.rate)
    print(vb.port, flush=True)
    try:
        while not stop.wait(0.2):
            code = vb.exit_code()
            if code is None:
                continue
            if code == EXIT_POWER_CUT:
                print("vboard: power cut in flash write %s; power back in 1 s" % vb.power_cut_write,
                      file=sys.stderr, flush=True)
                time.sleep(1)
                vb._spawn(0)
                continue
            print("vboard: board process exited (%s)" % code, file=sys.stderr, flush=True)
            return 1
        return 0
    finally:
        vb.stop()
