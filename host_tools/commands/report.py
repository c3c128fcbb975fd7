"""pacer report: plots, an HTML page and CSV tables from session logs.

Input: JSONL files from `pacer sessions pull` (header record, then the board's events) or from
`pacer log` (events plus host marks, with the telemetry CSV of the same name next to it).
Per session: SESSION.png: the pressure trace when there is one (a `pacer log` capture), phase
shading (squeeze/flick/max orange, release/drop blue, baseline grey), the target line, each rep
marked at its peak (green achieved, red missed), alarms and faults as red lines. A pulled
session has no pressure samples: its plot shows the targets and the reps' peaks on the phase
timeline instead. Several sessions add progress.png: strength (peak above rest), hold time,
time to relax, pre/post session baseline, and adherence (sessions per day; the day is the
file's date, as the board has no calendar). index.html shows them all; reps.csv and
sessions.csv hold the numbers.
"""
import csv
import datetime
import html
import json
import os

from host_tools.errors import CliError

NAME = "report"
HELP = ("Per-session plots, a progress view over several sessions, an HTML page and CSV export, "
        "from pulled sessions or `pacer log` captures.")
EXAMPLE = "pacer report sessions/*.jsonl --out report/     (then open report/index.html)"

CONTRACT = ("squeeze", "flick", "max")
RELAX = ("release", "drop")
COLOURS = {"squeeze": "#f6c58f", "flick": "#f9d9a8", "max": "#f2a65a", "release": "#bcd9f0",
           "drop": "#d5e6f5", "baseline": "#e4e4e4"}


def add_arguments(p):
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="session .jsonl files")
    p.add_argument("--out", default="report", metavar="DIR", help="default ./report")


