"""The emulated RP2040: the official MicroPython rp2 image on rp2040js, on a pseudo-terminal.

    from host_tools.vboard import rp2040
    with rp2040.start(flash_dir="build/chip") as chip:
        print(chip.port)          # mpremote connect /dev/pts/N ...  (sys.implementation._machine
                                  # is the image's "Raspberry Pi Pico with RP2040")

    pacer vboard --chip rp2040 [--flash-dir DIR] [--image firmware.bin] [--realtime]

Same pty, power and power-cut handling as the wasm virtual board (launcher.VBoard; the Node
program is rp2040/chip.mjs, which says what is emulated). The flash is DIR/flash.bin, the
Pico's 2 MB: on each power-on the image is copied over its start (like dropping a UF2 on the
drive) and the rest (the littlefs filesystem) is kept; a .uf2 image is unpacked the way the
boot ROM's drive writes it. An injected power cut (power_cut_at=N) ends the process inside the
Nth flash erase/program operation. journal=PATH appends every such operation to a file, from
which flashjournal.replay rebuilds the flash at any point, inside any operation.

--board pico_w wires the World as the pico_w profile (MPRLS sensors on I2C0 and I2C1) around
the same Pico image: the W's wiring, not its radio (`pacer flash --board pico_w` refuses a
board that reports a Pico; mpremote runs the firmware there, see docs/vboard.md).

The default image and the boot ROM are committed fixtures (tests/fixtures/rp2040/, see its
README): the unmodified MicroPython v1.28.0 RPI_PICO build of tools/rp2image.py, so no ARM
toolchain is needed to run it.
"""
from __future__ import annotations

import os
import shutil
import struct
import tempfile
from pathlib import Path

from .launcher import (
    HERE,
    ROOT,
    VBoard,
    VBoardError,
    board_profile,
    open_pty,
    power_cut_from_env,
    start_record,
)

CHIP_MJS = HERE / "rp2040" / "chip.mjs"
FIXTURES = ROOT / "tests" / "fixtures" / "rp2040"
IMAGE = FIXTURES / "micropython-v1.28.0-RPI_PICO.bin"
BOOTROM = FIXTURES / "bootrom-b1.bin"
EMULATOR = ROOT / "node_modules" / "rp2040js" / "package.json"
FLASH_BYTES = 2 * 1024 * 1024  # the Pico's W25Q16JV
XIP_BASE = 0x10000000
BOARDS = ("pico", "pico_w")  # RP2040 profiles; pico_w: its wiring, not its radio


