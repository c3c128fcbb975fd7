# ruff: noqa: F821 - include/module/package are the MicroPython manifest tool's globals
"""Frozen modules of the pacer Pico image (`make image BOARD=pico`, tools/rp2image.py).

The stock RPI_PICO modules (the port's boards/manifest.py: asyncio, neopixel, ...) plus the
pacer firmware as frozen bytecode: boot.py and main.py run from the image, and the packages
import from ".frozen". Files on the flash still come first on sys.path ("" before ".frozen"),
so a later `pacer flash` overrides the frozen firmware module by module. Host-only modules
(host_tools/commands/flash.py HOST_ONLY) are left out.
"""
import os

include("$(PORT_DIR)/boards/manifest.py")

# The manifest tool runs this file from its own folder and resolves base_path against it.
_FIRMWARE = "../../firmware"
_HOST_ONLY = ("pacer/replay.py",)

module("boot.py", base_path=_FIRMWARE)
module("main.py", base_path=_FIRMWARE)
for _pkg in ("pacer", "pacer_app", "pacer_hw"):
    _files = sorted(f for f in os.listdir(os.path.join(_FIRMWARE, _pkg))
                    if f.endswith(".py") and _pkg + "/" + f not in _HOST_ONLY)
    package(_pkg, files=_files, base_path=_FIRMWARE)
