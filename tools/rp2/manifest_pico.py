# ruff: noqa: F821 - include/module/package are the MicroPython manifest tool's globals
"""Frozen modules of the pacer Pico image (`make image BOARD=pico`, tools/rp2image.py).

The stock RPI_PICO modules (the port's boards/manifest.py: asyncio, neopixel, ...) plus the
pacer firmware as frozen code: boot.py and main.py run from the image, and the packages import
from ".frozen". Files on the flash still come first on sys.path ("" before ".frozen"), so a
later `pacer flash` overrides the frozen firmware module by module. Host-only modules
(host_tools/commands/flash.py HOST_ONLY) are left out.

The firmware is frozen from a staged copy (build/image/frozen-src) in which the tick functions
marked @native are @micropython.native, as `pacer flash` compiles them for a Pico
(host_tools/nativecode.py): bytecode elsewhere, machine code for those.
"""
import os
import sys

include("$(PORT_DIR)/boards/manifest.py")

# The manifest tool runs this file from its own folder.
_ROOT = os.path.abspath(os.path.join("..", ".."))
sys.path.insert(0, _ROOT)
from host_tools import nativecode  # noqa: E402

_FIRMWARE = os.path.join(_ROOT, "firmware")
_STAGE = os.path.join(_ROOT, "build", "image", "frozen-src")
_HOST_ONLY = ("pacer/replay.py",)

for _rel in ("boot.py", "main.py"):
    nativecode.stage(os.path.join(_FIRMWARE, _rel), os.path.join(_STAGE, _rel))
    module(_rel, base_path=_STAGE)
for _pkg in ("pacer", "pacer_app", "pacer_hw"):
    _files = sorted(f for f in os.listdir(os.path.join(_FIRMWARE, _pkg))
                    if f.endswith(".py") and _pkg + "/" + f not in _HOST_ONLY)
    for _f in _files:
        nativecode.stage(os.path.join(_FIRMWARE, _pkg, _f), os.path.join(_STAGE, _pkg, _f))
    package(_pkg, files=_files, base_path=_STAGE)
