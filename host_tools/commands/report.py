"""pacer report: dated, per-program progress, a practice calendar and per-session plots.

Input: JSONL files from `pacer sessions pull` (header record, then the board's events) or from
`pacer log` (events plus host marks, with the telemetry CSV of the same name next to it).

When: a session's date and time come from its own data: the start time in its header
(`started`, the board's clock in seconds since 1970 once a host has set it, null before; ISO text
and the names `start`, `start_time` are read too), or the wall-clock time in a `pacer log`
capture's start mark, else the date in a
`log-YYYYmmdd-HHMMSS` file name; otherwise the session is "undated". Never the file's
modification time (a pull gives every file the same one). Sessions are ordered by that time.

The same session pulled and logged is counted once (same board events). A file that cannot be
read (bad JSON, truncated, no session events) is named in one line and left out; the rest of
the report is still made. So is a test run (`pacer test`: the board's header says `injected`,
its samples came from the computer), which is no practice.

Output in --out: index.html (this week against last week, the practice calendar against the
plan, per-program trends, every session), calendar.png, progress-PROGRAM.png (one per program:
strength, hold, relax time, flick speed, resting tone, drops and pushes, tension episodes,
breathing minutes, as the program has them), one SESSION.png per session (the pressure trace
of a `pacer log` capture, else targets and rep peaks on the phase timeline), sessions.csv and
reps.csv.
"""
import array
import csv
import datetime
import html
import json
import os
import re
import sys

from host_tools.errors import CliError
from host_tools.files import out_dir

NAME = "report"
HELP = ("Dated per-program progress, a practice calendar against a plan and per-session plots "
        "as an HTML page with CSV export, from pulled sessions or `pacer log` captures.")
EXAMPLE = ("pacer report sessions/*.jsonl --out report/     (then open report/index.html)\n"
           "  pacer report sessions/*.jsonl --plan 1          (plan: one session a day)")

CONTRACT = ("squeeze", "flick", "max")
RELAX = ("release", "drop")
COLOURS = {"squeeze": "#f6c58f", "flick": "#f9d9a8", "max": "#f2a65a", "release": "#bcd9f0",
           "drop": "#d5e6f5", "push": "#d8c8ec", "baseline": "#e4e4e4", "inhale": "#d4efdf",
           "exhale": "#eaf6ef"}
# Rao et al. 2018 (home biofeedback for dyssynergia): two 20-minute sessions a day.
DEFAULT_PLAN = 2
# Header keys that may carry the session's wall-clock start (epoch seconds/ms or ISO text).
START_KEYS = ("started", "start", "start_time", "started_at")
# A clock before this was never set (MicroPython boards count from 2000 or 1970 after a reset).
EARLIEST = datetime.datetime(2020, 1, 1)
LOG_NAME = re.compile(r"log-(\d{8})-(\d{6})")
# Board events that make up a session: the same list in two files is the same session.
IDENTITY = ("zero", "phase", "rep", "drop", "calibration", "summary")
# where a session's start time came from, the most trustworthy first
DATED_BY = ("session", "log start mark", "file name", "undated")
BREATHS = ("inhale", "exhale", "hold", "hold_in", "hold_out")

# sessions.csv columns and what the HTML calls them
LABELS = {
    "session": "session", "program": "program", "kind": "kind", "date": "date and time",
    "dated_from": "date from", "minutes": "minutes", "completed": "completed",
    "reps": "reps", "achieved": "reps achieved", "strength_cmH2O": "best squeeze (cmH2O)",
    "mean_peak_cmH2O": "mean squeeze (cmH2O)", "mean_hold_s": "mean hold (s)",
    "mean_relax_s": "time to relax (s)", "mean_reach_s": "time to peak (s)",
    "pre_baseline_cmH2O": "resting tone at the start (cmH2O)",
    "post_baseline_cmH2O": "rest reading at the end, probe warm-up included (cmH2O)",
    "rest_tone_change_cmH2O": "resting tone change, warm-up taken out (cmH2O)",
    "rest_end_cmH2O": "resting tone at the end, warm-up taken out (cmH2O)",
    "drops": "drops", "drops_achieved": "drops achieved", "mean_drop_cmH2O": "mean drop (cmH2O)",
    "paradoxical": "tightened instead", "pushes": "pushes",
    "pushes_coordinated": "coordinated pushes", "tension_episodes": "tension episodes",
    "breathing_min": "paced breathing (min)", "drops_pct": "drops let go (%)",
    "pushes_pct": "coordinated pushes (%)", "grade": "grade", "alarms": "alarms",
    "file": "file"}


