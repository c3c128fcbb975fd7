"""pacer install-micropython: put the MicroPython runtime on a blank board.

Pico boards (rp2): hold BOOTSEL while plugging in; the board shows up as a USB drive (RPI-RP2
for the RP2040, RP2350 for the RP2350). The .uf2 file's family ID must match the chip (RP2040
0xe48bff56; RP2350 0xe48bff59 ARM secure, 0xe48bff5a RISC-V, 0xe48bff5b ARM non-secure), and
the drive's INFO_UF2.TXT must name the same chip; then the file is copied onto the drive, and
the board reboots into MicroPython.

ESP32 boards: esptool (PyPI) writes the .bin at 0x1000 (classic ESP32) or 0x0 (ESP32-S3). The
image must start with the ESP image magic 0xE9 and carry the board's chip ID (byte 12: 0 ESP32,
9 ESP32-S3).
"""
import glob
import os
import shlex
import struct
import subprocess
import sys

from host_tools import device
from host_tools.errors import CliError, NoBoard

NAME = "install-micropython"
HELP = ("Put the MicroPython runtime on a blank board: UF2 copy to the BOOTSEL drive (Pico), "
        "esptool for ESP32; checks the file matches the chip.")
EXAMPLE = ("pacer install-micropython --board pico RPI_PICO-v1.29.0.uf2\n"
           "  pacer install-micropython --board esp32s3 --erase ESP32_GENERIC_S3-v1.29.0.bin")

UF2_MAGIC0 = 0x0A324655
UF2_MAGIC1 = 0x9E5D5157
UF2_MAGIC_END = 0x0AB16F30
UF2_FAMILY_FLAG = 0x00002000
FAMILIES = {0xE48BFF56: "RP2040", 0xE48BFF57: "absolute", 0xE48BFF58: "data",
            0xE48BFF59: "RP2350 ARM secure", 0xE48BFF5A: "RP2350 RISC-V",
            0xE48BFF5B: "RP2350 ARM non-secure", 0x1C5F21B0: "ESP32", 0xC47E5767: "ESP32-S3"}
CHIP_FAMILIES = {"rp2040": {0xE48BFF56}, "rp2350": {0xE48BFF59, 0xE48BFF5A, 0xE48BFF5B}}
NEUTRAL = {0xE48BFF57, 0xE48BFF58}   # blocks any RP2350 image may carry first
DRIVE_IDS = {"rp2040": "RPI-RP2", "rp2350": "RP2350"}
ESP_CHIP_IDS = {0: "esp32", 2: "esp32s2", 5: "esp32c3", 9: "esp32s3", 12: "esp32c2",
                13: "esp32c6", 16: "esp32h2", 18: "esp32p4"}
ESP_OFFSETS = {"esp32": 0x1000, "esp32s3": 0x0}


def add_arguments(p):
    p.add_argument("--board", required=True, help="board profile: pico, pico_w, pico2, esp32, "
                                                  "esp32s3")
    p.add_argument("firmware", metavar="FIRMWARE", help="MicroPython .uf2 (Pico) or .bin (ESP32)")
    p.add_argument("--drive", help="Pico: the mounted BOOTSEL drive (default: found by its "
                                   "INFO_UF2.TXT)")
    p.add_argument("--port", help="ESP32: serial port (default: found by USB vendor ID)")
    p.add_argument("--baud", type=int, default=460800, help="ESP32: baud rate (default 460800)")
    p.add_argument("--erase", action="store_true", help="ESP32: erase the whole flash first")
    p.add_argument("--dry-run", action="store_true", help="check everything, copy nothing")


def uf2_families(path):
    """{family id: blocks} of a UF2 file; CliError if it is not one."""
    try:
        size = os.path.getsize(path)
        f = open(path, "rb")
    except FileNotFoundError:
        raise CliError("firmware file %s not found" % path)
    except OSError as e:
        raise CliError("cannot read %s: %s" % (path, e))
    if size == 0 or size % 512:
        f.close()
        raise CliError("%s is not a UF2 file (size %d is not a multiple of 512); download the "
                       ".uf2 for your board from micropython.org/download" % (path, size))
    fams = {}
    with f:
        n = 0
        while True:
            blk = f.read(512)
            if not blk:
                break
            m0, m1, flags = struct.unpack_from("<III", blk, 0)
            fam = struct.unpack_from("<I", blk, 28)[0]
            end = struct.unpack_from("<I", blk, 508)[0]
            if m0 != UF2_MAGIC0 or m1 != UF2_MAGIC1 or end != UF2_MAGIC_END:
                raise CliError("%s is not a UF2 file (block %d has no UF2 magic)" % (path, n))
            if flags & UF2_FAMILY_FLAG:
                fams[fam] = fams.get(fam, 0) + 1
            n += 1
    if not fams:
        raise CliError("%s has no UF2 family ID; cannot check it is for this chip" % path)
    return fams


def check_uf2(path, chip):
    fams = uf2_families(path)
    want = CHIP_FAMILIES[chip]
    chip_fams = {f for f in fams if f not in NEUTRAL}
    if not chip_fams or not chip_fams <= want:
        names = ", ".join("%s (0x%08x)" % (FAMILIES.get(f, "unknown"), f) for f in sorted(fams))
        raise CliError("%s is built for %s, but this board's chip is %s; download the %s .uf2"
                       % (path, names, chip.upper(), chip.upper()))
    return fams


def uf2_roots():
    env = os.environ.get("PACER_UF2_ROOTS")
    if env:
        return env.split(os.pathsep)
    user = os.environ.get("USER", "")
    return ["/media/%s" % user, "/run/media/%s" % user, "/media", "/mnt", "/Volumes"]


