"""Run programs on a virtual board with a simulated person, and check the engine against the
person's ground truth. Used by `pacer demo` and tests/test_vboard_programs.py.

    with start(flash_dir=d, persona="typical", seed=1, record=rec) as vb:
        flash(vb.port, "pico")                       # `pacer flash`, as for a real board
        run = run_program(vb.port, "kegel")           # events streamed while it runs
        records = pull_session(vb.port)               # `sessions get` of the newest session
    truth = read_truth(rec)                           # what the simulated person really did
    problems = compare(run.events, truth)

The truth comes from the outputs recording (host_tools/sim/watch.py writes it): times there are
on the board clock, engine times are since the session start; align() finds the offset from
the reps' cue times. Tolerances: see TOL and docs/vboard.md.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from host_tools import device
from host_tools.errors import CliError

ROOT = Path(__file__).resolve().parent.parent.parent

# Engine against truth, per rep (docs/vboard.md explains each).
TOL = {
    "align_ms": 150,         # a rep's truth start vs its phase start, after the offset
    "peak_abs": 2.5,         # |engine rise - true peak| <= peak_abs + peak_rel * true peak
    "peak_rel": 0.1,         #   for clean reps (attempted, no cough or bearing down)
    "relax_abs_ms": 600,     # |engine relax_ms - true relax_ms| <= relax_abs_ms + relax_rel * true
    "relax_rel": 0.25,
    "clear_margin": 1.3,     # a clean rep whose true rise >= margin * the target's rise
                             #   (40 % of MVC) is achieved
}


def flash(port, board, timeout=300.0):
    """Deploy the firmware with `pacer flash` (the same path as a real board)."""
    r = subprocess.run([sys.executable, "-m", "host_tools.cli", "flash", "--port", port,
                        "--board", board], cwd=str(ROOT), capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise CliError("pacer flash failed: %s" % (r.stderr.strip() or r.stdout.strip())[-500:])
    return r.stdout


def connect(port, timeout=20.0):
    """A device.Device on the board once the firmware answers hello (it may still be booting)."""
    end = time.monotonic() + timeout
    while True:
        try:
            return device.Device.connect(port, timeout=3.0)
        except CliError:
            if time.monotonic() > end:
                raise
            time.sleep(0.3)


class Run:
    def __init__(self):
        self.events = []
        self.frames = 0
        self.summary = None


def run_program(port, program, on_item=None, timeout=600.0, dev=None):
    """Start a program over serial and wait for its summary. on_item(kind, item) sees every
    event and telemetry frame as it arrives (for a live view)."""
    own = dev is None
    dev = dev or connect(port)
    run = Run()
    try:
        if on_item is not None:
            dev.command("stream on")
        dev.command("start %s" % program)
        end = time.monotonic() + timeout
        while run.summary is None:
            if time.monotonic() > end:
                raise CliError("%s did not finish within %g s" % (program, timeout))
            for kind, item in dev.poll(0.05):
                if kind == "event":
                    run.events.append(item)
                    if item.get("type") == "summary":
                        run.summary = item
                elif kind == "frame":
                    run.frames += 1
                if on_item is not None:
                    on_item(kind, item)
        if on_item is not None:
            dev.command("stream off")
    finally:
        if own:
            dev.close()
    return run


def pull_session(port, dev=None):
    """The newest stored session's records (header first) through `sessions get`."""
    own = dev is None
    dev = dev or connect(port)
    try:
        ids = [s["id"] for s in dev.command("sessions list")["sessions"]]
        if not ids:
            raise CliError("no session stored on the board")
        records = []
        dev.command("sessions get %d" % max(ids), timeout=30.0, records=records)
        return records
    finally:
        if own:
            dev.close()


class Truth:
    def __init__(self):
        self.reps = []        # final truth.rep objects, by n
        self.drops = []       # final truth.drop objects (drop and push steps), by n
        self.tension = []     # final truth.tension objects (tension episodes), by n
        self.cues = []        # (t_ms, person.cue value)
        self.samples = []     # (t_ms, tension_cmH2O, activation, artifact)


def read_truth(record_path, wait_s=1.5):
    """The person's truth from an outputs recording (flushed at least every second: wait_s)."""
    time.sleep(wait_s)
    t = Truth()
    reps = {}
    drops = {}
    tension = {}
    with open(record_path) as f:
        for line in f:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            ch = row.get("ch")
            if ch == "truth.rep":
                reps[row["v"]["n"]] = row["v"]
            elif ch == "truth.drop":
                drops[row["v"]["n"]] = row["v"]
            elif ch == "truth.tension":
                tension[row["v"]["n"]] = row["v"]
            elif ch == "truth":
                v = row["v"]
                t.samples.append((row["t_ms"], v[0], v[1], v[2]))
            elif ch == "person.cue":
                t.cues.append((row["t_ms"], row["v"]))
    t.reps = [reps[n] for n in sorted(reps)]
    t.drops = [drops[n] for n in sorted(drops)]
    t.tension = [tension[n] for n in sorted(tension)]
    return t


def phases(events):
    return {e["step"]: e for e in events if e.get("type") == "phase"}


