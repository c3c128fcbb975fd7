"""pacer demo: the whole system without hardware.

A virtual board (the real MicroPython VM, host_tools/vboard) gets the firmware through `pacer
flash`, exactly as a Pico would; a simulated person (host_tools/sim, --persona) sits at it,
feels the vibration cues, watches the light and squeezes after their reaction latency. The
program is started over the serial protocol; a live view shows the phase, countdown, pressure
against target, cue state and rep results as telemetry and events arrive. At the end the session
is pulled off the board (`sessions get`) and a report is written: session.png (pressure, target,
phases, reps, the person's true squeeze), a summary table (printed too), and index.html.

Time is virtual and paced (--rate, default: about a minute for the whole program); --realtime
runs at the speed of a real session.
"""
import html
import json
import os
import shutil
import sys
import time

from host_tools import programs
from host_tools.errors import CliError
from host_tools.files import out_dir

NAME = "demo"
HELP = ("Run a program on a virtual board with a simulated person, live view, then pull the "
        "session and write a report (PNG, table, HTML).")
EXAMPLE = "pacer demo --program kegel --persona weak --seed 2      (about a minute)"

# --short: a 45 s program for a quick look (and the end-to-end test)
SHORT = {"name": "demo-short", "title": "Short demo: 3 x 5 s squeezes",
         "blocks": [{"steps": [{"s": 10, "role": "baseline"}]},
                    {"reps": 3, "steps": [{"s": 5, "muscle": "squeeze"},
                                          {"s": 5, "muscle": "release"}]},
                    {"steps": [{"s": 5}]}]}
TARGET_S = 60.0
CUE_MOTOR, CUE_REACHED, CUE_TENSION, CUE_PAUSED, CUE_FAULT = 1, 2, 4, 8, 16


def add_arguments(p):
    p.add_argument("--program", default="kegel",
                   help="built-in program, or a .json program file (default kegel)")
    p.add_argument("--short", action="store_true",
                   help="a 45 s program (3 squeezes) instead of --program")
    p.add_argument("--persona", default="typical", help="simulated person (default typical)")
    p.add_argument("--seed", type=int, default=1, help="seed of the person (default 1)")
    p.add_argument("--board", default="pico", help="board profile (default pico)")
    p.add_argument("--realtime", action="store_true", help="run at the speed of a real session")
    p.add_argument("--rate", type=float, default=0.0,
                   help="times real time (default: the program in about a minute; "
                        "0 with --fast: as fast as the machine goes)")
    p.add_argument("--fast", action="store_true", help="no pacing: as fast as possible")
    p.add_argument("--out", default="build/demo", metavar="DIR",
                   help="where the flash, recording and report go (default build/demo)")


