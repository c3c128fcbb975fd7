"""Convert the RP2040 B1 boot ROM from rp2040js's TypeScript array to the committed binary.

    python tools/rp2bootrom.py [SRC.ts] [OUT.bin]

SRC defaults to ../shared/vendor/rp2040-bootrom-b1.ts (rp2040js demo/bootrom.ts, MIT; the ROM is
built from raspberrypi/pico-bootrom B1, BSD-3-Clause), OUT to tests/fixtures/rp2040/bootrom-b1.bin.
The array holds little-endian 32-bit words; the binary is those 16 KB as the chip maps them at 0.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT.parent / "shared" / "vendor" / "rp2040-bootrom-b1.ts"
OUT = ROOT / "tests" / "fixtures" / "rp2040" / "bootrom-b1.bin"
ROM_BYTES = 16 * 1024


def convert(text: str) -> bytes:
    body = text[text.index("new Uint32Array([") + len("new Uint32Array(["):text.index("])")]
    words = [int(w, 16) for w in re.findall(r"0x([0-9a-fA-F]+)", body)]
    data = b"".join(w.to_bytes(4, "little") for w in words)
    if len(data) != ROM_BYTES:
        raise ValueError("expected %d ROM bytes, found %d" % (ROM_BYTES, len(data)))
    return data


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    src = Path(argv[0]) if argv else SRC
    out = Path(argv[1]) if len(argv) > 1 else OUT
    out.write_bytes(convert(src.read_text()))
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
