"""Bench runs on the virtual board (host_tools/vboard) in accelerated virtual time: the deployed
build (what `pacer flash` writes: the board's .mpy modules, main.py, boot.py) on its flash, a
30-minute breathing program pushed over the serial protocol and captured by `pacer log` (frames,
events), and the board's outputs timeline (--record JSONL) for pacing."""
import json
import subprocess
import time
from pathlib import Path

from host_tools import device
from host_tools.vboard import start

ROOT = Path(__file__).resolve().parents[2]
PACER = ROOT / ".venv" / "bin" / "pacer"

# 30 min of paced breathing: 5 s settling lead, then 179.5 inhale/exhale cycles of 10 s. The
# phases are deliberately not multiples of the 20 ms tick (4130 + 5870 ms), so quantisation
# shows up in the error and any accumulation would show up as drift.
INHALE_MS = 4130
EXHALE_MS = 5870
LEAD_MS = 5000
CYCLES = 179
PROGRAM = {"name": "bench30", "title": "Bench: 30 min paced breathing", "blocks": [
    {"steps": [{"ms": LEAD_MS, "role": "baseline"}]},
    {"reps": CYCLES, "steps": [{"ms": INHALE_MS, "breath": "inhale"},
                               {"ms": EXHALE_MS, "breath": "exhale"}]}]}


def schedule():
    """Step start times (ms since the session started) of every breath phase."""
    out = []
    t = LEAD_MS
    for _ in range(CYCLES):
        out.append(t)
        t += INHALE_MS
        out.append(t)
        t += EXHALE_MS
    return out, t


def deploy(flash, board="pico"):
    """The board's own build, exactly as `pacer flash` compiles and selects it."""
    from host_tools.commands import flash as flash_cmd
    from pacer_hw import profiles
    files = flash_cmd.build(profiles.get(board), str(ROOT / "build" / "bench" / "flash"))
    for path, data in files.items():
        dst = flash / path.lstrip("/")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data)
    (flash / "board.txt").write_text(board + "\n")


def run(work, board="pico", timeout=900):
    work = Path(work)
    flash = work / "flash"
    flash.mkdir(parents=True, exist_ok=True)
    deploy(flash, board)
    rec = work / "outputs.jsonl"
    logdir = work / "log"
    t_wall = time.monotonic()
    with start(board=board, flash_dir=flash, record=rec, seed=0, log=work / "vboard.log") as vb:
        dev = device.Device.connect(vb.port, timeout=30)
        try:
            # a short vibration pattern on every breath transition marks it in the recording
            for cmd in ("config set haptic_breath true",
                        "programs push " + json.dumps(PROGRAM, separators=(",", ":"))):
                r = dev.send(cmd)
                if not r.get("ok"):
                    raise RuntimeError("%s refused: %r" % (cmd.split(" {")[0], r))
        finally:
            dev.close()
        p = subprocess.run([str(PACER), "log", "--port", vb.port, "--start", PROGRAM["name"],
                            "--until-done", "--quiet", "--out", str(logdir)],
                           capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError("pacer log failed: %s %s\n%s" % (p.stdout, p.stderr,
                                                              vb.log_tail()))
        time.sleep(1.2)   # the outputs recording is flushed at least every second
    wall = time.monotonic() - t_wall
    csvs = sorted(logdir.glob("log-*.csv"))
    return {"outputs": rec, "csv": csvs[-1], "jsonl": csvs[-1].with_suffix(".jsonl"),
            "wall_s": wall, "log_stdout": p.stdout.strip()}


def pacing(outputs):
    """Motor onsets (duty 0 -> on) from the outputs timeline, on the board clock. With
    haptic_breath on, every inhale/exhale step starts with a vibration pattern, so each onset
    marks a phase transition as the person feels it."""
    rows = [json.loads(x) for x in Path(outputs).read_text().splitlines() if x.strip()]
    onsets = []
    prev = 0
    for r in rows:
        if r.get("ch") != "motor":
            continue
        v = r["v"]
        if prev == 0 and v:
            onsets.append(r["t_ms"])
        prev = v
    sched, total = schedule()
    return onsets, sched, total


def pacing_errors(onsets, sched):
    """Errors (ms, board clock minus schedule) of every scheduled transition, matched with the
    nearest onset no earlier than 40 ms before it. The schedule is anchored at the first breath
    transition (t0 = its onset - its scheduled start): the board clock has no other mark of the
    moment the session began, so a constant offset common to all transitions is not seen; any
    jitter or accumulation is."""
    # onsets before the session (the boot self-test buzz) are those before the first breath
    # transition: it is the first onset followed by one exactly one inhale later (+/- a tick)
    j = 0
    while j + 1 < len(onsets) and abs(onsets[j + 1] - onsets[j] - INHALE_MS) > 40:
        j += 1
    t0 = onsets[j] - sched[0]
    errs = []
    for s in sched:
        want = t0 + s
        while j < len(onsets) and onsets[j] < want - 40:
            j += 1
        if j >= len(onsets):
            errs.append(None)
            continue
        errs.append(onsets[j] - want)
        j += 1
    return errs
