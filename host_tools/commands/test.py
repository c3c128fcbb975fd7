"""pacer test: hardware-in-the-loop. The board runs its own firmware; the host plays the person.

The host puts the board in inject mode, starts the program and streams simulated probe pressure
(host_tools.sim Sampler) as `S T_MS PRESSURE_CP ABDOMINAL_CP` lines. In inject mode the board's
engine runs on the samples' own timestamps (pacer_app.app: one engine tick per sample), so the
session is the same on a real board and on the virtual board in accelerated time. The simulated
person reacts to what the board shows: every `phase` event the board sends becomes a cue for the
person (Sampler.set_cue). The host works in lockstep: a batch of BATCH samples, then `hello`,
whose reply comes after every event those samples caused.

Checks (tolerances, chosen from the engine's own scoring tests plus the simulated breathing):
  phases      one phase event per program step, in order, within 2 samples of the timeline
  reps        one rep event per contraction step (the simulator's truth)
  peaks       device peak above its zero within max(3 cmH2O, 15 %) of the true squeeze peak
  scoring     no rep scored achieved that the person did not attempt or fell 1 cmH2O short of
  relax       device relax time within 700 ms of the truth, where both exist
  alarms      every tension alarm falls where the true pressure was 2 cmH2O or more above rest
  faults      no sensor fault reported (the simulated sensor has none)
  summary     a summary with completed true and the right rep count
"""
import json
import os

from host_tools import device
from host_tools.errors import CliError
from host_tools.files import out_dir, out_file

NAME = "test"
HELP = ("Hardware-in-the-loop test: stream a simulated person into the board (inject mode), "
        "check its cues, rep scoring, alarms and faults; pass/fail table.")
EXAMPLE = "pacer test --port /dev/ttyACM0 --board pico --program kegel --persona typical"

PERIOD_MS = 20
BATCH = 10
PHASE_TOL_MS = 2 * PERIOD_MS
PEAK_TOL = 3.0
PEAK_TOL_REL = 0.15
RELAX_TOL_MS = 700
ALARM_MIN = 2.0


def add_arguments(p):
    p.add_argument("--port", help="serial port (default: found by USB vendor ID)")
    p.add_argument("--board", help="expected board profile (the test fails on another board)")
    p.add_argument("--program", default="kegel",
                   help="program on the board, or a .json file to push first (default kegel)")
    p.add_argument("--persona", default="typical", help="simulated person (default typical)")
    p.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--out", metavar="DIR", help="also capture the board's telemetry and events "
                   "as hil-PROGRAM-PERSONA.{csv,jsonl} (`pacer log` format, for `pacer report`)")


class Results:
    def __init__(self):
        self.rows = []

    def check(self, name, ok, detail):
        self.rows.append((name, bool(ok), detail))

    @property
    def failed(self):
        return [r for r in self.rows if not r[1]]

    def table(self):
        w = max(len(r[0]) for r in self.rows)
        lines = ["%-*s  %-4s  %s" % (w, "check", "", "detail")]
        for name, ok, detail in self.rows:
            lines.append("%-*s  %-4s  %s" % (w, name, "PASS" if ok else "FAIL", detail))
        return "\n".join(lines)


def _program(dev, name):
    from host_tools import programs
    if name.endswith(".json"):
        spec, _ = programs.load_spec(name)
        programs.build(spec, name)
        dev.command("programs push " + json.dumps(spec, separators=(",", ":")))
        name = spec["name"]
    r = dev.send("programs show " + name)
    if not r.get("ok"):
        raise CliError("the board has no program %r (%s)" % (name, r.get("error")))
    return name, programs.build(r["program"], name)