def run(args):
    from host_tools.sim import personas
    from host_tools.vboard import VBoardError, launcher
    from host_tools.vboard import session as vs

    if args.persona not in personas.NAMES:
        raise CliError("unknown persona %r; choose from %s"
                       % (args.persona, ", ".join(personas.NAMES)))
    try:
        launcher.board_profile(args.board)
    except VBoardError as e:
        raise CliError(str(e))
    if not launcher.VM_MJS.is_file():
        raise CliError("the MicroPython VM is missing; run `make setup`")
    if args.short:
        spec, name = SHORT, SHORT["name"]
    else:
        spec, builtin_name = programs.load_spec(args.program)
        name = builtin_name or spec.get("name", "")
    tl = programs.build(spec, args.program)
    push = spec if (args.short or name not in _builtins()) else None
    total_s = tl.total_ms / 1000.0
    rate = 0.0
    if not args.realtime and not args.fast:
        rate = args.rate if args.rate > 0 else max(1.0, round(total_s / TARGET_S, 1))

    out = os.path.abspath(out_dir(args.out))
    flash_dir = os.path.join(out, "flash")
    shutil.rmtree(flash_dir, ignore_errors=True)
    record = os.path.join(out, "outputs.jsonl")
    pace = "real time" if args.realtime else ("%gx real time" % rate if rate else "full speed")
    print("pacer demo: %s (%s, %d:%02d) with a simulated %s person (seed %d), virtual %s, %s"
          % (name, tl.title, int(total_s) // 60, int(total_s) % 60, args.persona, args.seed,
             args.board, pace), flush=True)
    t_start = time.monotonic()
    vb = launcher.start(board=args.board, flash_dir=flash_dir, realtime=args.realtime,
                        seed=args.seed, persona=args.persona, record=record,
                        log=os.path.join(out, "vboard.log"), rate=rate or None)
    try:
        print("1/4 virtual board on %s; deploying the firmware with `pacer flash`..." % vb.port,
              flush=True)
        vs.flash(vb.port, args.board)
        dev = vs.connect(vb.port)
        try:
            if push is not None:
                dev.command("programs push %s" % json.dumps(push, separators=(",", ":")))
            print("2/4 running %s: the person follows the device's cues" % name, flush=True)
            view = LiveView(tl, sys.stdout)
            r = vs.run_program(vb.port, name, on_item=view.item, dev=dev,
                               timeout=max(600.0, total_s * 2))
            view.close()
            print("3/4 pulling the session off the board (sessions get)...", flush=True)
            records = vs.pull_session(vb.port, dev=dev)
        finally:
            dev.close()
        truth = vs.read_truth(record)  # while the board runs: the recording flushes each second
    finally:
        vb.stop()
    with open(os.path.join(out, "session.jsonl"), "w") as f:
        for rec in records:
            f.write(json.dumps(rec) + "\n")
    with open(os.path.join(out, "telemetry.csv"), "w") as f:
        f.write("t_ms,pressure_cmH2O,target_cmH2O,step,cue\n")
        for fr in view.frames:
            f.write("%d,%.2f,%.2f,%d,%d\n" % (fr[1], fr[2] / 100, fr[3] / 100, fr[4], fr[5]))
    print("4/4 writing the report...", flush=True)
    rep = Report(tl, records, view.frames, truth, r.events, args)
    png = rep.plot(os.path.join(out, "session.png"))
    text = rep.table()
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    page = rep.html(os.path.join(out, "index.html"), text)
    sys.stdout.write(text)
    print("took %.0f s for %d:%02d of session" % (time.monotonic() - t_start, int(total_s) // 60,
                                                    int(total_s) % 60))
    print("report: %s" % page)
    print("plot:   %s" % png)
    return 0


def _builtins():
    from pacer import builtin
    return builtin.NAMES


