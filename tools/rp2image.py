"""Build the official MicroPython rp2 image (board RPI_PICO) from a MicroPython source tree.

    python tools/rp2image.py [--src DIR_OR_TARBALL] [--out DIR] [--manifest FILE] [--jobs N]

--src: a MicroPython checkout (with the rp2 submodules: lib/pico-sdk, lib/tinyusb,
lib/micropython-lib, lib/mbedtls) or a .tar.xz/.tar.gz of one whose top folder is
`micropython/` (../shared/vendor/micropython-v1.28.0-rp2-src.tar.xz). Without --src, that
tarball when it is there, else a shallow `git clone --branch v1.28.0` of
https://github.com/micropython/micropython and its four submodules.
--manifest: freeze the modules it names into the image (a MicroPython manifest.py); without it
the image is the unmodified stock one. With it, the tree's tools/mpy-tool.py is built with
frozen machine code word-aligned for the build's duration (aligned_native_code).

Writes OUT/firmware.bin, OUT/firmware.uf2 and OUT/SHA256SUMS (default build/rp2/RPI_PICO).
Needs cmake, make and Debian's gcc-arm-none-eabi + libnewlib-arm-none-eabi. The recipe is the
one in ../shared/vendor/README.md; it is reproducible (same tree, same bytes), which is what
tests/test_rp2040_image.py checks against the committed image.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TAG = "v1.28.0"
BOARD = "RPI_PICO"
REPO = "https://github.com/micropython/micropython"
SUBMODULES = ("lib/pico-sdk", "lib/tinyusb", "lib/micropython-lib", "lib/mbedtls")
VENDOR_TARBALL = ROOT.parent / "shared" / "vendor" / ("micropython-%s-rp2-src.tar.xz" % TAG)
TOOLS = ("cmake", "make", "arm-none-eabi-gcc")
# py/makeversionhdr.py stamps the image with `git describe` of whatever repository encloses the
# tree (here: pacer's own, when the tree is unpacked under build/) and with today's date. Both
# are pinned so that the image says what it is and is the same on every day: the tag, and the
# date of the tag's files (2026-04-06, the file times in the vendored tarball).
VERSION_ENV = {"MICROPY_GIT_TAG": TAG, "SOURCE_DATE_EPOCH": "1775433600"}


class BuildError(RuntimeError):
    pass


def missing_tools() -> list[str]:
    return [t for t in TOOLS if shutil.which(t) is None]


def default_source() -> Path | None:
    return VENDOR_TARBALL if VENDOR_TARBALL.is_file() else None


def run(cmd, cwd=None):
    print("rp2image: " + " ".join(str(c) for c in cmd), file=sys.stderr, flush=True)
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=dict(os.environ, **VERSION_ENV))
    if p.returncode != 0:
        raise BuildError("%s failed (exit %d)" % (cmd[0], p.returncode))


def prepare_tree(src: Path | None, work: Path) -> Path:
    """The MicroPython tree to build in: src itself, its unpacked tarball, or a fresh clone."""
    if src is not None and src.is_dir():
        if not (src / "ports" / "rp2").is_dir():
            raise BuildError("%s is not a MicroPython tree (no ports/rp2)" % src)
        return src
    tree = work / "micropython"
    if tree.exists():
        shutil.rmtree(tree)
    work.mkdir(parents=True, exist_ok=True)
    if src is not None:
        if not src.is_file():
            raise BuildError("no such file or folder: %s" % src)
        print("rp2image: unpacking %s" % src, file=sys.stderr, flush=True)
        with tarfile.open(src) as tar:
            tar.extractall(work, filter="tar")
        if not (tree / "ports" / "rp2").is_dir():
            raise BuildError("%s does not unpack to micropython/ports/rp2" % src)
        return tree
    run(["git", "clone", "--depth", "1", "--branch", TAG, REPO, tree])
    run(["git", "-C", tree, "submodule", "update", "--init", "--depth", "1", *SUBMODULES])
    return tree


# mpy-tool.py of v1.28.0 aligns the frozen machine code of armv6m..armv7em functions to 2 bytes,
# but the runtime reads a word at its start (py/objfun.h, mp_obj_fun_native_get_prelude_ptr):
# on a Cortex-M0+ an unaligned word read is a HardFault. 4-byte alignment costs at most two
# bytes of padding a function.
_ALIGN_2 = 'self.fun_data_attributes += " __attribute__ ((aligned (2)))"'
_ALIGN_4 = 'self.fun_data_attributes += " __attribute__ ((aligned (4)))"'


@contextlib.contextmanager
def aligned_native_code(tree: Path):
    """tree's mpy-tool.py with every frozen native function word-aligned, restored after."""
    tool = tree / "tools" / "mpy-tool.py"
    text = tool.read_text()
    if _ALIGN_2 not in text:
        yield  # a tree whose mpy-tool already aligns (or was changed): use it as it is
        return
    tool.write_text(text.replace(_ALIGN_2, _ALIGN_4))
    try:
        yield
    finally:
        tool.write_text(text)