def run(args):
    from host_tools.sim import personas
    from host_tools.sim.sampler import Sampler
    from pacer.program import BREATHS, M_REST, MUSCLES, is_rep

    if args.persona not in personas.NAMES:
        raise CliError("unknown persona %r; personas: %s" % (args.persona,
                                                          ", ".join(personas.NAMES)))
    if args.json:
        out_file(args.json, "--json")   # before the run, not after it
    if args.out:
        out_dir(args.out)
    with device.Device.connect(args.port) as dev:
        board = dev.info.get("board")
        if args.board and board != args.board:
            raise CliError("the board on %s is a %r, not %r; flash it with `pacer flash --board "
                           "%s` or pass the right --board" % (dev.port, board, args.board,
                                                               args.board))
        st = dev.command("status")
        if st.get("state") in ("running", "paused"):
            dev.command("stop")
        name, tl = _program(dev, args.program)
        dev.command("stream on" if args.out else "stream off")
        dev.command("inject on")
        frames = []
        sampler = Sampler(args.persona, args.seed, sensor=None, abdominal=True)
        rest = sampler.values["rest"]
        events = []
        excess = {}     # t_ms -> true pressure above rest, for the alarm check
        drift = {}      # t_ms -> probe drift, cmH2O
        print("HIL: %s on %s (%s), persona %s seed %d, %d steps over %d s"
              % (name, dev.port, board, args.persona, args.seed, tl.n, tl.total_ms // 1000),
              flush=True)
        try:
            dev.command("start " + name)
            t = 0
            limit = tl.total_ms + 30000
            done = False
            pend = []
            while not done and t <= limit:
                lines = []
                for _ in range(BATCH):
                    p, a = sampler.sample(t)
                    excess[t] = sampler.true_cmH2O - rest
                    # the probe's slow drift (warming, leak): it moves the device's zero
                    drift[t] = sampler.thermal - sampler._leak * t
                    pc = int(round((p if p is not None else rest) * 100))
                    lines.append("S %d %d" % (t, pc) if a is None
                                 else "S %d %d %d" % (t, pc, int(round(a * 100))))
                    t += PERIOD_MS
                dev.write("\n".join(lines))
                r = dev.send("hello", timeout=10.0)
                if not r.get("ok"):
                    raise CliError("the board refused a sample batch: %s" % r.get("error"))
                pend = dev.pending
                dev.pending = []
                for kind, item in pend:
                    if kind == "frame":
                        frames.append(item)
                        continue
                    if kind == "reply" and not item.get("ok"):
                        raise CliError("the board refused a sample: %s" % item.get("error"))
                    if kind != "event":
                        continue
                    events.append(item)
                    ty = item.get("type")
                    if ty == "phase":
                        # the person hears the cue now: at most one batch after the board gave it
                        sampler.set_cue(max(item["t_ms"], sampler.t),
                                        BREATHS.index(item["breath"]),
                                        MUSCLES.index(item["muscle"]), item["step"],
                                        item.get("duration_ms", 0))
                    elif ty == "summary":
                        sampler.set_cue(max(item["t_ms"], sampler.t), 0, M_REST, -1, 0)
                        done = True
            sampler.finish(t + 3000)
        finally:
            try:
                dev.send("stream off")
                dev.send("inject off")
                st = dev.send("status")
                if st.get("state") in ("running", "paused"):
                    dev.send("stop")
            except CliError:
                pass
    truth = sampler.book.reps
    if args.out:
        _capture(args.out, "hil-%s-%s" % (name, args.persona), frames, events, name)
    res = evaluate(tl, events, truth, excess, drift, is_rep)
    print(res.table())
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"program": name, "persona": args.persona, "seed": args.seed,
                       "board": board, "events": events,
                       "checks": [{"check": n, "pass": ok, "detail": d}
                                  for n, ok, d in res.rows]}, f, indent=1)
    if res.failed:
        print("%d of %d checks FAILED" % (len(res.failed), len(res.rows)))
        return 1
    print("all %d checks passed" % len(res.rows))
    return 0


