"""Bench on the emulated RP2040: the full App tick (engine, drivers, cues, telemetry) of the
pacer firmware on the official MicroPython rp2 port, timed and weighed inside the chip.

    python tools/bench/chip.py [--frozen IMAGE.uf2|.bin] [--ticks N] [--out FILE]

Two deployments: `_mpy` (the `pacer flash` build, .mpy files on littlefs, on the official
image) and, with --frozen, `_frozen` (the image of `make image BOARD=pico`, firmware frozen in,
nothing on the flash). In each, the running app is stopped (Ctrl-C), then CHIP_CODE builds the
App as the supervisor does and starts kegel with the pelvic probe at rest, and times N ticks
with ticks_us with the OLED the World has on the pico wiring, then N ticks of the same App
without it. Figures (ticks_us on the emulated 125 MHz core; see docs/vboard.md for how far to
trust them):
  rp2040_tick_us_p50/_p99/_max  per App.tick without a display, after WARM ticks
  rp2040_oled_tick_us_p50/...   the same with the OLED: a redraw four times a second and a
                                128-byte page on the 400 kHz bus on most ticks (~3 ms waiting)
  rp2040_tick_pct               p50 as a share of the 20 ms tick
  rp2040_alloc_bytes_per_tick   gc.mem_alloc growth over both runs' steady ticks (gc disabled),
                                / 2N
  rp2040_heap_total_bytes       heap taken by importing the firmware plus the app and the
                                session's peak (gc.mem_free before the imports minus the lowest
                                gc.mem_free after a collection during the run)
"""
from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from host_tools import device  # noqa: E402
from host_tools.vboard import rp2040  # noqa: E402

MPREMOTE = ROOT / ".venv" / "bin" / "mpremote"
FROZEN = ROOT / "build" / "image" / "pacer-pico.uf2"  # make image BOARD=pico
TICK_MS = 20
TARGETS = {"tick_us_p50": 1000, "alloc_bytes_per_tick": 0}
PROFILE_PIN = 22  # not wired on any Pico profile: high while the no-display ticks are timed

CHIP_CODE = r"""
import gc, json, os, select, sys, time
from array import array
import machine
try:
    import neopixel
except ImportError:
    neopixel = None
gc.collect()
free0 = gc.mem_free()
from pacer_hw import profiles
from pacer_app.board import Board
from pacer_app.app import App
from pacer_app.storage import Store
from pacer_app.usb import Usb
board = Board(profiles.get("pico"), machine, neopixel)
app = App(board, Store(os, "/"), Usb(select, sys.stdin, sys.stdout), "pico")
app.start("kegel")
N = %(ticks)d
WARM = %(warm)d
us = array("i", [0] * N)  # filled in place: the timed loop must weigh the App alone
low = free0
now = time.ticks_ms()
for i in range(WARM):
    now = time.ticks_add(now, 20)
    app.tick(now, 20)
gc.collect()
low = min(low, gc.mem_free())
us_oled = array("i", [0] * N)
alloc = array("i", [0])


def timed(tick, us, now, alloc, gate):
    # in a function, so that the harness's names are locals: a module-level loop would add
    # look-ups of time, app and now (about 8 us) to every timed tick
    tu = time.ticks_us
    td = time.ticks_diff
    ta = time.ticks_add
    a0 = gc.mem_alloc()  # walks the heap: outside the profiled span
    if gate:
        gate(1)
    for i in range(len(us)):
        now = ta(now, 20)
        t0 = tu()
        tick(now, 20)
        us[i] = td(tu(), t0)
    if gate:
        gate(0)
    alloc[0] += gc.mem_alloc() - a0
    return now


tick = app.tick
gc.disable()
now = timed(tick, us_oled, now, alloc, None)
screen = app.screen
app.screen = None  # the same App without a display
now = timed(tick, us, now, alloc, %(gate)s)
gc.enable()
gc.collect()
low = min(low, gc.mem_free())
app.stop()
board.outputs_off()
print("BENCH " + json.dumps({"us": list(us), "us_oled": list(us_oled) if screen else None,
                             "alloc": alloc[0], "free0": free0, "low": low}))
"""