class Session:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.header = {}
        self.events = []
        self.frames = []        # (t_ms, pressure, target)
        self._read()
        self.day = datetime.date.fromtimestamp(os.path.getmtime(path))

    def _read(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                lines = f.readlines()
        except FileNotFoundError:
            raise CliError("session file %s not found" % self.path)
        except (OSError, UnicodeDecodeError) as e:
            raise CliError("cannot read %s: %s" % (self.path, e))
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                raise CliError("%s line %d is not JSON; give files from `pacer sessions pull` "
                               "or `pacer log`" % (self.path, n))
            if not isinstance(rec, dict):
                raise CliError("%s line %d is not a JSON object" % (self.path, n))
            if "type" not in rec and "program" in rec and not self.events:
                self.header = rec
            elif isinstance(rec.get("type"), str) and isinstance(rec.get("t_ms", 0), int):
                if rec["type"] == "host" and rec.get("what") == "started":
                    self.header.setdefault("program", rec.get("program"))
                self.events.append(rec)
        if not any(e.get("type") in ("phase", "rep", "summary") for e in self.events):
            raise CliError("%s holds no session events (phase, rep, summary)" % self.path)
        sm = self.of("summary")
        if sm and not self.header.get("program"):
            self.header["program"] = sm[-1].get("program")
        csv_path = os.path.splitext(self.path)[0] + ".csv"
        if os.path.exists(csv_path):
            self._read_csv(csv_path)

    def _read_csv(self, path):
        with open(path, newline="") as f:
            rows = csv.reader(f)
            head = next(rows, None)
            if not head or "t_ms" not in head or "pressure_cmH2O" not in head:
                raise CliError("%s is not a `pacer log` telemetry CSV (no t_ms, pressure_cmH2O "
                               "columns)" % path)
            it, ip, ig, istep = (head.index("t_ms"), head.index("pressure_cmH2O"),
                                 head.index("target_cmH2O"), head.index("step"))
            for n, r in enumerate(rows, 2):
                if len(r) != len(head):
                    raise CliError("%s line %d has %d fields, expected %d"
                                   % (path, n, len(r), len(head)))
                if not r[it]:
                    continue      # a gap mark
                try:
                    if int(r[istep]) < 0:
                        continue  # idle frames: no session
                    self.frames.append((int(r[it]), float(r[ip]), float(r[ig])))
                except ValueError:
                    raise CliError("%s line %d: bad number in %s" % (path, n, r))

    def of(self, kind):
        return [e for e in self.events if e.get("type") == kind]

    @property
    def program(self):
        return self.header.get("program") or "?"

    def summary(self):
        sm = self.of("summary")
        return sm[-1] if sm else {}

    def baseline(self):
        z = self.of("zero")
        return z[0].get("baseline_cmH2O") if z else self.summary().get("baseline_cmH2O")


def _phases(s):
    ph = s.of("phase")
    out = []
    for e in ph:
        kind = "baseline" if e.get("role") == "baseline" else e.get("muscle")
        out.append((e["t_ms"] / 1000, e.get("duration_ms", 0) / 1000, kind))
    return out


def plot_session(s, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(12, 4.8), dpi=100)
    base = s.baseline()
    for t0, d, kind in _phases(s):
        c = COLOURS.get(kind)
        if c:
            ax.axvspan(t0, t0 + d, color=c, alpha=0.7, lw=0)
    reps = s.of("rep")
    if s.frames:
        t = [f[0] / 1000 for f in s.frames]
        ax.plot(t, [f[1] for f in s.frames], color="#1f4e99", lw=1.1, label="pressure")
        ax.plot(t, [f[2] if f[2] else float("nan") for f in s.frames], color="#c0392b",
                lw=1.2, ls="--", label="target")
    else:
        ph = {e.get("step"): e for e in s.of("phase")}
        for r in reps:
            p = ph.get(r.get("step"))
            if p is not None and r.get("target_cmH2O") is not None:
                ax.hlines(r["target_cmH2O"], p["t_ms"] / 1000,
                          (p["t_ms"] + p.get("duration_ms", 0)) / 1000, color="#c0392b",
                          lw=2, ls="--")
        ax.plot([], [], color="#c0392b", ls="--", label="target")
        ax.text(0.01, 0.02, "no pressure samples in this log: targets and rep peaks shown "
                "(`pacer log` captures the trace)", transform=ax.transAxes, fontsize=8,
                va="bottom", color="#555")
    if base is not None:
        ax.axhline(base, color="#777", lw=0.8, ls=":", label="rest at start (zero)")
    ph = {e.get("step"): e for e in s.of("phase")}
    for r in reps:
        p = ph.get(r.get("step"))
        x = (p["t_ms"] + p.get("duration_ms", 0) / 2) / 1000 if p else r["t_ms"] / 1000
        y = r.get("peak_cmH2O")
        if y is None:
            continue
        ok = r.get("achieved")
        ax.plot([x], [y], marker="o" if ok else "X", ms=8, color="#1e8449" if ok else "#c0392b",
                mec="white", mew=1, zorder=5)
        ax.annotate(str(r.get("index")), (x, y), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=7, color="#333")
    marks = s.of("alarm") + [f for f in s.of("fault") if f.get("active")]
    few = len(marks) <= 8
    for a in marks:
        colour = "#c0392b" if a.get("type") == "alarm" else "#7d3c98"
        # alarms as red lines (a tick along the top when there are many), faults purple
        ax.axvline(a["t_ms"] / 1000, ymin=0 if few else 0.9, ymax=1, color=colour, lw=1.2,
                   alpha=0.85)
        if few:
            ax.annotate(str(a.get("kind")), (a["t_ms"] / 1000, 1),
                        xycoords=("data", "axes fraction"), xytext=(2, -14),
                        textcoords="offset points", fontsize=7, color=colour, rotation=90,
                        va="top")
    counts = {}
    for a in marks:
        key = ("%s" if a.get("type") == "alarm" else "fault %s") % a.get("kind")
        counts[key] = counts.get(key, 0) + 1
    sm = s.summary()
    title = "%s: %s" % (s.name, s.program)
    if sm:
        nr = sm.get("reps_not_relaxed") or 0
        relax = ("%d reps not relaxed" % nr if nr and nr >= (sm.get("reps") or 0)
                 else "mean relax %.1f s" % ((sm.get("mean_relax_ms") or 0) / 1000))
        title += "   %s of %s reps achieved, mean hold %.1f s, %s%s" % (
            sm.get("reps_achieved"), sm.get("reps"), (sm.get("mean_held_ms") or 0) / 1000,
            relax, "" if sm.get("completed") else "  (stopped early)")
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel("time in session (s)")
    ax.set_ylabel("pressure (cmH2O)")
    ax.grid(True, alpha=0.25)
    handles, _ = ax.get_legend_handles_labels()
    handles += [Patch(color=COLOURS["squeeze"], label="squeeze"),
                Patch(color=COLOURS["release"], label="release"),
                Patch(color=COLOURS["baseline"], label="baseline"),
                Line2D([], [], marker="o", ls="", color="#1e8449", label="rep achieved"),
                Line2D([], [], marker="X", ls="", color="#c0392b", label="rep missed")]
    if counts:
        handles.append(Line2D([], [], color="#c0392b", label="alarms: " + ", ".join(
            "%s x%d" % kv for kv in sorted(counts.items()))))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8,
              ncol=len(handles), frameon=False, handlelength=1.6, columnspacing=1.2)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0), hi + (hi - lo) * 0.08)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def metrics(s):
    reps = s.of("rep")
    base = s.baseline() or 0.0
    peaks = [r["peak_cmH2O"] - base for r in reps if r.get("peak_cmH2O") is not None
             and "missed" not in (r.get("flags") or [])]
    held = [r["held_ms"] / 1000 for r in reps if r.get("held_ms")]
    relax = [r["relax_ms"] / 1000 for r in reps if r.get("relax_ms") is not None]
    sm = s.summary()
    return {"session": s.name, "program": s.program, "day": s.day.isoformat(),
            "reps": len(reps), "achieved": sum(1 for r in reps if r.get("achieved")),
            "strength_cmH2O": round(max(peaks), 2) if peaks else None,
            "mean_peak_cmH2O": round(sum(peaks) / len(peaks), 2) if peaks else None,
            "mean_hold_s": round(sum(held) / len(held), 2) if held else None,
            "mean_relax_s": round(sum(relax) / len(relax), 2) if relax else None,
            "pre_baseline_cmH2O": sm.get("pre_baseline_cmH2O"),
            "post_baseline_cmH2O": sm.get("post_baseline_cmH2O"),
            "alarms": len(s.of("alarm")), "completed": sm.get("completed")}