def evaluate(tl, events, truth, excess, drift, is_rep):
    """The pass/fail checks of one run (see the module docstring)."""
    res = Results()
    phases = [e for e in events if e.get("type") == "phase"]
    steps = [e.get("step") for e in phases]
    worst = 0
    for e in phases:
        s = e.get("step", -1)
        if 0 <= s < tl.n:
            worst = max(worst, abs(e["t_ms"] - tl.start_ms[s]))
    res.check("phases", steps == list(range(tl.n)) and worst <= PHASE_TOL_MS,
              "%d of %d steps cued in order, worst %d ms off the timeline (limit %d)"
              % (len(phases), tl.n, worst, PHASE_TOL_MS))
    reps = [e for e in events if e.get("type") == "rep"]
    n_truth = sum(1 for i in range(tl.n) if is_rep(tl.muscle[i]))
    res.check("reps", len(reps) == n_truth,
              "%d rep events, %d contraction steps" % (len(reps), n_truth))
    zero = [e for e in events if e.get("type") == "zero"]
    base = zero[0].get("baseline_cmH2O") if zero else None
    by_step = {r.step: r for r in truth}
    worst_peak = 0.0
    n_peak = 0
    bad_peaks = []
    false_ok = []
    worst_relax = 0
    n_relax = 0
    bad_relax = []
    for e in reps:
        tr = by_step.get(e.get("step"))
        if tr is None:
            continue
        zt = 0
        for z in zero:      # the zero in force when the rep was scored
            if z["t_ms"] <= e["t_ms"] and z.get("baseline_cmH2O") is not None:
                base = z["baseline_cmH2O"]
                zt = z["t_ms"]
        t_rep = tr.start - tr.start % PERIOD_MS
        moved = drift.get(t_rep, 0.0) - drift.get(zt - zt % PERIOD_MS, 0.0)
        peak = e.get("peak_cmH2O")
        target = e.get("target_cmH2O")
        if base is not None and peak is not None and not tr.missed:
            err = abs((peak - base) - (tr.peak + moved))
            n_peak += 1
            worst_peak = max(worst_peak, err)
            if err > max(PEAK_TOL, PEAK_TOL_REL * tr.peak):
                bad_peaks.append(e.get("index"))
        if e.get("achieved") and (tr.missed or (base is not None and target is not None
                                                and tr.peak < target - base - 1.0)):
            false_ok.append(e.get("index"))
        if e.get("relax_ms") is not None and tr.relax_ms >= 0:
            d = abs(e["relax_ms"] - tr.relax_ms)
            n_relax += 1
            worst_relax = max(worst_relax, d)
            if d > RELAX_TOL_MS:
                bad_relax.append(e.get("index"))
    res.check("peaks", base is not None and not bad_peaks,
              "%d reps compared, worst %.2f cmH2O off%s" % (
                  n_peak, worst_peak, "; off: reps %s" % bad_peaks if bad_peaks else
                  ("" if base is not None else "; no zero event")))
    res.check("scoring", not false_ok,
              "%d achieved by the device, %d attempted by the person%s"
              % (sum(1 for e in reps if e.get("achieved")),
                 sum(1 for r in truth if not r.missed),
                 "; wrongly achieved: reps %s" % false_ok if false_ok else ""))
    res.check("relax", not bad_relax,
              "%d relax times compared, worst %d ms off (limit %d)%s"
              % (n_relax, worst_relax, RELAX_TOL_MS,
                 "; off: reps %s" % bad_relax if bad_relax else ""))
    alarms = [e for e in events if e.get("type") == "alarm"]
    wrong = []
    for a in alarms:
        if a.get("kind") != "tension":
            continue
        t = a["t_ms"] - a["t_ms"] % PERIOD_MS
        near = [excess.get(t - k * PERIOD_MS, 0.0) for k in range(0, 150)]
        if max(near) < ALARM_MIN:
            wrong.append(a["t_ms"])
    res.check("alarms", not wrong, "%d alarms (%s)%s" % (
        len(alarms), ", ".join(sorted({str(a.get("kind")) for a in alarms})) or "none",
        "; without tension in the truth at %s ms" % wrong if wrong else ""))
    faults = [e for e in events if e.get("type") == "fault" and e.get("active")]
    res.check("faults", not faults, "%d sensor faults reported (none simulated)%s"
              % (len(faults), ": " + ", ".join(str(f.get("kind")) for f in faults)
                 if faults else ""))
    sm = [e for e in events if e.get("type") == "summary"]
    ok = bool(sm) and sm[-1].get("completed") is True and sm[-1].get("reps") == n_truth
    res.check("summary", ok, "completed %s, %s reps, %s achieved" % (
        sm[-1].get("completed") if sm else "-", sm[-1].get("reps") if sm else "-",
        sm[-1].get("reps_achieved") if sm else "-") if sm else "no summary event")
    return res


def _capture(out, stem, frames, events, program):
    import csv

    from host_tools.commands.log import COLUMNS
    os.makedirs(out, exist_ok=True)
    base = os.path.join(out, stem)
    prev = None
    with open(base + ".csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for fr in frames:
            lost = 0 if prev is None else device.lost_frames(prev, fr[0])
            prev = fr[0]
            w.writerow(("", fr[0], fr[1], "%.2f" % (fr[2] / 100), "%.2f" % (fr[3] / 100), fr[4],
                        fr[5], "" if fr[6] is None else "%.2f" % (fr[6] / 100), lost))
    with open(base + ".jsonl", "w") as f:
        f.write(json.dumps({"type": "host", "what": "started", "program": program}) + "\n")
        for e in events:
            f.write(json.dumps(e) + "\n")
    print("capture: %s.csv (%d frames), %s.jsonl (%d events)" % (base, len(frames), base,
                                                              len(events)))
