"""The firmware's tick functions as machine code on boards that run it well.

`@native` (firmware/pacer/_compat.py) marks the functions every tick runs. It is the identity
where the firmware runs as bytecode: CPython, and the WebAssembly VM of the tests, which has no
native emitter (its compiler rejects @micropython.native). For a board whose arch is in
NATIVE_ARCHS, `make image` and `pacer flash` (when the device's MicroPython loads machine code
of that arch: not the virtual board's WebAssembly VM) compile the source with each mark
rewritten to @micropython.native, so mpy-cross emits those functions as machine code: no
bytecode dispatch, and the frame on the C stack. Only the marks change; line numbers stay.

Only armv6m (the RP2040 Picos) is listed: its machine code is what the emulated RP2040 runs in
`make test` and `make bench` (docs/vboard.md). Other archs keep bytecode until a chip of theirs
runs the same tests.
"""
from __future__ import annotations

import os
import re

NATIVE_ARCHS = ("armv6m",)
# mpy-cross -march names in the order of py/persistentcode.h's MP_NATIVE_ARCH_* (0: none)
ARCHS = (None, "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc", "rv64imc")
_MARK = re.compile(r"^([ \t]*)@native[ \t]*(#.*)?$", re.M)


def wanted(arch: str) -> bool:
    """Whether a board of this mpy-cross -march gets machine code for the marked functions."""
    return arch in NATIVE_ARCHS


def device_arch(mpy: int) -> str | None:
    """The -march of the machine code a MicroPython loads, from its sys.implementation._mpy
    (the .mpy header's version, then the sub-version and arch byte); None if it loads none."""
    arch = (mpy >> 10) & 0x3F
    return ARCHS[arch] if arch < len(ARCHS) else None


def rewrite(text: str) -> str:
    """The source with every `@native` decorator line made `@micropython.native`."""
    return _MARK.sub(lambda m: m.group(1) + "@micropython.native", text)


def stage(src: str, dst: str) -> None:
    """Write the source at src to dst with its marks rewritten. A dst that already holds that
    text is left alone: its time stays, so nothing compiled from it is compiled again."""
    with open(src, encoding="utf-8") as f:
        text = rewrite(f.read())
    try:
        with open(dst, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)
