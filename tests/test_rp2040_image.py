"""The committed official firmware image and boot ROM of the emulated RP2040 are what they say.

The SHA-256 checks run everywhere. The rebuild (tools/rp2image.py from the MicroPython tree,
compared byte for byte with the committed image) needs cmake, the ARM toolchain and the sources
(MICROPYTHON_SRC, else ../shared/vendor's tarball); it takes minutes, so it runs only with
PACER_SLOW=1 or PACER_RP2_BUILD=1 (`make rp2-image-check`) and is skipped without them.
"""
import hashlib
import os
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import rp2bootrom  # noqa: E402
import rp2image  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "rp2040"
IMAGE = FIXTURES / "micropython-v1.28.0-RPI_PICO.bin"
BOOTROM = FIXTURES / "bootrom-b1.bin"


def pinned():
    sums = {}
    for line in (FIXTURES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fixtures_match_their_pinned_sha256():
    sums = pinned()
    assert set(sums) == {IMAGE.name, BOOTROM.name}
    for name, digest in sums.items():
        assert sha256(FIXTURES / name) == digest, name


def test_image_is_an_rp2040_micropython_flash_image():
    data = IMAGE.read_bytes()
    # boot2 (256 bytes, CRC-checked by the ROM) then the vector table: initial SP in SRAM,
    # reset handler in flash (Thumb bit set)
    sp, reset = int.from_bytes(data[256:260], "little"), int.from_bytes(data[260:264], "little")
    assert 0x20000000 < sp <= 0x20042000
    assert 0x10000100 < reset < 0x10000000 + len(data) and reset & 1
    assert b"MicroPython v1.28.0" in data and b"Raspberry Pi Pico with RP2040" in data


def test_bootrom_converts_from_the_rp2040js_array():
    text = "export const bootromB1 = new Uint32Array([\n  0x20041f00, 0x000000ef,\n" + \
        ",".join(["0x0"] * 4094) + "]);\n"
    data = rp2bootrom.convert(text)
    assert len(data) == 16384 and data[:8] == bytes.fromhex("001f0420ef000000")
    with pytest.raises(ValueError):
        rp2bootrom.convert("new Uint32Array([0x1, 0x2])")
    assert BOOTROM.read_bytes()[:8] == bytes.fromhex("001f0420ef000000")


@pytest.mark.skipif(not rp2bootrom.SRC.is_file(), reason="no ../shared/vendor boot ROM source")
def test_committed_bootrom_is_the_vendored_one():
    assert rp2bootrom.convert(rp2bootrom.SRC.read_text()) == BOOTROM.read_bytes()


def _source():
    src = os.environ.get("MICROPYTHON_SRC") or ""
    return Path(src) if src else rp2image.default_source()


@pytest.mark.skipif(not (os.environ.get("PACER_SLOW") or os.environ.get("PACER_RP2_BUILD")),
                    reason="rebuilds the firmware (minutes): PACER_SLOW=1 or PACER_RP2_BUILD=1")
def test_rebuilding_gives_the_committed_image(tmp_path):
    if rp2image.missing_tools():
        pytest.skip("no %s" % ", ".join(rp2image.missing_tools()))
    src = _source()
    if src is None:
        pytest.skip("no MicroPython sources (set MICROPYTHON_SRC)")
    out = tmp_path / "out"
    assert rp2image.main(["--src", str(src), "--out", str(out), "--work",
                          str(tmp_path / "src")]) == 0
    assert (out / "firmware.bin").read_bytes() == IMAGE.read_bytes()


def _uf2(data, family=0xE48BFF56, base=0x10000000):
    """A UF2 file as uf2conv.py writes it: 256-byte payloads, the last one zero-padded."""
    n = (len(data) + 255) // 256
    out = b""
    for i in range(n):
        chunk = data[i * 256:(i + 1) * 256].ljust(256, b"\0")
        head = struct.pack("<IIIIIIII", 0x0A324655, 0x9E5D5157, 0x2000, base + i * 256, 256,
                           i, n, family)
        out += head + chunk.ljust(476, b"\0") + struct.pack("<I", 0x0AB16F30)
    return out


def test_a_uf2_lands_in_the_emulated_flash_as_the_drive_writes_it():
    from host_tools.vboard import rp2040

    image = IMAGE.read_bytes()
    flash = rp2040.uf2_to_flash(_uf2(image))
    assert flash[:len(image)] == image and set(flash[len(image):]) <= {0}
    with pytest.raises(rp2040.VBoardError, match="no RP2040 blocks"):
        rp2040.uf2_to_flash(_uf2(image[:512], family=0xE48BFF59))  # an RP2350 image
    with pytest.raises(rp2040.VBoardError, match="outside"):
        rp2040.uf2_to_flash(_uf2(image[:512], base=0x20000000))