def plot_progress(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 3, figsize=(13, 6.5), dpi=100)
    x = list(range(1, len(rows) + 1))

    def line(ax, keys, title, unit):
        if all(r[k] is None for k, _, _ in keys for r in rows):
            ax.text(0.5, 0.5, "no data in these sessions", ha="center", va="center",
                    transform=ax.transAxes, color="#888")
        for k, c, lab in keys:
            ys = [r[k] if r[k] is not None else float("nan") for r in rows]
            has = any(r[k] is not None for r in rows)
            ax.plot(x, ys, marker="o", color=c, label=lab if has else "_" + lab)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(unit)
        ax.set_xlabel("session")
        ax.set_xticks(x)
        ax.grid(True, alpha=0.3)
        if len(keys) > 1 and ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)

    line(axs[0][0], [("strength_cmH2O", "#1f4e99", "best"), ("mean_peak_cmH2O", "#7fa7d9",
                                                             "mean")],
         "strength: peak above rest", "cmH2O")
    line(axs[0][1], [("mean_hold_s", "#1e8449", "hold")], "hold time (mean)", "s")
    line(axs[0][2], [("mean_relax_s", "#8e44ad", "relax")], "time to relax (mean, lower is "
         "better)", "s")
    line(axs[1][0], [("pre_baseline_cmH2O", "#7f8c8d", "before"),
                     ("post_baseline_cmH2O", "#e67e22", "after")],
         "resting baseline before / after", "cmH2O")
    ach = [100.0 * r["achieved"] / r["reps"] if r["reps"] else float("nan") for r in rows]
    axs[1][1].bar(x, ach, color="#1e8449")
    axs[1][1].set_ylim(0, 105)
    axs[1][1].set_title("reps achieved", fontsize=10)
    axs[1][1].set_ylabel("%")
    axs[1][1].set_xlabel("session")
    axs[1][1].set_xticks(x)
    days = {}
    for r in rows:
        days[r["day"]] = days.get(r["day"], 0) + 1
    first = min(datetime.date.fromisoformat(d) for d in days)
    last = max(datetime.date.fromisoformat(d) for d in days)
    span = [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]
    axs[1][2].bar([d.strftime("%m-%d") for d in span], [days.get(d.isoformat(), 0) for d in span],
                  color="#2e86c1")
    axs[1][2].set_title("adherence: sessions per day", fontsize=10)
    axs[1][2].set_ylabel("sessions")
    axs[1][2].tick_params(axis="x", labelrotation=45, labelsize=7)
    fig.suptitle("progress over %d sessions" % len(rows), fontsize=12)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(args):
    sessions = [Session(p) for p in args.sessions]
    os.makedirs(args.out, exist_ok=True)
    rows = []
    pngs = []
    names = set()
    for s in sessions:
        name = s.name
        k = 2
        while name in names:
            name = "%s-%d" % (s.name, k)
            k += 1
        names.add(name)
        png = os.path.join(args.out, name + ".png")
        plot_session(s, png)
        pngs.append((s, os.path.basename(png)))
        rows.append(metrics(s))
    with open(os.path.join(args.out, "sessions.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    keys = ["session", "index", "kind", "t_ms", "target_cmH2O", "peak_cmH2O", "achieved",
            "held_ms", "relax_ms", "flags"]
    with open(os.path.join(args.out, "reps.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for s in sessions:
            for r in s.of("rep"):
                w.writerow([s.name] + [";".join(r.get(k) or []) if k == "flags" else r.get(k)
                                       for k in keys[1:]])
    progress = None
    if len(sessions) > 1:
        progress = "progress.png"
        plot_progress(rows, os.path.join(args.out, progress))
    page = os.path.join(args.out, "index.html")
    with open(page, "w") as f:
        f.write(_html(rows, pngs, progress))
    print("report: %d session plot%s%s, %s, sessions.csv, reps.csv"
          % (len(pngs), "s" * (len(pngs) != 1), " + progress.png" if progress else "", page))
    return 0


def _html(rows, pngs, progress):
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>pacer report</title>",
           "<style>body{font-family:sans-serif;max-width:1250px;margin:auto;padding:1em}"
           "img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}</style></head><body>",
           "<h1>pacer training report</h1>"]
    if progress:
        out.append("<h2>Progress</h2><img src='%s' alt='progress'>" % e(progress))
    out.append("<h2>Sessions</h2><table><tr>%s</tr>" % "".join("<th>%s</th>" % e(k)
                                                            for k in rows[0]))
    for r in rows:
        out.append("<tr>%s</tr>" % "".join("<td>%s</td>" % e("" if v is None else str(v))
                                           for v in r.values()))
    out.append("</table><p>Numbers: <a href='sessions.csv'>sessions.csv</a>, "
               "<a href='reps.csv'>reps.csv</a></p>")
    for s, png in pngs:
        out.append("<h3>%s (%s)</h3><img src='%s' alt='%s'>" % (e(s.name), e(s.program), e(png),
                                                                 e(s.name)))
    out.append("</body></html>\n")
    return "\n".join(out)