def drive_chip(drive):
    info = os.path.join(drive, "INFO_UF2.TXT")
    try:
        with open(info, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.splitlines():
        if line.lower().startswith("board-id:"):
            bid = line.split(":", 1)[1].strip().upper()
            if bid.startswith("RPI-RP2"):
                return "rp2040"
            if bid.startswith("RP2350"):
                return "rp2350"
            return bid
    return "unknown"


def find_drive(chip):
    found = []
    for root in uf2_roots():
        for d in sorted(glob.glob(os.path.join(root, "*"))) + [root]:
            if os.path.isfile(os.path.join(d, "INFO_UF2.TXT")) and d not in [x[0] for x in found]:
                found.append((d, drive_chip(d)))
    if not found:
        raise NoBoard("no %s drive found: hold BOOTSEL while plugging the board in, wait for the "
                       "drive to mount, or pass --drive" % DRIVE_IDS[chip])
    match = [d for d, c in found if c == chip]
    if not match:
        raise CliError("the BOOTSEL drive %s is a %s, not a %s; this is another board (pass the "
                       "right --board)" % (found[0][0], found[0][1], chip.upper()))
    return match[0]


def _copy(src, dst):
    from host_tools.commands.flash import Bar
    total = os.path.getsize(src)
    bar = Bar(total, "writing %s" % os.path.basename(dst))
    done = 0
    try:
        with open(src, "rb") as fi, open(dst, "wb") as fo:
            while True:
                chunk = fi.read(64 * 1024)
                if not chunk:
                    break
                fo.write(chunk)
                done += len(chunk)
                bar.update(done)
            fo.flush()
            os.fsync(fo.fileno())
    except OSError as e:
        bar.finish()
        raise CliError("copy to %s failed (%s); if the board rebooted early, hold BOOTSEL and "
                       "retry" % (os.path.dirname(dst), e))
    bar.finish()


def install_rp2(args, profile):
    chip = profile["chip"]
    fams = check_uf2(args.firmware, chip)
    drive = args.drive
    if drive:
        if not os.path.isdir(drive):
            raise CliError("drive %s does not exist or is not mounted" % drive)
        c = drive_chip(drive)
        if c is None:
            raise CliError("%s has no INFO_UF2.TXT: it is not a BOOTSEL drive" % drive)
        if c != chip:
            raise CliError("the BOOTSEL drive %s is a %s, not a %s; pass the right --board"
                           % (drive, c, chip.upper()))
    else:
        drive = find_drive(chip)
    print("%s: %s image (%d blocks) -> %s" % (os.path.basename(args.firmware), chip.upper(),
                                             sum(fams.values()), drive))
    if args.dry_run:
        print("dry run: nothing copied")
        return 0
    _copy(args.firmware, os.path.join(drive, os.path.basename(args.firmware)))
    print("done: the board reboots into MicroPython; next: pacer flash --board %s"
          % profile["name"])
    return 0


def esp_chip(path):
    try:
        with open(path, "rb") as f:
            head = f.read(24)
    except FileNotFoundError:
        raise CliError("firmware file %s not found" % path)
    except OSError as e:
        raise CliError("cannot read %s: %s" % (path, e))
    if len(head) < 24 or head[0] != 0xE9:
        raise CliError("%s is not an ESP32 firmware image (no 0xE9 image magic at the start); "
                       "download the .bin for your board from micropython.org/download" % path)
    cid = struct.unpack_from("<H", head, 12)[0]
    return ESP_CHIP_IDS.get(cid, "unknown chip id %d" % cid)


def esptool_command(chip, port, baud, offset, firmware, erase=False):
    base = [sys.executable, "-m", "esptool", "--chip", chip, "--port", port, "--baud", str(baud)]
    cmds = []
    if erase:
        cmds.append(base + ["erase-flash"])
    cmds.append(base + ["write-flash", "0x%x" % offset, firmware])
    return cmds


def install_esp32(args, profile):
    chip = profile["chip"]
    got = esp_chip(args.firmware)
    if got != chip:
        raise CliError("%s is built for %s, but this board is %s; download the %s .bin"
                       % (args.firmware, got.upper(), chip.upper(), chip.upper()))
    port = device.find_port(args.port)
    cmds = esptool_command(chip, port, args.baud, ESP_OFFSETS[chip], args.firmware, args.erase)
    for c in cmds:
        print("$ " + " ".join(shlex.quote(x) for x in c[2:]).replace("esptool", "esptool", 1))
    if args.dry_run:
        print("dry run: nothing written")
        return 0
    try:
        import esptool  # noqa: F401
    except ImportError:
        raise CliError("esptool is not installed: `pip install esptool==5.6.0` (or `make setup`)")
    for c in cmds:
        r = subprocess.run(c)
        if r.returncode != 0:
            raise CliError("esptool failed (exit %d); hold BOOT while pressing RESET to enter the "
                           "bootloader, check --port, then retry" % r.returncode)
    print("done: MicroPython is on the board; next: pacer flash --board %s" % profile["name"])
    return 0


def run(args):
    from pacer_hw import profiles
    if args.board not in profiles.NAMES:
        raise CliError("unknown board %r; boards: %s" % (args.board, ", ".join(profiles.NAMES)))
    profile = profiles.get(args.board)
    if not os.path.isfile(args.firmware):
        raise CliError("firmware file %s not found" % args.firmware)
    if profile["port"] == "rp2":
        return install_rp2(args, profile)
    return install_esp32(args, profile)
