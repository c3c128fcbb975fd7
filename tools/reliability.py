"""`make reliability`: the long reliability runs, written to build/reliability.json.

    .venv/bin/python tools/reliability.py [--jobs 3] [--only faults,fuzz,power,soak,host]
                                          [--quick] [--out build/reliability.json]

Sections run as subprocesses, up to --jobs at once (each writes build/reliability/NAME.json,
merged at the end):
  faults       the 25 fault cases of anchors section 9 (tests/rel_faults.py)
  fuzz         hypothesis: protocol (App), config, program, trace CSV, session logs,
               10,000 inputs each (tests/rel_fuzz.py)
  fuzz-vboard  10,000 random inputs to the firmware on the virtual board over its pty
  power-N      power cuts on the virtual board at every write of config saves and session
               logs, both flash models (tests/rel_power.py); 3 shards, >= 500 cuts in all
  chip-power   power cuts inside the flash erase/program operations of the emulated RP2040
               running the official rp2 image (its own littlefs), rebuilt from a flash
               journal of config saves and a session (tests/rel_chip.py): >= 200 cuts, all
               checked host side, CHIP_SAMPLE of them by booting the chip on the cut flash
  soak-vm      8 h of engine + events + telemetry in the MicroPython VM: heap after each hour
  soak-app     8 h of the whole App on CPython through the supervisor loop: pacing drift
  soak-vb      10 virtual minutes of main.py on the virtual board streaming telemetry
  host         damaged files through the `pacer` CLI; interrupted `pacer flash`
--quick runs everything small (a smoke test of this script). Exit status 0 when every target
is met: 25/25 cases, >= 10,000 inputs per fuzz target, >= 500 power cuts, >= 200 cuts in
the emulated chip's flash operations with 0 failures, 0 crashes, 0 sessions lost, 0 configs
lost.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
PARTS = ROOT / "build" / "reliability"

FUZZ_N = 10000
POWER_SHARDS = 3
POWER_ROUNDS = 9        # rounds x 2 flash models x 29 cuts per chain = 522 cuts
SOAK_HOURS = 8
VB_SOAK_MIN = 10
FLASH_CUTS = (5, 40, 150)
CHIP_ROUNDS = 4         # recordings of the workload, each on the flash the last one left
CHIP_CUTS = 250         # every operation cut half way, then random cuts up to this many
CHIP_SAMPLE = 150       # of them booted on the emulated chip (about 7 s each, 2 at a time)
CHIP_CUTS_TARGET = 200


def _paths():
    for p in (str(TESTS), str(ROOT)):
        if p not in sys.path:
            sys.path.insert(0, p)


def section(name, quick):
    _paths()
    tmp = Path(tempfile.mkdtemp(prefix="rel-%s-" % name))
    log = lambda msg: print("[%s] %s" % (name, msg), flush=True)  # noqa: E731
    if name == "faults":
        import rel_faults
        if not quick:
            rel_faults.LONG = True
            rel_faults.SOAK_HOURS = 1.0
            rel_faults.POWER_CUTS = [1, 3, 9, 17, 28]
        rows = rel_faults.run_all(tmp, log=log)
        return {"fault_cases": len(rows), "fault_cases_passed": sum(1 for r in rows if r[3]),
                "cases": [{"case": n, "title": t, "injected": w, "passed": ok, "result": res,
                           "seconds": round(s, 1)} for (n, t, w, ok, res, s) in rows]}
    if name == "fuzz":
        import rel_fuzz
        n = 300 if quick else FUZZ_N
        out = {}
        for target in ("protocol", "config", "program", "trace", "session"):
            t = time.monotonic()
            r = rel_fuzz.TARGETS[target](n, tmp / target)
            r["seconds"] = round(time.monotonic() - t, 1)
            log("%s: %d inputs, %d crashes %s" % (target, r["inputs"], r["crashes"],
                                                  r["examples"][:1]))
            out[target] = r
        return {"fuzz": out}
    if name == "fuzz-vboard":
        import rel_fuzz
        t = time.monotonic()
        r = rel_fuzz.fuzz_vboard(500 if quick else FUZZ_N, tmp)
        r["seconds"] = round(time.monotonic() - t, 1)
        log("vboard: %d inputs, %d crashes %s" % (r["inputs"], r["crashes"], r["examples"][:1]))
        return {"fuzz": {"vboard": r}}
    if name.startswith("power-"):
        import rel_power
        shard = int(name.split("-")[1])
        rounds = [r for r in range(1 if quick else POWER_ROUNDS) if r % POWER_SHARDS == shard]
        out = {"power_cuts": 0, "sessions_lost": 0, "config_lost": 0, "failures": [],
               "complete_runs": 0}
        cuts = [3, 9, 17] if quick else None
        for rnd in rounds:
            for model in ("littlefs", "direct"):
                seq = cuts or list(range(1, rel_power.writes_per_workload() + 3))
                work = tmp / ("r%d" % rnd)
                work.mkdir(parents=True, exist_ok=True)
                tmpl = rel_power.template(work / "template")
                r = rel_power.chain(work, tmpl, seq, model, seed=rnd,
                                    log=lambda m: None if "ok" in m[-3:] else log(m))
                for k in ("power_cuts", "sessions_lost", "config_lost", "complete_runs"):
                    out[k] += r[k]
                out["failures"] += r["failures"][:5]
                log("round %d %s: %d cuts, %d sessions lost, %d configs lost"
                    % (rnd, model, r["power_cuts"], r["sessions_lost"], r["config_lost"]))
        return {"power": {name: out}}
    if name == "chip-power":
        import rel_chip
        if quick:
            r = rel_chip.run(tmp, rounds=1, cuts=0, chip_sample=2, log=log)
        else:
            r = rel_chip.run(tmp, CHIP_ROUNDS, CHIP_CUTS, CHIP_SAMPLE, log=log)
        log("%d cuts in %d flash operations, %d on the chip, %d failed, %d s"
            % (r["chip_power_cuts"], r["chip_flash_ops"], r["chip_power_cuts_on_chip"],
               r["chip_power_cut_failures"], r["seconds"]))
        return {"chip_power": r}
    if name == "soak-vm":
        import rel_soak
        r = rel_soak.vm_soak(0.2 if quick else SOAK_HOURS, timeout=7200)
        log("vm soak: %r" % r)
        return {"soak_vm": r}
    if name == "soak-app":
        import rel_soak
        r = rel_soak.app_soak(tmp, 0.2 if quick else SOAK_HOURS)
        log("app soak: %r" % r)
        return {"soak_app": r}
    if name == "soak-vb":
        import rel_soak
        r = rel_soak.vb_soak(tmp, 2 if quick else VB_SOAK_MIN)
        log("vboard soak: %r" % r)
        return {"soak_vb": r}
    if name == "host":
        import rel_host
        cli = rel_host.cli_errors(tmp / "cli")
        fl = rel_host.flash_interrupted(tmp / "flash", (5,) if quick else FLASH_CUTS) \
            if rel_host.flash_available() else []
        for x in cli + fl:
            log("%s %s: %s" % (x[0], "ok" if x[1] else "FAIL", x[2]))
        return {"host": {"cli": [list(x) for x in cli], "flash": [list(x) for x in fl],
                         "flash_available": rel_host.flash_available()}}
    raise SystemExit("unknown section %r" % name)


ALL = ["chip-power", "soak-vm", "soak-app", "power-0", "power-1", "power-2", "fuzz",
       "fuzz-vboard", "faults", "host", "soak-vb"]


def merge(parts):
    d = {}
    for p in parts:
        for k, v in p.items():
            if isinstance(v, dict) and isinstance(d.get(k), dict):
                d[k].update(v)
            else:
                d[k] = v
    fuzz = d.get("fuzz", {})
    power = d.get("power", {})
    soak_vm = d.get("soak_vm", {})
    soak_app = d.get("soak_app", {})
    soak_vb = d.get("soak_vb", {})
    host = d.get("host", {})
    chip = d.get("chip_power", {})
    crashes = sum(f.get("crashes", 0) for f in fuzz.values())
    crashes += 1 if soak_vm.get("crash") else 0
    crashes += soak_vb.get("tracebacks", 0)
    out = {
        "fault_cases": d.get("fault_cases", 0),
        "fault_cases_passed": d.get("fault_cases_passed", 0),
        "fuzz_inputs": sum(f.get("inputs", 0) for f in fuzz.values()),
        "fuzz_inputs_per_target": {k: f.get("inputs", 0) for k, f in fuzz.items()},
        "crashes": crashes,
        "power_cuts": sum(p["power_cuts"] for p in power.values()),
        "sessions_lost": sum(p["sessions_lost"] for p in power.values()),
        "config_lost": sum(p["config_lost"] for p in power.values()),
        "power_cut_failures": sum(len(p["failures"]) for p in power.values()),
        "chip_power_cuts": chip.get("chip_power_cuts", 0),
        "chip_power_cuts_on_chip": chip.get("chip_power_cuts_on_chip", 0),
        "chip_power_cut_failures": chip.get("chip_power_cut_failures", 0),
        "chip_power_seconds": chip.get("seconds"),
        "soak_hours": soak_vm.get("hours", 0) if soak_app.get("hours", 0) >= soak_vm.get(
            "hours", 0) else soak_app.get("hours", 0),
        "heap_drift_bytes": soak_vm.get("heap_drift_bytes"),
        "heap_after_each_hour": soak_vm.get("heap"),
        "harness_heap_bytes_per_hour": soak_vm.get("harness_bytes_per_hour"),
        "memory_errors": soak_vm.get("memory_errors", 0) + soak_app.get("memory_errors", 0),
        "pacing_drift_ms": max(soak_vm.get("drift_ms", 0) or 0, soak_app.get("drift_ms", 0) or 0),
        "soak_vboard_minutes": soak_vb.get("minutes", 0),
        "host_checks": len(host.get("cli", [])) + len(host.get("flash", [])),
        "host_checks_passed": sum(1 for x in host.get("cli", []) + host.get("flash", []) if x[1]),
        "detail": d,
    }
    fz = out["fuzz_inputs_per_target"]
    out["targets_met"] = bool(
        out["fault_cases"] == 25 and out["fault_cases_passed"] == 25
        and fz and min(fz.values()) >= FUZZ_N and out["power_cuts"] >= 500
        and out["crashes"] == 0 and out["sessions_lost"] == 0 and out["config_lost"] == 0
        and out["power_cut_failures"] == 0 and out["memory_errors"] == 0
        and out["chip_power_cuts"] >= CHIP_CUTS_TARGET and out["chip_power_cut_failures"] == 0
        and chip.get("replay_equals_chip_flash") is True
        and out["host_checks"] == out["host_checks_passed"])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("RELIABILITY_JOBS", "4")))
    ap.add_argument("--only", help="comma-separated sections (default: all)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "build" / "reliability.json"))
    ap.add_argument("--merge", action="store_true",
                    help="only merge the sections already in build/reliability/")
    ap.add_argument("--section", help=argparse.SUPPRESS)
    ap.add_argument("--part", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.section:
        r = section(a.section, a.quick)
        Path(a.part).write_text(json.dumps(r, indent=1))
        return 0
    names = a.only.split(",") if a.only else ALL
    PARTS.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    pending = [] if a.merge else list(names)
    running = {}
    while pending or running:
        while pending and len(running) < max(1, a.jobs):
            n = pending.pop(0)
            part = PARTS / (n + ".json")
            if part.exists():
                part.unlink()
            cmd = [sys.executable, __file__, "--section", n, "--part", str(part)]
            if a.quick:
                cmd.append("--quick")
            running[n] = (subprocess.Popen(cmd, cwd=str(ROOT)), time.monotonic())
            print("reliability: started %s" % n, flush=True)
        time.sleep(0.5)
        for n, (p, t) in list(running.items()):
            if p.poll() is not None:
                print("reliability: %s finished (exit %d) in %.0f s"
                      % (n, p.returncode, time.monotonic() - t), flush=True)
                del running[n]
    parts = []
    for n in names:
        part = PARTS / (n + ".json")
        if part.exists():
            parts.append(json.loads(part.read_text()))
        else:
            print("reliability: section %s wrote nothing (crashed)" % n)
            parts.append({"fuzz": {n: {"inputs": 0, "crashes": 1,
                                       "examples": ["section crashed"]}}})
    out = merge(parts)
    out["seconds"] = round(time.monotonic() - t0)
    out["quick"] = a.quick
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = a.out + ".tmp"
    Path(tmp).write_text(json.dumps(out, indent=1) + "\n")
    os.replace(tmp, a.out)   # never a half-written report
    summary = {k: v for k, v in out.items() if k not in ("detail",)}
    print(json.dumps(summary, indent=1))
    print("reliability: targets %s; %s" % ("met" if out["targets_met"] else "NOT met", a.out))
    return 0 if out["targets_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