def mpremote(port, *args):
    r = subprocess.run([str(MPREMOTE), "connect", port, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("mpremote %s: %s" % (args[0], r.stderr.strip()[-500:]))
    return r.stdout


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * (len(s) - 1) + 0.5))]


def run(image, deploy, ticks, warm, log, profile=None, lookup_at=None):
    with tempfile.TemporaryDirectory(prefix="chipbench-") as tmp:
        chip = rp2040.start(Path(tmp) / "flash", image=image, log=log,
                            cycle_profile=(profile, PROFILE_PIN) if profile else None,
                            lookup_at=lookup_at)
        try:
            if deploy:
                env = dict(os.environ, **{device.SLOWDOWN_ENV: "60"})
                r = subprocess.run([sys.executable, "-m", "host_tools.cli", "flash", "--port",
                                    chip.port, "--board", "pico", "--no-reset"], cwd=ROOT,
                                   capture_output=True, text=True, env=env)
                if r.returncode != 0:
                    raise RuntimeError("pacer flash: " + (r.stdout + r.stderr)[-800:])
            gate = "machine.Pin(%d, machine.Pin.OUT, value=0)" % PROFILE_PIN if profile else "None"
            out = mpremote(chip.port, "exec", CHIP_CODE % {
                "ticks": ticks, "warm": warm,
                "gate": gate})
        finally:
            chip.stop()
    line = [x for x in out.splitlines() if x.startswith("BENCH ")]
    if not line:
        raise RuntimeError("no BENCH line from the chip:\n" + out[-1500:])
    d = json.loads(line[-1][6:])
    us = d["us"]
    p50 = pct(us, 0.5)
    out = {"tick_us_p50": p50, "tick_us_p99": pct(us, 0.99), "tick_us_max": max(us),
           "tick_pct": round(100.0 * p50 / (TICK_MS * 1000), 1),
           "alloc_bytes_per_tick": round(d["alloc"] / (2 * len(us)), 1),
           "heap_total_bytes": d["free0"] - d["low"], "ticks": len(us)}
    oled = d["us_oled"]
    if oled:
        out.update({"oled_tick_us_p50": pct(oled, 0.5), "oled_tick_us_p99": pct(oled, 0.99),
                    "oled_tick_us_max": max(oled)})
    return out


def functions(elf: Path) -> tuple[list[int], list[str]]:
    """Start addresses (ascending) and names of elf's functions (arm-none-eabi-nm)."""
    nm = subprocess.run(["arm-none-eabi-nm", "-n", "--defined-only", str(elf)],
                        capture_output=True, text=True, check=True).stdout
    starts, names = [], []
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            starts.append(int(parts[0], 16) & ~1)
            names.append(parts[2])
    return starts, names


def symbolize(profile: Path, elf: Path) -> list[tuple[str, float]]:
    """The cycle profile summed per C function of elf, largest first."""
    starts, names = functions(elf)
    totals: dict[str, float] = {}
    for line in profile.read_text().splitlines():
        addr, cycles = line.split()
        i = bisect.bisect_right(starts, int(addr, 16)) - 1
        name = names[i] if i >= 0 else "?"
        totals[name] = totals.get(name, 0.0) + float(cycles)
    return sorted(totals.items(), key=lambda kv: -kv[1])


def qstr_names(build: Path) -> list[str]:
    """qstr number -> name for an image built in build: the static pools
    (genhdr/qstrdefs.generated.h: QDEF0 entries, then QDEF1) then the frozen code's pool
    (frozen_content.c), as py/qstr.h and mpy-tool.py number them."""
    q0, q1 = [], []
    for line in (build / "genhdr" / "qstrdefs.generated.h").read_text().splitlines():
        m = re.match(r'QDEF([01])\(MP_QSTR(\w*),', line)
        if m:
            (q0 if m.group(1) == "0" else q1).append(m.group(2).lstrip("_") or "''")
    frozen = []
    text = (build / "frozen_content.c").read_text()
    start = text.find("= MP_QSTRnumber_of,")
    if start >= 0:
        for line in text[text.rfind("\n", 0, start) + 1:].splitlines():
            m = re.match(r"\s*MP_QSTR_(\w+)", line)
            if not m:
                break
            frozen.append(m.group(1))
    return q0 + q1 + frozen


