"""Progress from the sessions kept on the computer (`pacer sessions pull` files, and the ones
`pacer ui` saves after each session), read with `pacer report`'s parser and metrics
(host_tools/commands/report.py), plus the relaxation figures of drop steps when a session has
them (issue 11 events; older sessions simply lack them)."""
from __future__ import annotations

import csv
import glob
import io
import os

from host_tools.commands import report


def _mean(xs):
    xs = [x for x in xs if isinstance(x, (int, float)) and not isinstance(x, bool)]
    return round(sum(xs) / len(xs), 2) if xs else None


def row(s: report.Session) -> dict:
    """report.metrics (its resting-tone figures included) plus the day and the drop figures."""
    r = report.metrics(s)
    # the practice day, from the session's own start time (report dates sessions; never mtime)
    r["day"] = s.start.strftime("%Y-%m-%d") if s.start else "undated"
    drops = s.of("drop")
    r["drops"] = len([d for d in drops if d.get("kind") == "drop"])
    r["drops_achieved"] = len([d for d in drops if d.get("kind") == "drop" and d.get("achieved")])
    r["mean_relaxation_pct"] = _mean([d.get("relaxation_pct") for d in drops
                                      if d.get("kind") == "drop"])
    # None, not 0, for sessions without drop verdicts (older firmware, no drop steps)
    r["paradoxical"] = (len([d for d in drops if "paradoxical" in (d.get("flags") or [])])
                        if drops else None)
    r["tension_episodes"] = len([a for a in s.of("alarm") if a.get("kind") == "tension"])
    return r


def load(folder: str) -> tuple[list[dict], list[str]]:
    """(rows oldest first, one-line notes about files left out). As `pacer report` reads them:
    ordered by their own start time, a session pulled and logged counted once, test runs and
    unreadable files named and left out."""
    paths = sorted(glob.glob(os.path.join(folder, "*.jsonl")))
    sessions, skipped = report.load(paths)
    notes = ["%s %s" % (os.path.basename(p), why) for p, why in skipped]
    return [row(s) for s in sessions], notes


def summary(folder: str) -> dict:
    rows, notes = load(folder)
    programs: dict[str, list[dict]] = {}
    days: dict[str, int] = {}
    for r in rows:
        programs.setdefault(r["program"], []).append(r)
        days[r["day"]] = days.get(r["day"], 0) + 1
    return {"folder": os.path.abspath(folder), "sessions": rows, "notes": notes,
            "programs": {k: v for k, v in sorted(programs.items())}, "days": days}


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    if rows:
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out.getvalue()