def build(tree: Path, out: Path, manifest: Path | None, jobs: int) -> dict[str, str]:
    """Build RPI_PICO in tree; copy firmware.bin/.uf2 to out; return {file name: sha256}."""
    port = tree / "ports" / "rp2"
    build_dir = port / ("build-%s" % BOARD)
    if build_dir.exists():
        shutil.rmtree(build_dir)
    run(["make", "-C", tree / "mpy-cross", "-j%d" % jobs])
    cmake = ["cmake", "-S", port, "-B", build_dir, "-DPICO_BUILD_DOCS=0",
             "-DMICROPY_BOARD=%s" % BOARD, "-DPICO_NO_PICOTOOL=1"]
    if manifest is not None:
        cmake.append("-DMICROPY_FROZEN_MANIFEST=%s" % manifest.resolve())
    run(cmake)
    if manifest is None:
        run(["make", "-C", build_dir, "-j%d" % jobs])
    else:
        with aligned_native_code(tree):
            run(["make", "-C", build_dir, "-j%d" % jobs])
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(build_dir / "firmware.bin", out / "firmware.bin")
    run([sys.executable, tree / "tools" / "uf2conv.py", "-c", "-b", "0x10000000", "-f", "RP2040",
         "-o", out / "firmware.uf2", out / "firmware.bin"])
    sums = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
            for name in ("firmware.bin", "firmware.uf2")}
    (out / "SHA256SUMS").write_text("".join("%s  %s\n" % (h, n) for n, h in sums.items()))
    return sums


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--src", help="MicroPython tree or tarball (default: the vendored tarball, "
                                 "else a git clone of %s)" % TAG)
    p.add_argument("--out", default=str(ROOT / "build" / "rp2" / BOARD),
                   help="where firmware.bin/.uf2 and SHA256SUMS go")
    p.add_argument("--work", default=str(ROOT / "build" / "rp2" / "src"),
                   help="where a tarball is unpacked or the tag cloned")
    p.add_argument("--manifest", help="freeze this MicroPython manifest.py into the image")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    a = p.parse_args(argv)
    missing = missing_tools()
    if missing:
        print("rp2image: missing %s; on Debian: apt-get install gcc-arm-none-eabi "
              "libnewlib-arm-none-eabi cmake build-essential" % ", ".join(missing), file=sys.stderr)
        return 1
    src = Path(a.src).resolve() if a.src else default_source()
    manifest = Path(a.manifest) if a.manifest else None
    if manifest is not None and not manifest.is_file():
        print("rp2image: no such manifest: %s" % manifest, file=sys.stderr)
        return 1
    try:
        tree = prepare_tree(src, Path(a.work).resolve())
        sums = build(tree, Path(a.out).resolve(), manifest, a.jobs)
    except BuildError as e:
        print("rp2image: %s" % e, file=sys.stderr)
        return 1
    for name, h in sums.items():
        print("%s  %s" % (h, Path(a.out) / name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