def lookup_table(path: Path, build: Path, ticks: int, top: int = 40) -> list[str]:
    """Rows of the tick's mp_map_lookup calls, most frequent first: calls per tick, key, and
    the map's address, slots and entries (a miss in a nearly full map probes most of it)."""
    names = qstr_names(build)
    rows = []
    for line in path.read_text().split("\n"):
        if not line:
            continue
        addr, alloc, used, key, kind, n = line.split()
        k = int(key, 16)
        if k & 7 == 2 and (k >> 3) < len(names):
            key = names[k >> 3]
        rows.append((int(n) / ticks, key, addr, int(alloc), int(used), int(kind)))
    rows.sort(key=lambda r: -r[0])
    total = sum(r[0] for r in rows)
    out = ["mp_map_lookup calls per no-display tick: %.0f (key, map at, used/slots)" % total]
    out += ["%8.1f  %-28s %s %d/%d%s" % (n, key, addr, used, alloc, "  (add)" if kind else "")
            for n, key, addr, alloc, used, kind in rows[:top]]
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--frozen", help="the pacer image (make image BOARD=pico) for the _frozen run")
    p.add_argument("--no-mpy", action="store_true", help="skip the _mpy run")
    p.add_argument("--ticks", type=int, default=200,
                   help="timed ticks of each run (default 200: warm-up and both runs stay in "
                        "kegel's first 10 s step, so no phase boundary's flash write is timed)")
    p.add_argument("--warm", type=int, default=50, help="ticks before timing (default 50)")
    p.add_argument("--out", default=str(ROOT / "build" / "bench-rp2040.json"))
    p.add_argument("--log", help="chip diagnostics here")
    p.add_argument("--profile", metavar="ELF",
                   help="also print where the no-display ticks spend their cycles, per C "
                        "function of ELF (the firmware.elf of the image run: needs "
                        "arm-none-eabi-nm; implies one deployment, --frozen or the official)")
    a = p.parse_args(argv)
    res = {}
    runs = [] if a.no_mpy else [("mpy", rp2040.IMAGE, True)]
    if a.frozen:
        runs.append(("frozen", Path(a.frozen), False))
    if a.profile:
        runs = runs[-1:]
    for suffix, image, deploy in runs:
        print("chip bench: %s ..." % suffix, file=sys.stderr, flush=True)
        prof = Path(a.out).with_suffix(".cycles") if a.profile else None
        lookup_at = None
        if a.profile:
            starts, names = functions(Path(a.profile))
            lookup_at = starts[names.index("mp_map_lookup")]
        for k, v in run(image, deploy, a.ticks, a.warm, a.log, prof, lookup_at).items():
            res["rp2040_%s_%s" % (k, suffix)] = v
        if prof is not None:
            funcs = symbolize(prof, Path(a.profile))
            total = sum(c for _, c in funcs)
            print("cycles per no-display tick: %.0f (%.0f us)"
                  % (total / a.ticks, total / a.ticks * 8 / 1000))
            for name, c in funcs[:40]:
                print("%6.1f %%  %8.0f us/tick  %s" % (100 * c / total, c / a.ticks * 0.008, name))
            if Path(str(prof) + ".lookups").is_file() and not deploy:
                # named from the image's build folder (its qstrs; .mpy code's are the heap's)
                print("\n".join(lookup_table(Path(str(prof) + ".lookups"),
                                              Path(a.profile).parent, a.ticks)))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    for k in sorted(res):
        base = k[len("rp2040_"):].rsplit("_", 1)[0]
        target = TARGETS.get(base)
        mark = "" if target is None else ("  (target <= %s: %s)" % (
            target, "ok" if res[k] <= target else "MISSED"))
        print("%-40s %s%s" % (k, res[k], mark))
    return 0


if __name__ == "__main__":
    sys.exit(main())