def add_arguments(p):
    p.add_argument("sessions", nargs="+", metavar="SESSION", help="session .jsonl files")
    p.add_argument("--out", default="report", metavar="DIR", help="default ./report")
    p.add_argument("--plan", type=_plan, default=DEFAULT_PLAN, metavar="N",
                   help="planned sessions a day for the calendar (default %d: two a day, as in "
                        "Rao's home biofeedback protocol)" % DEFAULT_PLAN)


def _plan(text):
    import argparse
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 10:
        raise argparse.ArgumentTypeError("%r: give whole sessions a day, 1 to 10" % text)
    return n


class BadSession(CliError):
    """A file the report leaves out, with the one-line reason."""


def _when(v):
    """A plausible wall-clock datetime (local, naive) from epoch seconds/ms or ISO text."""
    dt = None
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        secs = v / 1000 if v > 1e11 else v
        try:
            dt = datetime.datetime.fromtimestamp(secs)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(v, str):
        try:
            dt = datetime.datetime.fromisoformat(v.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if dt.tzinfo is not None:
            dt = dt.astimezone().replace(tzinfo=None)
    if dt is None or dt < EARLIEST:
        return None
    return dt


def board_trace(rec):
    """A `trace` record's pressures in cmH2O (pacer_app.trace: int16 little-endian tenths, in
    hex), or None if it is damaged."""
    try:
        raw = bytes.fromhex(rec.get("p", ""))
    except (ValueError, TypeError):
        return None
    if len(raw) % 2:
        return None
    vals = array.array("h", raw)
    if sys.byteorder != "little":
        vals.byteswap()
    return [v / 10.0 for v in vals]


class Session:
    def __init__(self, path):
        self.path = path
        self.name = os.path.splitext(os.path.basename(path))[0]
        self.header = {}
        self.events = []
        self.frames = []        # (t_ms, pressure, target)
        self.frames_from = None  # "log": the telemetry CSV; "board": the log's own trace
        self._read()
        self.start, self.dated_from = self._start()
        self.also = []          # other files holding the same session

    def _read(self):
        try:
            with open(self.path, encoding="utf-8-sig") as f:
                lines = f.readlines()
        except FileNotFoundError:
            raise BadSession("not found")
        except IsADirectoryError:
            raise BadSession("is a folder, not a session file")
        except (OSError, UnicodeDecodeError) as e:
            raise BadSession("cannot read it (%s)" % e)
        for n, line in enumerate(lines, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                raise BadSession("line %d is not JSON (%s)" % (
                    n, "the file is cut short" if n == len(lines) else
                    "give files from `pacer sessions pull` or `pacer log`"))
            if not isinstance(rec, dict):
                raise BadSession("line %d is not a JSON object" % n)
            if "type" not in rec and "program" in rec and not self.events:
                self.header = rec
            elif isinstance(rec.get("type"), str) and isinstance(rec.get("t_ms", 0), int):
                if rec["type"] == "host" and rec.get("what") == "started":
                    self.header.setdefault("program", rec.get("program"))
                    if rec.get("injected"):
                        self.header["injected"] = True
                self.events.append(rec)
        if not any(e.get("type") in ("phase", "rep", "summary") for e in self.events):
            raise BadSession("holds no session events (phase, rep, summary)")
        if self.header.get("injected"):
            raise BadSession("a test run: its samples came from the computer (`pacer test`), "
                             "not from a person practising")
        sm = self.of("summary")
        if sm and not self.header.get("program"):
            self.header["program"] = sm[-1].get("program")
        csv_path = os.path.splitext(self.path)[0] + ".csv"
        if os.path.exists(csv_path):
            self._read_csv(csv_path)
            self.frames_from = "log"
        if not self.frames:
            self._read_trace()

    def _read_csv(self, path):
        name = os.path.basename(path)
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f)
            head = next(rows, None)
            if not head or "t_ms" not in head or "pressure_cmH2O" not in head:
                raise BadSession("its %s is not a `pacer log` telemetry CSV (no t_ms, "
                                 "pressure_cmH2O columns)" % name)
            it, ip, ig, istep = (head.index("t_ms"), head.index("pressure_cmH2O"),
                                 head.index("target_cmH2O"), head.index("step"))
            for n, r in enumerate(rows, 2):
                if len(r) != len(head):
                    raise BadSession("%s line %d has %d fields, expected %d (truncated?)"
                                     % (name, n, len(r), len(head)))
                if not r[it]:
                    continue      # a gap mark
                try:
                    if int(r[istep]) < 0:
                        continue  # idle frames: no session
                    self.frames.append((int(r[it]), float(r[ip]), float(r[ig])))
                except ValueError:
                    raise BadSession("%s line %d: bad number" % (name, n))

    def _read_trace(self):
        """The curve from the board's own thinned trace (pacer_app.trace: one `trace` record
        per step, values in tenths of cmH2O at the middle of each dt_ms) when no telemetry
        CSV came with the session; the target is the step's rep target, if it had one."""
        targets = {e.get("step"): e.get("target_cmH2O") for e in self.of("rep")}
        for rec in self.of("trace"):
            vals, dt, t0 = board_trace(rec), rec.get("dt_ms"), rec.get("t_ms")
            if vals is None or not isinstance(dt, int) or dt <= 0:
                continue
            target = targets.get(rec.get("step")) or 0.0
            for i, v in enumerate(vals):
                self.frames.append((t0 + i * dt + dt // 2, v, target))
        self.frames.sort(key=lambda f: f[0])
        self.frames_from = "board" if self.frames else None

    def _start(self):
        for k in START_KEYS:
            dt = _when(self.header.get(k))
            if dt:
                return dt, "session"
        for e in self.events:
            if e.get("type") == "host" and e.get("what") == "start":
                dt = _when(e.get("wall"))
                if dt:
                    return dt, "log start mark"
        m = LOG_NAME.search(self.name)
        if m:
            try:
                return (datetime.datetime.strptime(m.group(1) + m.group(2), "%Y%m%d%H%M%S"),
                        "file name")
            except ValueError:
                pass
        return None, "undated"

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

    def identity(self):
        return json.dumps([e for e in self.events if e.get("type") in IDENTITY],
                          sort_keys=True)

    @property
    def kind(self):
        """What the session trains: reps, drops (let go / push), breathing or calibration."""
        # the maximal holds of a calibration are reps too, but what it trains is nothing
        if [e for e in self.of("rep") if e.get("kind") != "max"]:
            return "reps"
        if self.of("calibration") or self.program == "calibrate":
            return "calibration"
        if self.of("rep") or (self.summary().get("reps") or 0) > 0:
            return "reps"
        muscles = {e.get("muscle") for e in self.of("phase")}
        if self.of("drop") or muscles & {"drop", "push"}:
            return "drops"
        if any(e.get("breath") in BREATHS for e in self.of("phase")):
            return "breathing"
        return "other"

    def breathing_ms(self):
        """Time spent in paced breathing phases, cut at the session's end."""
        end = self.summary().get("duration_ms")
        total = 0
        for e in self.of("phase"):
            if e.get("breath") in BREATHS:
                d = e.get("duration_ms") or 0
                if end is not None:
                    d = max(0, min(d, end - e["t_ms"]))
                total += d
        return total

    def when_text(self):
        return self.start.strftime("%Y-%m-%d %H:%M") if self.start else "undated"


def _phases(s):
    out = []
    for e in s.of("phase"):
        kind = "baseline" if e.get("role") == "baseline" else e.get("muscle")
        if kind == "rest" and e.get("breath") in ("inhale", "exhale"):
            kind = e.get("breath")      # paced breathing with the floor at rest
        out.append((e["t_ms"] / 1000, e.get("duration_ms", 0) / 1000, kind))
    return out


def _mean(xs):
    return round(sum(xs) / len(xs), 2) if xs else None


def metrics(s):
    reps = s.of("rep")
    base = s.baseline() or 0.0
    peaks = [r["peak_cmH2O"] - base for r in reps if r.get("peak_cmH2O") is not None
             and "missed" not in (r.get("flags") or [])]
    held = [r["held_ms"] / 1000 for r in reps if r.get("held_ms")]
    relax = [r["relax_ms"] / 1000 for r in reps if r.get("relax_ms") is not None]
    reach = [r["reach_ms"] / 1000 for r in reps if r.get("reach_ms") is not None]
    sm = s.summary()
    drops = [d for d in s.of("drop") if d.get("kind", "drop") == "drop"]
    pushes = [d for d in s.of("drop") if d.get("kind") == "push"]
    pre, post = sm.get("pre_baseline_cmH2O"), sm.get("post_baseline_cmH2O")
    # the device's own change, with the probe's warm-up taken out; None when it could not tell
    # the two apart. post - pre would count a warming probe (2-4 cmH2O over the first minutes)
    # as a floor that tightened.
    change = sm.get("rest_tone_change_cmH2O")
    tension = sm.get("tension_episodes")
    if tension is None:
        tension = sum(1 for a in s.of("alarm") if a.get("kind") == "tension")
    kind = s.kind
    is_reps = kind == "reps"
    paradox = sm.get("paradoxical")
    if paradox is None and s.of("drop"):
        paradox = sum(1 for d in s.of("drop") if "paradoxical" in (d.get("flags") or []))
    m = {"session": s.name, "program": s.program, "kind": kind, "date": s.when_text(),
         "dated_from": s.dated_from,
         "minutes": round((sm.get("duration_ms") or 0) / 60000, 1) if sm else None,
         "completed": sm.get("completed"),
         "reps": len(reps) if is_reps else None,
         "achieved": sum(1 for r in reps if r.get("achieved")) if is_reps else None,
         "strength_cmH2O": round(max(peaks), 2) if peaks else None,
         "mean_peak_cmH2O": _mean(peaks), "mean_hold_s": _mean(held),
         "mean_relax_s": _mean(relax), "mean_reach_s": _mean(reach),
         "pre_baseline_cmH2O": pre, "post_baseline_cmH2O": post,
         "rest_tone_change_cmH2O": change,
         "rest_end_cmH2O": (round(pre + change, 2)
                            if pre is not None and change is not None else None),
         "drops": sm.get("drops", len(drops)) if s.of("drop") or "drops" in sm else None,
         "drops_achieved": (sm.get("drops_achieved",
                                   sum(1 for d in drops if d.get("achieved")))
                            if s.of("drop") or "drops_achieved" in sm else None),
         "mean_drop_cmH2O": _mean([d["drop_cmH2O"] for d in drops
                                   if isinstance(d.get("drop_cmH2O"), (int, float))]),
         "paradoxical": paradox,
         "pushes": sm.get("pushes", len(pushes)) if pushes or "pushes" in sm else None,
         "pushes_coordinated": (sm.get("pushes_coordinated",
                                       sum(1 for d in pushes
                                           if d.get("pattern") == "coordinated"))
                                if pushes or "pushes_coordinated" in sm else None),
         "tension_episodes": tension,
         "drops_pct": None, "pushes_pct": None,
         "breathing_min": round(s.breathing_ms() / 60000, 1) if kind != "calibration"
         else None,
         "grade": sm.get("grade"), "alarms": len(s.of("alarm")),
         "file": os.path.basename(s.path)}
    if m["drops"]:
        m["drops_pct"] = round(100 * (m["drops_achieved"] or 0) / m["drops"])
    if m["pushes"]:
        m["pushes_pct"] = round(100 * (m["pushes_coordinated"] or 0) / m["pushes"])
    return m


# ---- per-session plot ------------------------------------------------------------------------

def session_title(s):
    """One line saying what this session was; no rep count where there were no reps."""
    sm = s.summary()
    head = "%s  %s: %s" % (s.when_text(), s.name, s.program)
    if not sm:
        return head + "   (no summary: interrupted)"
    early = "" if sm.get("completed") else "  (stopped early)"
    kind = s.kind
    if kind == "reps":
        nr = sm.get("reps_not_relaxed") or 0
        relax = ("%d reps not relaxed" % nr if nr and nr >= (sm.get("reps") or 0)
                 else "mean relax %.1f s" % ((sm.get("mean_relax_ms") or 0) / 1000))
        return head + "   %s of %s reps achieved, mean hold %.1f s, %s%s" % (
            sm.get("reps_achieved"), sm.get("reps"), (sm.get("mean_held_ms") or 0) / 1000,
            relax, early)
    if kind == "calibration":
        cal = s.of("calibration")
        c = cal[-1] if cal else {}
        return head + "   calibration: rest %s cmH2O, maximum squeeze %s cmH2O%s" % (
            c.get("baseline_cmH2O", "?"), c.get("mvc_cmH2O", "?"), early)
    if kind == "drops":
        m = metrics(s)
        if m["drops"] is not None:
            return head + "   %s of %s drops let go, mean drop %s cmH2O%s" % (
                m["drops_achieved"], m["drops"], m["mean_drop_cmH2O"], early)
        return head + "   relaxation, %.1f min%s" % ((sm.get("duration_ms") or 0) / 60000, early)
    if kind == "breathing":
        return head + "   paced breathing %.1f min%s" % (s.breathing_ms() / 60000, early)
    return head + early


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
    targets = s.kind == "reps"
    if s.frames:
        t = [f[0] / 1000 for f in s.frames]
        ax.plot(t, [f[1] for f in s.frames], color="#1f4e99", lw=1.1,
                label="pressure" if s.frames_from == "log" else "pressure (board's trace)")
        if targets:
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
        if targets:
            ax.plot([], [], color="#c0392b", ls="--", label="target")
        ax.text(0.01, 0.02, "no pressure samples in this file: %s (`pacer log` captures the "
                "trace)" % ("targets and rep peaks shown" if targets else "phases shown"),
                transform=ax.transAxes, fontsize=8, va="bottom", color="#555")
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
    for d in s.of("drop"):
        y = d.get("level_cmH2O")
        if not isinstance(y, (int, float)):
            continue
        ok = d.get("achieved")
        p = ph.get(d.get("step"))      # the event comes after the step: mark the step itself
        x = (p["t_ms"] + p.get("duration_ms", 0) / 2) / 1000 if p else d["t_ms"] / 1000
        rest = d.get("rest_cmH2O")
        if p and isinstance(rest, (int, float)):    # the resting level it is measured from
            ax.hlines(rest, p["t_ms"] / 1000, (p["t_ms"] + p.get("duration_ms", 0)) / 1000,
                      color="#555", lw=1.5)
        ax.plot([x], [y], marker="v" if ok else "^", ms=8,
                color="#1e8449" if ok else "#c0392b", mec="white", mew=1, zorder=5)
    marks = s.of("alarm") + [f for f in s.of("fault") if f.get("active")]
    few = len(marks) <= 8
    for a in marks:
        colour = "#c0392b" if a.get("type") == "alarm" else "#7d3c98"
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
    ax.set_title(session_title(s), fontsize=10, loc="left")
    ax.set_xlabel("time in session (s)")
    ax.set_ylabel("pressure (cmH2O)")
    ax.grid(True, alpha=0.25)
    handles, _ = ax.get_legend_handles_labels()
    shown = {k for _, _, k in _phases(s)}
    handles += [Patch(color=COLOURS[k], label=k) for k in ("squeeze", "flick", "max", "release",
                                                           "drop", "push", "inhale", "exhale",
                                                           "baseline")
                if k in shown]
    if reps:
        handles += [Line2D([], [], marker="o", ls="", color="#1e8449", label="rep achieved"),
                    Line2D([], [], marker="X", ls="", color="#c0392b", label="rep missed")]
    if s.of("drop"):
        handles += [Line2D([], [], color="#555", lw=1.5, label="rest before the drop"),
                    Line2D([], [], marker="v", ls="", color="#1e8449", label="let go"),
                    Line2D([], [], marker="^", ls="", color="#c0392b", label="did not let go")]
    if counts:
        handles.append(Line2D([], [], color="#c0392b", label="alarms: " + ", ".join(
            "%s x%d" % kv for kv in sorted(counts.items()))))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8,
              ncol=min(len(handles), 9), frameon=False, handlelength=1.6, columnspacing=1.2)
    lo, hi = ax.get_ylim()
    ax.set_ylim(min(lo, 0), hi + (hi - lo) * 0.08)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---- progress per program ----------------------------------------------------------------------

# (title, unit, [(column, colour, legend)], note) panels; a panel is drawn when a session of the
# program has one of its numbers.
PANELS = (
    ("strength: squeeze above rest", "cmH2O",
     [("strength_cmH2O", "#1f4e99", "best"), ("mean_peak_cmH2O", "#7fa7d9", "mean")], ""),
    ("hold time (mean)", "s", [("mean_hold_s", "#1e8449", "hold")], "higher is better"),
    ("time to relax after a squeeze (mean)", "s", [("mean_relax_s", "#8e44ad", "relax")],
     "lower is better"),
    ("speed: time to peak (mean)", "s", [("mean_reach_s", "#d35400", "to peak")],
     "lower is faster"),
    ("resting tone", "cmH2O", [("pre_baseline_cmH2O", "#7f8c8d", "at the start"),
                               ("rest_end_cmH2O", "#e67e22", "at the end, warm-up out")],
     "lower at the end = let go"),
    ("drops: how far the floor let go", "cmH2O", [("mean_drop_cmH2O", "#2e86c1", "mean drop")],
     "higher is better"),
    ("drops let go and coordinated pushes", "% of them",
     [("drops_pct", "#1e8449", "drops let go"), ("pushes_pct", "#2e86c1", "coordinated pushes")],
     "higher is better"),
    ("tightened instead of letting go", "count", [("paradoxical", "#c0392b", "times")],
     "lower is better"),
    ("tension episodes", "count", [("tension_episodes", "#c0392b", "episodes")],
     "lower is better"),
    ("paced breathing", "min", [("breathing_min", "#16a085", "minutes")], ""),
)


def _panels_for(rows):
    out = []
    breathing = any(r["kind"] == "breathing" for r in rows)
    for title, unit, keys, note in PANELS:
        if keys[0][0] == "breathing_min" and not breathing:
            continue    # fixed by the program unless it is a breathing one
        shown = [k for k in keys if any(r.get(k[0]) not in (None, 0) for r in rows)]
        if shown:
            out.append((title, unit, shown, note, len(keys) > 1))
    return out


def plot_program(program, rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    panels = _panels_for(rows)
    if not panels:
        return False
    dated = all(r["_start"] is not None for r in rows)
    x = [r["_start"] for r in rows] if dated else list(range(1, len(rows) + 1))
    cols = min(3, len(panels))
    nrows = (len(panels) + cols - 1) // cols
    fig, axs = plt.subplots(nrows, cols, figsize=(4.6 * cols, 3.3 * nrows + 0.6), dpi=100,
                            squeeze=False)
    for ax, (title, unit, keys, note, legend) in zip([a for row in axs for a in row], panels):
        for k, c, lab in keys:
            ys = [r[k] if r[k] is not None else float("nan") for r in rows]
            ax.plot(x, ys, marker="o", ms=4, lw=1.2, color=c, label=lab)
        ax.set_title(title + ("\n(%s)" % note if note else ""), fontsize=10)
        ax.set_ylabel(unit)
        ax.grid(True, alpha=0.3)
        if legend:
            ax.legend(fontsize=8)
        if dated:
            ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=6))
            ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
        else:
            ax.set_xlabel("session (undated: in file order)")
        lo, hi = ax.get_ylim()
        if lo > 0 and unit != "cmH2O":
            ax.set_ylim(0, hi)
    for ax in [a for row in axs for a in row][len(panels):]:
        ax.axis("off")
    first, last = rows[0]["date"], rows[-1]["date"]
    fig.suptitle("%s: %d session%s, %s to %s" % (program, len(rows), "s" * (len(rows) != 1),
                                                  first[:10], last[:10]), fontsize=12)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


# ---- calendar and weeks ------------------------------------------------------------------------

def practice_days(rows):
    """{date: (sessions, minutes, breathing minutes)} of the dated sessions."""
    days = {}
    for r in rows:
        if r["_start"] is None:
            continue
        d = r["_start"].date()
        n, m, b = days.get(d, (0, 0.0, 0.0))
        days[d] = (n + 1, m + (r["minutes"] or 0), b + (r["breathing_min"] or 0))
    return days


def plot_calendar(days, plan, path):
    """A month-style grid: one row per week (Monday first), each day coloured by sessions done
    against the plan."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    first, last = min(days), max(days)
    start = first - datetime.timedelta(days=first.weekday())
    weeks = (last - start).days // 7 + 1
    fig, ax = plt.subplots(figsize=(8.5, 0.75 * weeks + 1.6), dpi=100)
    for i in range(weeks * 7):
        d = start + datetime.timedelta(days=i)
        row, col = i // 7, i % 7
        n, minutes, _b = days.get(d, (0, 0.0, 0.0))
        inside = first <= d <= last
        colour = ("#ffffff" if not inside else "#f4d6d2" if n == 0 else
                  "#fbe8a6" if n < plan else "#a9dfbf")
        ax.add_patch(Rectangle((col, -row), 0.94, 0.9, color=colour, ec="#bbb", lw=0.8))
        ax.text(col + 0.06, -row + 0.78, d.strftime("%d %b") if d.day == 1 or i == 0
                else str(d.day), fontsize=7, va="top", color="#555")
        if inside:
            ax.text(col + 0.47, -row + 0.33, "%d/%d" % (n, plan), fontsize=11, ha="center",
                    va="center", weight="bold" if n >= plan else "normal")
            if minutes:
                ax.text(col + 0.47, -row + 0.1, "%.0f min" % minutes, fontsize=7, ha="center",
                        color="#555")
    for c, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")):
        ax.text(c + 0.47, 1.05, name, ha="center", fontsize=9)
    ax.set_xlim(-0.1, 7)
    ax.set_ylim(-weeks + 0.8, 1.35)
    ax.axis("off")
    done = sum(n for n, _, _ in days.values())
    span = (last - first).days + 1
    ax.set_title("practice days %s to %s: %d sessions of %d planned (%d a day), %d of %d days "
                 "practised" % (first.strftime("%d %b"), last.strftime("%d %b %Y"), done,
                                plan * span, plan, len(days), span), fontsize=10)
    ax.legend(handles=[Patch(color="#a9dfbf", label="plan met"),
                       Patch(color="#fbe8a6", label="some practice"),
                       Patch(color="#f4d6d2", label="no practice")],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def weeks_compared(rows, plan):
    """[(what, last week, this week)] for the week of the latest dated session and the one
    before it (Monday to Sunday), or [] when nothing is dated."""
    dated = [r for r in rows if r["_start"] is not None]
    if not dated:
        return []
    last_day = max(r["_start"].date() for r in dated)
    this_monday = last_day - datetime.timedelta(days=last_day.weekday())
    prev_monday = this_monday - datetime.timedelta(days=7)

    def week(monday):
        return [r for r in dated if monday <= r["_start"].date() < monday
                + datetime.timedelta(days=7)]

    a, b = week(prev_monday), week(this_monday)
    days_b = (last_day - this_monday).days + 1

    def mean(rs, k):
        v = [r[k] for r in rs if r[k] is not None]
        return round(sum(v) / len(v), 1) if v else None

    out = [("week", "%s to %s" % (prev_monday.strftime("%d %b"),
                                  (prev_monday + datetime.timedelta(days=6)).strftime("%d %b")),
            "%s to %s" % (this_monday.strftime("%d %b"), last_day.strftime("%d %b"))),
           ("sessions (plan)", "%d (%d)" % (len(a), plan * 7), "%d (%d so far)"
            % (len(b), plan * days_b)),
           ("days practised", "%d of 7" % len({r["_start"].date() for r in a}),
            "%d of %d" % (len({r["_start"].date() for r in b}), days_b)),
           ("minutes trained", "%.0f" % sum(r["minutes"] or 0 for r in a),
            "%.0f" % sum(r["minutes"] or 0 for r in b)),
           ("paced breathing (min)", "%.0f" % sum(r["breathing_min"] or 0 for r in a),
            "%.0f" % sum(r["breathing_min"] or 0 for r in b))]
    for program in sorted({r["program"] for r in a + b}):
        pa = [r for r in a if r["program"] == program]
        pb = [r for r in b if r["program"] == program]
        for k in ("strength_cmH2O", "mean_hold_s", "mean_relax_s", "mean_reach_s",
                  "mean_drop_cmH2O", "tension_episodes", "rest_tone_change_cmH2O"):
            va, vb = mean(pa, k), mean(pb, k)
            if va is not None or vb is not None:
                out.append(("%s: %s" % (program, LABELS[k]), "-" if va is None else str(va),
                            "-" if vb is None else str(vb)))
    return out


# ---- the command -------------------------------------------------------------------------------

def load(paths):
    """(sessions in time order, [(path, reason)] skipped, [(kept, [duplicate names])])."""
    sessions, skipped = [], []
    for p in paths:
        try:
            sessions.append(Session(p))
        except BadSession as e:
            skipped.append((p, str(e)))
    kept, seen = [], {}
    for s in sessions:
        twin = seen.get(s.identity())
        if twin is not None and (twin.start is None or s.start is None
                                 or abs((twin.start - s.start).total_seconds()) < 600):
            # keep the one with the densest pressure curve: telemetry, else the board's trace
            rank = (None, "board", "log")
            keep, drop = ((s, twin) if rank.index(s.frames_from) > rank.index(twin.frames_from)
                          else (twin, s))
            keep.also = twin.also + [drop.name]
            if DATED_BY.index(drop.dated_from) < DATED_BY.index(keep.dated_from):
                keep.start, keep.dated_from = drop.start, drop.dated_from
            kept[kept.index(twin)] = keep
            seen[s.identity()] = keep
            continue
        seen[s.identity()] = s
        kept.append(s)
    undated_order = {s.path: i for i, s in enumerate(kept)}
    kept.sort(key=lambda s: (s.start is None, s.start or datetime.datetime.min,
                             undated_order[s.path]))
    return kept, skipped


def run(args):
    out_dir(args.out)
    sessions, skipped = load(args.sessions)
    if not sessions:
        path, why = skipped[0]
        if len(skipped) == 1:
            raise CliError("%s: %s" % (path, why))
        raise CliError("none of the %d files is a readable session (%s: %s, ...)"
                       % (len(skipped), path, why))
    for path, why in skipped:
        print("pacer report: skipped %s: %s" % (path, why), file=sys.stderr)
    rows, pngs, names = [], [], set()
    for s in sessions:
        name = s.name
        k = 2
        while name in names:
            name = "%s-%d" % (s.name, k)
            k += 1
        names.add(name)
        png = name + ".png"
        plot_session(s, os.path.join(args.out, png))
        pngs.append((s, png))
        m = metrics(s)
        m["_start"] = s.start
        rows.append(m)
    public = [k for k in rows[0] if not k.startswith("_")]
    with open(os.path.join(args.out, "sessions.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=public, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    keys = ["session", "date", "program", "index", "kind", "t_ms", "target_cmH2O", "peak_cmH2O",
            "achieved", "held_ms", "relax_ms", "reach_ms", "flags"]
    with open(os.path.join(args.out, "reps.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(keys)
        for s in sessions:
            for r in s.of("rep"):
                w.writerow([s.name, s.when_text(), s.program]
                           + [";".join(r.get(k) or []) if k == "flags" else r.get(k)
                              for k in keys[3:]])
    programs = []
    for program in sorted({r["program"] for r in rows}):
        prow = [r for r in rows if r["program"] == program]
        png = "progress-%s.png" % re.sub(r"[^A-Za-z0-9_-]", "_", program)
        drawn = len(prow) > 1 and plot_program(program, prow, os.path.join(args.out, png))
        programs.append((program, prow, png if drawn else None))
    days = practice_days(rows)
    calendar = None
    if days:
        calendar = "calendar.png"
        plot_calendar(days, args.plan, os.path.join(args.out, calendar))
    page = os.path.join(args.out, "index.html")
    with open(page, "w", encoding="utf-8") as f:
        f.write(_html(rows, pngs, programs, calendar, weeks_compared(rows, args.plan),
                      skipped, sessions, args.plan))
    dup = sum(len(s.also) for s in sessions)
    undated = sum(1 for s in sessions if s.start is None)
    print("report: %d session%s (%d program%s%s%s), %s, sessions.csv, reps.csv"
          % (len(sessions), "s" * (len(sessions) != 1), len(programs),
             "s" * (len(programs) != 1),
             ", %d undated" % undated if undated else "",
             ", %d duplicate file%s counted once" % (dup, "s" * (dup != 1)) if dup else "",
             page))
    return 0


# columns the HTML shows per kind of session
SHOWN = {
    "reps": ("date", "minutes", "completed", "reps", "achieved", "strength_cmH2O",
             "mean_hold_s", "mean_relax_s", "mean_reach_s", "pre_baseline_cmH2O",
             "rest_end_cmH2O", "tension_episodes", "grade", "alarms"),
    "drops": ("date", "minutes", "completed", "drops", "drops_achieved", "drops_pct",
              "mean_drop_cmH2O", "paradoxical", "pushes", "pushes_coordinated", "pushes_pct",
              "pre_baseline_cmH2O",
              "rest_end_cmH2O", "rest_tone_change_cmH2O", "tension_episodes",
              "breathing_min", "grade"),
    "breathing": ("date", "minutes", "completed", "breathing_min", "pre_baseline_cmH2O",
                  "rest_end_cmH2O", "tension_episodes", "grade"),
    "calibration": ("date", "minutes", "completed", "pre_baseline_cmH2O"),
    "other": ("date", "minutes", "completed", "pre_baseline_cmH2O", "rest_end_cmH2O"),
}


def _cell(v):
    if v is None:
        return ""
    if v is True:
        return "yes"
    if v is False:
        return "no"
    return str(v)


def _html(rows, pngs, programs, calendar, weeks, skipped, sessions, plan):
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>pacer report</title>",
           "<style>body{font-family:sans-serif;max-width:1250px;margin:auto;padding:1em;"
           "color:#222}img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse;"
           "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
           "th{background:#f3f3f3;text-align:left}.note{color:#666;font-size:13px}</style>"
           "</head><body>", "<h1>pacer training report</h1>"]
    dated = [r for r in rows if r["_start"] is not None]
    span = ("%s to %s" % (dated[0]["date"][:10], dated[-1]["date"][:10]) if dated
            else "no dated sessions")
    out.append("<p>%d session%s, %s. Plan: %d session%s a day.</p>"
               % (len(rows), "s" * (len(rows) != 1), e(span), plan, "s" * (plan != 1)))
    notes = []
    undated = len(rows) - len(dated)
    if undated:
        notes.append("%d session%s carry no start time (taken before the board's clock was "
                     "set): listed after the dated ones, marked undated, left out of the "
                     "calendar." % (undated, "s" * (undated != 1)))
    for s in sessions:
        if s.also:
            notes.append("%s is the same session as %s: counted once."
                         % (e(s.name), e(", ".join(s.also))))
    for path, why in skipped:
        notes.append("Skipped %s: %s." % (e(path), e(why)))
    if notes:
        out.append("<ul class='note'>%s</ul>" % "".join("<li>%s</li>" % n for n in notes))
    if weeks:
        out.append("<h2>This week against last week</h2><table><tr><th></th><th>last week</th>"
                   "<th>this week</th></tr>")
        for what, a, b in weeks:
            out.append("<tr><th>%s</th><td>%s</td><td>%s</td></tr>" % (e(what), e(str(a)),
                                                                        e(str(b))))
        out.append("</table>")
    if calendar:
        out.append("<h2>Practice calendar</h2><img src='%s' alt='practice calendar'>"
                   % e(calendar))
    out.append("<h2>Progress by program</h2>")
    for program, prow, png in programs:
        kind = prow[0]["kind"]
        out.append("<h3>%s</h3>" % e(program))
        if png:
            out.append("<img src='%s' alt='progress of %s'>" % (e(png), e(program)))
        cols = SHOWN.get(kind, SHOWN["other"])
        cols = [c for c in cols if any(r.get(c) is not None for r in prow)]
        out.append("<table><tr><th>%s</th>%s</tr>" % (
            e(LABELS["session"]), "".join("<th>%s</th>" % e(LABELS[c]) for c in cols)))
        for r in prow:
            out.append("<tr><td><a href='#%s'>%s</a></td>%s</tr>" % (
                e(r["session"]), e(r["session"]),
                "".join("<td>%s</td>" % e(_cell(r.get(c))) for c in cols)))
        out.append("</table>")
    out.append("<p>Numbers: <a href='sessions.csv'>sessions.csv</a>, "
               "<a href='reps.csv'>reps.csv</a></p><h2>Sessions</h2>")
    for s, png in pngs:
        out.append("<h3 id='%s'>%s: %s (%s)</h3><img src='%s' alt='%s'>"
                   % (e(s.name), e(s.when_text()), e(s.name), e(s.program), e(png), e(s.name)))
    out.append("</body></html>\n")
    return "\n".join(out)