def _mmss(ms):
    s = max(0, int(ms)) // 1000
    return "%d:%02d" % (s // 60, s % 60)


class LiveView:
    """Phase, countdown, pressure against target, cue state, rep results: one block redrawn in
    place on a terminal, plain progress lines otherwise."""

    def __init__(self, tl, out):
        self.tl = tl
        self.out = out
        self.tty = out.isatty() and os.environ.get("TERM") != "dumb"
        self.frames = []
        self.phase = None
        self.reps = []
        self.drops = []
        self.alarms = 0
        self.frame = None
        self.drawn = 0
        self.last_draw = 0.0
        self.scale = 10.0

    def item(self, kind, item):
        if kind == "frame":
            self.frames.append(item)
            self.frame = item
            if self.tty and time.monotonic() - self.last_draw > 0.1:
                self.draw()
            return
        if kind != "event":
            return
        t = item.get("type")
        if t == "phase":
            self.phase = item
            if not self.tty:
                self.line("%s  step %d/%d  %-8s %-7s %4.1f s" % (
                    _mmss(item["t_ms"]), item["step"] + 1, self.tl.n, item["muscle"],
                    item["breath"], item["duration_ms"] / 1000))
        elif t == "rep":
            self.reps.append(item)
            if not self.tty:
                self.line("%s  rep %d: %s" % (_mmss(item["t_ms"]), item["index"], _rep_text(item)))
        elif t == "drop":
            self.drops.append(item)
            if not self.tty:
                self.line("%s  %s %d: %s" % (_mmss(item["t_ms"]), item["kind"], item["index"],
                                            _drop_text(item)))
        elif t == "alarm":
            self.alarms += 1
            if not self.tty:
                self.line("%s  %s: %s" % (_mmss(item["t_ms"]),
                                          "nudge" if item["kind"] == "tension" else "alarm",
                                          item["kind"]))
        elif t == "summary" and not self.tty:
            self.line("%s  done: %s" % (_mmss(item["t_ms"]), _done_text(item)))
        if self.tty:
            self.draw()

    def line(self, text):
        self.out.write(text + "\n")
        self.out.flush()

    def block(self):
        tl = self.tl
        fr = self.frame
        ph = self.phase
        t = fr[1] if fr else 0
        p = fr[2] / 100 if fr else 0.0
        target = fr[3] / 100 if fr else 0.0
        cue = fr[5] if fr else 0
        lines = []
        if ph is not None:
            left = ph["t_ms"] + ph["duration_ms"] - t
            role = " (%s)" % ph["role"] if ph.get("role") else ""
            lines.append("phase     %d/%d  %-8s breath %-7s%s  %4.1f s left" % (
                ph["step"] + 1, tl.n, ph["muscle"].upper(), ph["breath"], role, left / 1000))
        else:
            lines.append("phase     starting...")
        lines.append("time      %s / %s" % (_mmss(t), _mmss(tl.total_ms)))
        top = max(self.scale, p * 1.2, target * 1.2)
        self.scale = top
        width = 40
        pos = min(width, max(0, int(p / top * width)))
        bar = ["#"] * pos + ["."] * (width - pos)
        if target > 0:
            bar[min(width - 1, int(target / top * width))] = "|"
        lines.append("pressure  [%s] %6.1f cmH2O  target %s" % (
            "".join(bar), p, "%.1f" % target if target > 0 else "-"))
        states = []
        if cue & CUE_MOTOR:
            states.append("vibrating")
        if cue & CUE_REACHED:
            states.append("TARGET REACHED")
        if cue & CUE_TENSION:
            states.append("TENSION - let go")
        if cue & CUE_PAUSED:
            states.append("paused")
        if cue & CUE_FAULT:
            states.append("sensor fault")
        lines.append("cue       %s" % (", ".join(states) or "-"))
        if self.tl.drops:
            marks = "".join("+" if d["achieved"] else ("!" if "paradoxical" in d["flags"] else "x")
                            for d in self.drops)
            ok = sum(1 for d in self.drops if d["achieved"])
            lines.append("drops     %d/%d let go  %s" % (ok, len(self.drops), marks[-40:]))
            lines.append("last      %s" % (_drop_text(self.drops[-1]) if self.drops else "-"))
        else:
            marks = "".join("+" if r["achieved"] else "x" for r in self.reps)
            ok = sum(1 for r in self.reps if r["achieved"])
            lines.append("reps      %d/%d achieved  %s" % (ok, len(self.reps), marks[-40:]))
            lines.append("last rep  %s" % (_rep_text(self.reps[-1]) if self.reps else "-"))
        return lines

    def draw(self):
        self.last_draw = time.monotonic()
        lines = self.block()
        w = self.out
        if self.drawn:
            w.write("\x1b[%dF" % self.drawn)
        for x in lines:
            w.write("\x1b[2K" + x + "\n")
        self.drawn = len(lines)
        w.flush()

    def close(self):
        if self.tty:
            self.draw()


def _drop_text(d):
    verdict = d.get("pattern") or ("let go" if d["achieved"] else (
        "tightened" if "paradoxical" in d["flags"] else "not let go"))
    return "%s %s cmH2O below rest (%s %%), %s%s" % (
        verdict, d["drop_cmH2O"], d["relaxation_pct"],
        "-" if d["drop_ms"] is None else "after %.1f s" % (d["drop_ms"] / 1000),
        (" [%s]" % ", ".join(d["flags"])) if d["flags"] else "")


def _done_text(s):
    parts = []
    if s.get("reps"):
        parts.append("%d of %d reps achieved" % (s.get("reps_achieved", 0), s["reps"]))
    if s.get("drops"):
        parts.append("%d of %d drops let go" % (s.get("drops_achieved", 0), s["drops"]))
    if s.get("pushes"):
        parts.append("%d of %d pushes coordinated" % (s.get("pushes_coordinated", 0),
                                                      s["pushes"]))
    if s.get("paradoxical"):
        parts.append("%d tightened" % s["paradoxical"])
    parts.append("%d tension nudge%s" % (s.get("tension_episodes", 0),
                                         "" if s.get("tension_episodes") == 1 else "s"))
    if s.get("rest_tone_change_cmH2O") is not None:
        parts.append("resting tone %+.1f cmH2O" % s["rest_tone_change_cmH2O"])
    return "%s; grade %s" % (", ".join(parts), s.get("grade", "-"))


def _rep_text(r):
    return "%s peak %s cmH2O (target %s), held %.1f s, relax %s%s" % (
        "achieved" if r["achieved"] else "missed", r["peak_cmH2O"], r["target_cmH2O"],
        r["held_ms"] / 1000, "-" if r["relax_ms"] is None else "%.1f s" % (r["relax_ms"] / 1000),
        (" [%s]" % ", ".join(r["flags"])) if r["flags"] else "")


class Report:
    def __init__(self, tl, records, frames, truth, streamed, args):
        from host_tools.vboard import session as vs
        self.tl = tl
        self.args = args
        self.header = records[0] if records and "type" not in records[0] else {}
        self.events = [r for r in records if "type" in r]
        self.frames = frames
        self.truth = truth
        self.reps = [e for e in self.events if e["type"] == "rep"]
        self.drops = [e for e in self.events if e["type"] == "drop"]
        summary = next((e for e in self.events if e["type"] == "summary"), None)
        if summary is None:
            raise CliError("the pulled session has no summary record")
        self.summary = summary
        self.pairs = dict((e["index"], r) for e, r in vs.match(self.events, truth))
        self.offset = vs.align(self.events, truth)
        self.mvc = vs.session_mvc(self.events)
        self.problems = vs.compare(self.events, truth)
        self.streamed_same = ([e for e in streamed if e.get("type") == "rep"] == self.reps)

    def table(self):
        s = self.summary
        out = [""]
        if self.reps:
            out.append(" rep  kind     target   peak  rise  true   held  relax  true   result  "
                       "flags")
        from host_tools.vboard import session as vs
        for r in self.reps:
            t = self.pairs.get(r["index"])
            rise = vs.rep_rise(r, self.mvc)
            out.append("%4d  %-7s %6.1f %6.1f %5s %5s %5.1fs %6s %6s  %-7s %s" % (
                r["index"], r["kind"], r["target_cmH2O"], r["peak_cmH2O"],
                "-" if rise is None else "%.1f" % rise,
                "-" if t is None else ("miss" if t["missed"] else "%.1f" % t["peak_cmH2O"]),
                r["held_ms"] / 1000,
                "-" if r["relax_ms"] is None else "%.1fs" % (r["relax_ms"] / 1000),
                "-" if t is None or t["relax_ms"] is None else "%.1fs" % (t["relax_ms"] / 1000),
                "ok" if r["achieved"] else "miss", ",".join(r["flags"])))
        if self.drops:
            # the person in the loop does not know step numbers: the n-th drop cue they felt
            truth = dict((k + 1, d) for k, d in enumerate(self.truth.drops))
            out.append("")
            out.append(" drop kind    rest  level  drop  true    %  onset  result       "
                       "true           flags")
            for d in self.drops:
                t = truth.get(d["index"])
                out.append("%4d  %-5s %6.1f %6.1f %5.1f %5s %4s %6s  %-12s %-14s %s" % (
                    d["index"], d["kind"], d["rest_cmH2O"], d["level_cmH2O"],
                    d["drop_cmH2O"],
                    "-" if t is None or t["floor_cmH2O"] is None else "%.1f" % -t["floor_cmH2O"],
                    "-" if d["relaxation_pct"] is None else d["relaxation_pct"],
                    "-" if d["drop_ms"] is None else "%.1fs" % (d["drop_ms"] / 1000),
                    d.get("pattern") or ("let go" if d["achieved"] else "not let go"),
                    "-" if t is None else (t.get("pattern") or t["response"]),
                    ",".join(d["flags"])))
            out.append("(drop: below the resting level just before the cue, the breath taken "
                       "out; true: the floor's own fall, from the simulator)")
        alarms = [e for e in self.events if e["type"] == "alarm"]
        out.append("")
        out.append("session: " + _done_text(s))
        if self.reps:
            out.append("summary: %d/%d reps achieved, mean rise %s cmH2O, mean held %s ms, mean "
                       "relax %s ms, relax quality %s %%, %d alarms, baseline %s cmH2O, MVC %s "
                       "cmH2O (%s)" % (s["reps_achieved"], s["reps"], s.get("mean_rise_cmH2O"),
                                       s.get("mean_held_ms"), s.get("mean_relax_ms"),
                                       s.get("relax_quality_pct"), len(alarms),
                                       s.get("baseline_cmH2O"), s.get("mvc_cmH2O"),
                                       s.get("mvc_source")))
            seen = [t for t in self.pairs.values() if t is not None]
            out.append("truth:   the simulated person saw %d of the %d rep cues and attempted %d; "
                       "engine vs truth: %s"
                       % (len(seen), len(self.reps), sum(1 for t in seen if not t["missed"]),
                          "agree within the tolerances" if not self.problems
                          else "%d disagreement(s): %s" % (len(self.problems),
                                                           "; ".join(self.problems[:3]))))
        if self.drops:
            td = self.truth.drops
            agree = sum(1 for k, d in enumerate(self.drops) if k < len(td) and d["achieved"] == (
                (td[k].get("pattern") == "coordinated") if d["kind"] == "push" and d["pattern"]
                else (td[k]["floor_cmH2O"] is not None and td[k]["floor_cmH2O"] <= -1.0)))
            out.append("truth:   the simulated person felt %d of the %d drop/push cues; the "
                       "engine's verdict agrees with the person's floor on %d" % (
                           len(td), len(self.drops), agree))
        if self.reps:
            out.append("(rise: peak above the rep's baseline; true: the person's own squeeze "
                       "and relax time from the simulator)")
        out.append("")
        return "\n".join(out)

    def plot(self, path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(14, 5), dpi=100)
        colours = {"squeeze": "#ffcc80", "flick": "#ffe0b2", "max": "#ffab91",
                   "release": "#bbdefb", "drop": "#d1c4e9", "push": "#f8bbd0",
                   "rest": "#f2f2f2"}
        for e in self.events:
            if e["type"] == "phase":
                t0 = e["t_ms"] / 1000.0
                ax.axvspan(t0, t0 + e["duration_ms"] / 1000.0, color=colours[e["muscle"]],
                           alpha=0.7, lw=0)
        fr = self.frames
        if fr:
            ax.plot([f[1] / 1000 for f in fr], [f[2] / 100 for f in fr], color="#37474f",
                    lw=0.9, label="pressure (telemetry)")
            if self.tl.reps:
                tx, ty = [], []
                for f in fr:
                    tx.append(f[1] / 1000)
                    ty.append(f[3] / 100 if f[3] > 0 else float("nan"))
                ax.plot(tx, ty, color="#e65100", lw=1.4, label="target")
        for d in self.drops:
            ph_steps = [e for e in self.events if e["type"] == "phase" and e["step"] == d["step"]]
            if not ph_steps:
                continue
            p = ph_steps[0]
            x0 = p["t_ms"] / 1000.0
            x1 = x0 + p["duration_ms"] / 1000.0
            # the resting level it is judged against, and the level reached (breath taken out)
            ax.hlines(d["rest_cmH2O"], x0, x1, color="#1565c0", lw=2.0)
            ax.hlines(d["level_cmH2O"], x0 + 1.0, x1, color="#6a1b9a", lw=2.0, ls="--")
            good = d["achieved"]
            bad = "paradoxical" in d["flags"]
            ax.plot((x0 + x1) / 2, d["rest_cmH2O"] + 1.2, marker="v" if good else "x",
                    color="#2e7d32" if good else ("#c62828" if bad else "#ef6c00"), ms=8,
                    ls="none")
        if (self.tl.reps and self.offset is not None and self.truth.samples and fr
                and self.mvc is not None):
            # on the engine's baseline at each moment (target - 40 % of MVC)
            share = self.mvc * 0.4
            zeroed = min([e["t_ms"] for e in self.events if e["type"] == "zero"] or [0])
            xs, ys = [], []
            j = 0
            for smp in self.truth.samples:
                t = smp[0] - self.offset
                if t < zeroed or t > self.tl.total_ms:
                    continue
                while j + 1 < len(fr) and fr[j + 1][1] <= t:
                    j += 1
                if fr[j][3] <= 0:
                    continue
                xs.append(t / 1000)
                ys.append(fr[j][3] / 100 - share + smp[1])
            ax.plot(xs, ys, color="#6a1b9a", lw=1.0, ls="--", alpha=0.8,
                    label="the person's true squeeze (simulator), on the engine's baseline")
        ph = dict((e["step"], e) for e in self.events if e["type"] == "phase")
        for r in self.reps:
            p = ph.get(r["step"])
            x = (p["t_ms"] + p["duration_ms"] / 2) / 1000.0 if p else r["t_ms"] / 1000.0
            ax.plot(x, r["peak_cmH2O"] + 1.5,
                    marker="v" if r["achieved"] else "x",
                    color="#2e7d32" if r["achieved"] else "#c62828", ms=8, ls="none")
        for a in (e for e in self.events if e["type"] == "alarm"):
            ax.axvline(a["t_ms"] / 1000.0, color="#c62828", lw=1, ls=":")
        s = self.summary
        ax.set_xlim(0, self.tl.total_ms / 1000.0)
        ax.set_xlabel("time in session (s)")
        ax.set_ylabel("pressure (cmH2O, gauge)")
        ax.set_title("%s - simulated %s person (seed %d) on a virtual %s\n%s"
                     % (self.tl.title, self.args.persona, self.args.seed, self.args.board,
                        _done_text(s)), fontsize=10)
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + (hi - lo) * 0.08)
        ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.1), ncol=3, fontsize=8,
                  frameon=False)
        ax.text(1.0, -0.1, "shading: orange squeeze/flick, blue release, purple drop, pink push, "
                "grey rest\n" + ("drops: blue line the resting level before the cue, dashed the "
                                 "level reached (breath taken out); green v let go, orange x "
                                 "not, red x tightened" if self.drops else
                                 "above each rep's peak: green v achieved, red x missed")
                + "; dotted line: alarm or tension nudge",
                transform=ax.transAxes, fontsize=8, va="top", ha="right")
        fig.tight_layout()
        fig.savefig(path)
        plt.close(fig)
        return path

    def html(self, path, text):
        s = self.summary
        from host_tools.vboard import session as vs
        rows = []
        for r in self.reps:
            t = self.pairs.get(r["index"])
            rise = vs.rep_rise(r, self.mvc)
            rows.append("<tr><td>%d</td><td>%s</td><td>%.2f</td><td>%.2f</td><td>%s</td><td>%s</td>"
                        "<td>%.1f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>" % (
                            r["index"], r["kind"], r["target_cmH2O"], r["peak_cmH2O"],
                            "-" if rise is None else "%.2f" % rise,
                            "-" if t is None else ("missed" if t["missed"]
                                                   else "%.2f" % t["peak_cmH2O"]),
                            r["held_ms"] / 1000,
                            "-" if r["relax_ms"] is None else "%.2f" % (r["relax_ms"] / 1000),
                            "-" if t is None or t["relax_ms"] is None
                            else "%.2f" % (t["relax_ms"] / 1000),
                            "achieved" if r["achieved"] else "missed",
                            html.escape(", ".join(r["flags"]))))
        summ = "".join("<tr><th>%s</th><td>%s</td></tr>" % (html.escape(k), html.escape(str(v)))
                       for k, v in s.items() if k not in ("t_ms", "type"))
        page = """<!doctype html><meta charset="utf-8"><title>pacer demo: %(prog)s</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}pre{background:#f6f6f6;padding:1em}
</style>
<h1>%(title)s</h1>
<p>Simulated %(persona)s person (seed %(seed)d) on a virtual %(board)s board, firmware deployed
with <code>pacer flash</code>, session pulled with <code>sessions get</code>.</p>
<img src="session.png" alt="session plot" style="max-width:100%%">
<h2>Reps (engine, and the simulated person's truth)</h2>
<p>Pressures in cmH2O. Rise: the peak above the baseline the rep was scored against; true
squeeze: the simulated person's own pelvic-floor pressure above rest (what the rise measures).</p>
<table><tr><th>rep</th><th>kind</th><th>target</th><th>peak</th><th>rise</th><th>true squeeze</th>
<th>held s</th><th>relax s</th><th>true relax s</th><th>result</th><th>flags</th></tr>
%(rows)s</table>
<h2>Session summary</h2><table>%(summ)s</table>
<h2>Text report</h2><pre>%(text)s</pre>
<p>Files: session.jsonl (the pulled session), telemetry.csv, outputs.jsonl (device outputs and
the person's truth), vboard.log.</p>
""" % {"prog": html.escape(self.tl.name), "title": html.escape(self.tl.title),
       "persona": html.escape(self.args.persona), "seed": self.args.seed,
       "board": html.escape(self.args.board), "rows": "\n".join(rows), "summ": summ,
       "text": html.escape(text)}
        with open(path, "w") as f:
            f.write(page)
        return path
