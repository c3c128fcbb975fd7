"""The World's I2C parts and pixel on the emulated RP2040 (host_tools/vboard/rp2040/wires.mjs).

One chip wired as the pico_w profile (an MPRLS on I2C0 with the SSD1306, another on I2C1) runs
the firmware's own Board and drivers (copied from firmware/ to its flash): the OLED is found by the
port's bit-banged I2C.scan(), the two MPRLS are read through the I2C controllers, a frame goes
to the SSD1306 and a colour to a WS2812 through the port's neopixel. The recording (--record)
is where the World's side is seen.
"""
import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from host_tools.vboard import rp2040

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = ROOT / ".venv" / "bin" / "mpremote"
PIXEL_PIN = 22  # free on the pico_w profile, which has no pixel of its own
MARK = 12345  # an LED duty

pytestmark = pytest.mark.skipif(
    not rp2040.EMULATOR.is_file() or not MPREMOTE.is_file() or shutil.which("node") is None,
    reason="needs node, node_modules and .venv (make setup)")

# what pacer_app.board needs for the pico_w profile (`mpremote mount` times out on the chip)
FILES = ["pacer/__init__.py", "pacer/_compat.py", "pacer_app/__init__.py", "pacer_app/board.py"] \
    + ["pacer_hw/%s.py" % m for m in ("__init__", "_compat", "fault", "button", "motor", "led",
                                      "buzzer", "mprls", "sensor", "supply", "screen", "pixel",
                                      "profiles")]

SNIPPET = """
import machine, neopixel, time
from pacer_app.board import Board
from pacer_hw import profiles
from pacer_hw.pixel import Pixel
b = Board(profiles.get('pico_w'), machine, neopixel)
print('screen', b.screen is not None)
for s in (b.sensor, b.abdominal):
    s.update(time.ticks_ms())
    time.sleep_ms(8)
    code = s.update(time.ticks_ms())
    print('mprls', code, bytes(s._buf).hex())
t = time.ticks_us()
b.screen.draw(120, 200, 400, 'HOLD', 3, 1, 5)
b.screen.d.show()
print('show_us', time.ticks_diff(time.ticks_us(), t))
print('scan', [b._i2c_cache[k].scan() for k in sorted(b._i2c_cache)])
px = Pixel(neopixel.NeoPixel(machine.Pin(%d, machine.Pin.OUT), 1))
px.set(0x20C040)
time.sleep_ms(5)
b.led.duty(%d)  # the last output: once the recording has it, it has everything before
time.sleep_ms(5)
print('done')
""" % (PIXEL_PIN, MARK)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("i2c")
    record = tmp / "outputs.jsonl"
    chip = rp2040.start(tmp / "flash", board="pico_w", log=tmp / "chip.log", record=record)
    try:
        cmd = [str(MPREMOTE), "connect", chip.port]
        for d in ("pacer", "pacer_app", "pacer_hw"):
            cmd += ["fs", "mkdir", ":" + d, "+"]
        for f in FILES:
            cmd += ["fs", "cp", str(ROOT / "firmware" / f), ":" + f, "+"]
        r = subprocess.run(cmd + ["exec", SNIPPET], capture_output=True, text=True)
        out = r.stdout.replace("\r\n", "\n")
        assert r.returncode == 0 and "done" in out, out + r.stderr + chip.log_tail()
        lines = {}
        for ln in out.splitlines():
            k, _, v = ln.partition(" ")
            lines.setdefault(k, []).append(v)
        # the recorder flushes once a second of real time while the chip runs
        recs = []
        guard = time.monotonic() + 120  # only against a hang
        while not any(x["ch"] == "led" and x["v"] == MARK for x in recs):
            assert chip.alive and time.monotonic() < guard, chip.log_tail()
            time.sleep(0.2)
            recs = [json.loads(x) for x in record.read_text().splitlines()] \
                if record.exists() else []
    finally:
        chip.stop()
    return lines, recs


def counts_to_pa(hexbuf):
    b = bytes.fromhex(hexbuf)
    counts = (b[1] << 16) | (b[2] << 8) | b[3]
    # MPRLS0025PA: 10 %..90 % of 2**24 counts over 0..25 psi
    return (counts - 0.1 * 2 ** 24) / (0.8 * 2 ** 24) * 25 * 6894.757, b[0]


def test_both_mprls_read_the_worlds_pressure_through_the_i2c_controllers(run):
    lines, _ = run
    (bus0, bus1) = lines["mprls"]
    for line in (bus0, bus1):
        code, buf = line.split()
        pa, status = counts_to_pa(buf)
        assert code == "0" and status == 0x40  # powered, not busy, no fault
        # the World at rest: the atmosphere (101325 Pa), 0 cmH2O on the probes; the model's
        # noise is 30 counts (0.4 Pa)
        assert abs(pa - 101325) < 3, pa


def test_the_oled_answers_the_bit_banged_scan_and_gets_the_frames(run):
    lines, recs = run
    assert lines["screen"] == ["True"]
    # I2C0 has the MPRLS and the OLED, I2C1 the second MPRLS
    assert lines["scan"] == ["[[24, 60], [24]]"]
    frames = [x["v"] for x in recs if x["ch"] == "oled"]
    assert frames == [1, 2]  # Board's init() draws a blank frame, then the show()
    # a 1025-byte write at 400 kHz: 9 SCL periods of 2.5 us a byte, in emulated time
    show_us = int(lines["show_us"][0])
    assert 23000 < show_us < 27000, show_us


def test_the_pixel_colour_written_by_the_firmware_reaches_the_world(run):
    _, recs = run
    colours = [x["v"] for x in recs if x["ch"] == "pixel%d" % PIXEL_PIN]
    # Pixel scales 0x20C040 by its brightness 64/255: Pixel() writes off first, then the colour
    expect = 0
    for shift in (16, 8, 0):
        expect |= (((0x20C040 >> shift) & 0xFF) * 64 + 127) // 255 << shift
    assert colours == [0, expect] and expect == 0x083010
