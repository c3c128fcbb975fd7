"""pacer demo: a simulated person does a program; the engine scores it on CPython and inside the
real MicroPython VM; the two outputs are compared and a report (plot + table) is written.

This is the no-hardware demonstration until the virtual-board demo (the firmware on a virtual
board driven through mpremote) replaces it.
"""
import json
import os
import sys
import time

from host_tools import programs
from host_tools import replay as rp
from host_tools import trace as tr_mod
from host_tools.errors import CliError

NAME = "demo"
HELP = ("Simulate a person doing a program, score it with the engine on CPython and in the real "
        "MicroPython VM, check both agree, and write a report.")
EXAMPLE = "pacer demo --program kegel --persona typical --out build/demo"


def add_arguments(p):
    p.add_argument("--program", default="kegel", help="built-in program (default kegel)")
    p.add_argument("--persona", default="typical", help="simulated person (default typical)")
    p.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    p.add_argument("--out", default="build/demo", metavar="DIR", help="where the report goes")


def run(args):
    from host_tools.sim import personas, simulate
    if args.persona not in personas.NAMES:
        raise CliError("unknown persona %r; choose from %s"
                       % (args.persona, ", ".join(personas.NAMES)))
    spec, _ = programs.load_spec(args.program)
    tl = programs.build(spec, args.program)
    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "trace.csv")
    print("1/4 simulating %s doing %s (%d:%02d of exercise)..."
          % (args.persona, tl.name, tl.total_ms // 60000, tl.total_ms // 1000 % 60))
    sim = simulate(tl, args.persona, args.seed, sensor="mpx5010")
    with open(csv_path, "w") as f:
        sim.write_csv(f)
    trace = tr_mod.read(csv_path)
    print("2/4 scoring on CPython...")
    t0 = time.time()
    a = rp.run_cpython(tl, trace)
    t_cpy = time.time() - t0
    print("3/4 scoring inside the MicroPython VM...")
    t0 = time.time()
    b = rp.run_micropython(spec, trace)
    t_mpy = time.time() - t0
    if a != b:
        raise CliError("CPython and MicroPython disagree: a bug, please report it")
    with open(os.path.join(args.out, "events.jsonl"), "w") as f:
        f.write("".join(x + "\n" for x in a))
    events = [json.loads(x) for x in a]
    print("4/4 writing the report...")
    png = _plot(trace, events, tl, os.path.join(args.out, "session.png"))
    _table(events, sys.stdout)
    x = tl.total_ms / 1000.0
    print("engine: %d events, identical on both runtimes; %.0fx real time on CPython, "
          "%.0fx in the MicroPython VM" % (len(a), x / max(t_cpy, 1e-6), x / max(t_mpy, 1e-6)))
    print("report: %s" % png)
    return 0


def _table(events, out):
    reps = [e for e in events if e["type"] == "rep"]
    out.write("\n rep  kind     target  peak   held  relax  result  flags\n")
    for r in reps:
        out.write("%4d  %-7s %6.1f %6.1f %5.1fs %6s  %-6s  %s\n" % (
            r["index"], r["kind"], r["target_cmH2O"], r["peak_cmH2O"], r["held_ms"] / 1000,
            "-" if r["relax_ms"] is None else "%.1fs" % (r["relax_ms"] / 1000),
            "ok" if r["achieved"] else "miss", ",".join(r["flags"])))
    s = events[-1]
    alarms = [e for e in events if e["type"] == "alarm"]
    out.write("\nsummary: %d/%d reps achieved, mean relax %s ms, relax quality %s %%, "
              "%d alarms, MVC %.1f cmH2O (%s)\n\n" % (
                  s["reps_achieved"], s["reps"], s["mean_relax_ms"], s["relax_quality_pct"],
                  len(alarms), s["mvc_cmH2O"], s["mvc_source"]))


def _plot(trace, events, tl, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ts = [s[0] / 1000.0 for s in trace.samples if s[1] > -1000000]
    ps = [s[1] / 100.0 for s in trace.samples if s[1] > -1000000]
    fig, ax = plt.subplots(figsize=(14, 4.5), dpi=100)
    colours = {"squeeze": "#ffcc80", "flick": "#ffcc80", "max": "#ffab91", "release": "#bbdefb",
               "drop": "#d1c4e9", "rest": "#eeeeee"}
    for e in events:
        if e["type"] == "phase":
            t0 = e["t_ms"] / 1000.0
            ax.axvspan(t0, t0 + e["duration_ms"] / 1000.0, color=colours[e["muscle"]],
                       alpha=0.6, lw=0)
    ax.plot(ts, ps, color="#37474f", lw=0.8, label="pressure")
    for r in (e for e in events if e["type"] == "rep"):
        st = tl.start_ms[r["step"]] / 1000.0
        ax.hlines(r["target_cmH2O"], st, st + tl.dur_ms[r["step"]] / 1000.0, color="#e65100",
                  lw=1.5)
        ax.plot(st + tl.dur_ms[r["step"]] / 2000.0, r["peak_cmH2O"] + 2,
                marker="v" if r["achieved"] else "x",
                color="#2e7d32" if r["achieved"] else "#c62828", ms=7)
    for a in (e for e in events if e["type"] == "alarm"):
        ax.axvline(a["t_ms"] / 1000.0, color="#c62828", lw=1, ls="--")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("pressure (cmH2O, gauge)")
    s = events[-1]
    ax.set_title("%s: %d of %d reps achieved (orange: squeeze, blue: release, line: target, "
                 "green v: achieved, red x: missed, dashed: alarm)"
                 % (tl.title, s["reps_achieved"], s["reps"]), fontsize=10)
    ax.set_xlim(0, tl.total_ms / 1000.0)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