def uf2_to_flash(data: bytes) -> bytes:
    """The flash bytes a UF2 file puts on a Pico (RP2040 blocks at 0x10000000 and up), as the
    boot ROM's drive would write them; gaps stay erased (0xFF)."""
    from host_tools.commands import install_micropython as im

    flash = bytearray()
    for off in range(0, len(data) - len(data) % 512, 512):
        m0, m1, flags, addr, size = struct.unpack_from("<IIIII", data, off)
        fam = struct.unpack_from("<I", data, off + 28)[0]
        if m0 != im.UF2_MAGIC0 or m1 != im.UF2_MAGIC1:
            raise VBoardError("not a UF2 file (block %d has no UF2 magic)" % (off // 512))
        if flags & im.UF2_FAMILY_FLAG and fam not in im.CHIP_FAMILIES["rp2040"]:
            continue
        at = addr - XIP_BASE
        if not 0 <= at <= FLASH_BYTES - size or size > 476:
            raise VBoardError("UF2 block %d writes outside the Pico's flash (0x%08x)"
                              % (off // 512, addr))
        if len(flash) < at + size:
            flash.extend(b"\xff" * (at + size - len(flash)))
        flash[at:at + size] = data[off + 32:off + 32 + size]
    if not flash:
        raise VBoardError("the UF2 file has no RP2040 blocks")
    return bytes(flash)


class Chip(VBoard):
    """A running emulated Pico (see VBoard for power_cut/power_on/stop)."""

    script = CHIP_MJS


def start(flash_dir: str | os.PathLike | None = None, *, board: str = "pico",
          image: str | os.PathLike | None = None, realtime: bool = False,
          rate: float | None = None, power_cut_at: int | None = None,
          log: str | os.PathLike | None = None, wait: bool = True,
          ready_timeout: float = 60.0, seed: int = 0, persona: str | None = None,
          record: str | os.PathLike | None = None,
          journal: str | os.PathLike | None = None,
          cycle_profile: tuple[str | os.PathLike, int] | None = None,
          lookup_at: int | None = None) -> Chip:
    """Power on an emulated Pico; returns once its USB serial is up unless wait=False.
    journal: a file that gets every flash erase/program appended (flashjournal reads it).
    cycle_profile: (file, gpio): cycles per code address while that pin is high (chip.mjs).
    lookup_at: with it, the address of mp_map_lookup: its calls while the pin is high go to
    file.lookups, counted by map and key."""
    if board not in BOARDS:
        raise VBoardError("the emulated RP2040 is a Pico; board %r is not one (use --board %s)"
                          % (board, " or ".join(BOARDS)))
    if not EMULATOR.is_file():
        raise VBoardError("rp2040js is missing (%s): run `make setup`" % EMULATOR.parent)
    img = Path(image) if image is not None else IMAGE
    if not img.is_file():
        raise VBoardError("no firmware image at %s" % img)
    if img.stat().st_size > FLASH_BYTES * 2:
        raise VBoardError("%s is larger than the Pico's 2 MB flash" % img)
    tmp_flash = flash_dir is None
    flash = Path(tempfile.mkdtemp(prefix="rp2040-flash-") if tmp_flash else flash_dir).resolve()
    flash.mkdir(parents=True, exist_ok=True)
    if img.suffix.lower() == ".uf2":  # dropped on the drive: the blocks land in the flash
        img_bin = flash / "image.bin"
        img_bin.write_bytes(uf2_to_flash(img.read_bytes()))
        img = img_bin
    elif img.stat().st_size > FLASH_BYTES:
        raise VBoardError("%s is larger than the Pico's 2 MB flash" % img)
    if power_cut_at is None:
        power_cut_at = power_cut_from_env()
    start_record(record)
    master, port = open_pty()
    config = {
        "fd": master,
        "port": port,
        "board": board,
        "profile": board_profile(board),
        "image": str(img.resolve()),
        "bootrom": str(BOOTROM),
        "flashDir": str(flash),
        "flashFile": str(flash / "flash.bin"),
        "flashBytes": FLASH_BYTES,
        "realtime": bool(realtime),
        "rate": float(rate or 0),
        "seed": int(seed),
        "persona": persona,
        "record": str(Path(record).resolve()) if record is not None else None,
        "journal": str(Path(journal).resolve()) if journal is not None else None,
        "cycleProfile": str(Path(cycle_profile[0]).resolve()) if cycle_profile else None,
        "profilePin": cycle_profile[1] if cycle_profile else 0,
        "lookupAt": lookup_at,
    }
    chip = Chip(config, master, tmp_flash, str(log) if log is not None else None)
    try:
        chip._spawn(power_cut_at)
        if wait:
            chip.wait_ready(ready_timeout)
    except BaseException:
        chip.stop()
        raise
    return chip


def node_available() -> bool:
    return shutil.which("node") is not None


def serve(board="pico", flash_dir=None, image=None, realtime=False, rate=None, log=None, seed=0,
          persona=None, record=None) -> int:
    """Run an emulated Pico until SIGINT/SIGTERM; print its port first (pacer vboard --chip)."""
    import signal
    import sys
    import threading
    import time

    from .launcher import EXIT_POWER_CUT

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    chip = start(flash_dir, board=board, image=image, realtime=realtime, rate=rate, log=log,
                 wait=False, seed=seed, persona=persona, record=record)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    print(chip.port, flush=True)
    try:
        while not stop.wait(0.2):
            code = chip.exit_code()
            if code is None:
                continue
            if code == EXIT_POWER_CUT:
                print("vboard: power cut in flash operation %s; power back in 1 s"
                      % chip.power_cut_write, file=sys.stderr, flush=True)
                time.sleep(1)
                chip._spawn(0)
                continue
            print("vboard: chip process exited (%s)" % code, file=sys.stderr, flush=True)
            return 1
        return 0
    finally:
        chip.stop()