def align(events, truth):
    """Board-clock ms of the session start: the offset that lines up most truth rep starts
    with the engine's contraction phase starts (or, in a program without reps, the truth's
    drop and push starts with the drop and push phase starts)."""
    kinds = ("squeeze", "flick", "max")
    cued = truth.reps
    if not cued and truth.drops:
        kinds = ("drop", "push")
        cued = truth.drops
    starts = [e["t_ms"] for e in events if e.get("type") == "phase" and e["muscle"] in kinds]
    best = None
    for r in cued[:5]:
        for s in starts[:5]:
            off = r["start_ms"] - s
            n = sum(1 for q in cued for p in starts
                    if abs(q["start_ms"] - off - p) <= TOL["align_ms"])
            if best is None or n > best[0]:
                best = (n, off)
    return None if best is None else best[1]


def match(events, truth):
    """[(engine rep, truth rep or None)] in order, matched by cue time."""
    ph = phases(events)
    off = align(events, truth)
    out = []
    for e in events:
        if e.get("type") != "rep":
            continue
        found = None
        if off is not None and e["step"] in ph:
            t0 = ph[e["step"]]["t_ms"] + off
            for r in truth.reps:
                if abs(r["start_ms"] - t0) <= TOL["align_ms"]:
                    found = r
                    break
        out.append((e, found))
    return out


def clean(r):
    return not r["missed"] and not r["cough"] and not r["bear_down"]


def session_mvc(events):
    """The MVC the session's targets were set from (cmH2O)."""
    for e in events:
        if e.get("type") == "summary":
            return e.get("mvc_cmH2O")
    return None


def rep_mvcs(events):
    """{rep index: the MVC (cmH2O) its target was set from}. A program with MVC steps starts
    from the default (its reps are flagged uncalibrated) and each `calib` event changes it for
    the reps after it; without MVC steps it is the session's (stored) MVC throughout."""
    from pacer.settings import FIELDS
    final = session_mvc(events)
    cur = None
    out = {}
    for e in events:
        if e.get("type") == "calib":
            cur = e["mvc_cmH2O"]
        elif e.get("type") == "rep":
            if cur is not None:
                out[e["index"]] = cur
            elif "uncalibrated" in e["flags"]:
                out[e["index"]] = FIELDS["default_mvc_cmH2O"][0]
            else:
                out[e["index"]] = final
    return out


def rep_rise(e, mvc, target_pct=40):
    """A rep's peak above the baseline it was scored against: rep events give the absolute
    peak and target, and the target is baseline + target_pct % of the MVC (docs/engine.md)."""
    if e.get("peak_cmH2O") is None or e.get("target_cmH2O") is None or mvc is None:
        return None
    return e["peak_cmH2O"] - (e["target_cmH2O"] - mvc * target_pct / 100.0)


def compare(events, truth, checks=("match", "peak", "achieved", "relax", "missed")):
    """Problems (one line each) where the engine's rep records disagree with the truth beyond
    TOL. An empty list means they agree. Truth peaks are the pelvic floor's own pressure above
    rest on the probe's scale; the engine's rise also holds breathing and noise."""
    probs = []
    mvcs = rep_mvcs(events)
    pairs = match(events, truth)
    for e, r in pairs:
        tag = "rep %d (step %d)" % (e["index"], e["step"])
        mvc = mvcs.get(e["index"])
        if r is None:
            if "match" in checks:
                probs.append("%s: the person never saw this cue (no truth rep)" % tag)
            continue
        rise = rep_rise(e, mvc)
        if "peak" in checks and clean(r) and rise is not None:
            lim = TOL["peak_abs"] + TOL["peak_rel"] * r["peak_cmH2O"]
            if abs(rise - r["peak_cmH2O"]) > lim:
                probs.append("%s: rise %.2f above baseline, truth %.2f (limit +-%.1f)"
                             % (tag, rise, r["peak_cmH2O"], lim))
        if ("achieved" in checks and clean(r) and e["target_cmH2O"] is not None
                and mvc is not None
                and r["peak_cmH2O"] >= TOL["clear_margin"] * mvc * 0.4
                and not e["achieved"] and "early_release" not in e["flags"]):
            probs.append("%s: not achieved, but the true rise %.2f clears the target's %.2f"
                         % (tag, r["peak_cmH2O"], mvc * 0.4))
        if "missed" in checks and r["missed"] and e["achieved"]:
            probs.append("%s: achieved, but the person did not attempt it" % tag)
        if ("relax" in checks and clean(r) and r["relax_ms"] is not None
                and e["relax_ms"] is not None):
            lim = TOL["relax_abs_ms"] + TOL["relax_rel"] * r["relax_ms"]
            if abs(e["relax_ms"] - r["relax_ms"]) > lim:
                probs.append("%s: relax %d ms, truth %d ms (limit +-%d)"
                             % (tag, e["relax_ms"], r["relax_ms"], lim))
    return probs


def copy_firmware(flash_dir, board="pico"):
    """Deploy without mpremote: the flash *is* this folder (before the board starts)."""
    import shutil
    src = ROOT / "firmware"
    shutil.copytree(src, flash_dir, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    Path(flash_dir, "board.txt").write_text(board + "\n")
    return os.fspath(flash_dir)
