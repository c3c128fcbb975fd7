"""pacer log: live capture of telemetry frames and events to CSV and JSON lines.

Files (one pair per run, in --out):
    log-YYYYmmdd-HHMMSS.csv     one row per telemetry frame: host_s, seq, t_ms, pressure_cmH2O,
                                target_cmH2O, step, cue, abdominal_cmH2O, lost_before
    log-YYYYmmdd-HHMMSS.jsonl   every event as the board sent it, plus host marks:
                                {"type": "host", "what": "start"|"gap"|"reconnected"|"end", ...}
A gap (unplugged board, reset, silence) is a "gap" mark in the JSONL and an empty CSV row with
the reason; frames lost on the link are counted from the sequence numbers (lost_before).
`pacer report log-....jsonl` plots a capture with its pressure trace.
"""
import csv
import datetime
import json
import os
import sys
import time
from typing import Any

from host_tools import device
from host_tools.errors import CliError
from host_tools.files import out_dir
from pacer_app.telemetry import CUE_FAULT, CUE_MOTOR, CUE_PAUSED, CUE_REACHED, CUE_TENSION

NAME = "log"
HELP = ("Capture telemetry and events live to CSV + JSON lines with a one-line live view; "
        "reconnects after unplug/replug.")
EXAMPLE = "pacer log --out logs/ --start kegel        (Ctrl-C stops and closes the files)"

COLUMNS = ("host_s", "seq", "t_ms", "pressure_cmH2O", "target_cmH2O", "step", "cue",
           "abdominal_cmH2O", "lost_before")
SILENCE_S = 2.0


def add_arguments(p):
    p.add_argument("--port", help="serial port (default: found by USB vendor ID)")
    p.add_argument("--out", default="logs", metavar="DIR", help="where the files go (default logs)")
    p.add_argument("--start", metavar="PROGRAM", help="start this program once connected")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument("--until-done", action="store_true",
                   help="stop when the session ends (a summary event)")
    p.add_argument("--quiet", action="store_true", help="no live view")


def cue_text(cue):
    names = []
    for bit, n in ((CUE_MOTOR, "motor"), (CUE_REACHED, "reached"), (CUE_TENSION, "TENSION"),
                   (CUE_PAUSED, "paused"), (CUE_FAULT, "FAULT")):
        if cue & bit:
            names.append(n)
    return ",".join(names) or "-"


WIDTH = 79      # the status line on an 80-column terminal, one column left for the cursor


class View:
    """The live terminal view: one status line refreshed in place."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.tty = sys.stdout.isatty()
        self.phase: Any = None
        self.phase_end = 0
        self.frame: Any = None
        self.rep: Any = None
        self.alarm: Any = None
        self.last = 0.0
        self.frames = 0
        self.lost = 0

    def line(self):
        """The status line, at most WIDTH characters (an 80-column terminal, cursor included):
        phase and seconds left, pressure/target in cmH2O, cues, last rep, alarm, frames lost."""
        parts = []
        fr = self.frame
        t = fr[1] if fr else 0
        if self.phase:
            left = max(0, self.phase_end - t) / 1000
            parts.append("%-7.7s%4.0fs" % (self.phase.get("muscle", "?"), left))
        else:
            parts.append("idle       ")
        if fr:
            parts.append("%5.1f/%5.1f cmH2O" % (fr[2] / 100, fr[3] / 100))
            parts.append("%-9.9s" % cue_text(fr[5]))
        if self.rep:
            r = self.rep
            peak = r.get("peak_cmH2O")
            parts.append("rep %d %s %s" % (r.get("index", 0),
                                           "ok" if r.get("achieved") else "missed",
                                           "%.1f" % peak if isinstance(peak, (int, float))
                                           else "-"))
        if self.alarm:
            parts.append("ALARM %.8s" % self.alarm.get("kind"))
        parts.append("lost %d" % self.lost)
        return " | ".join(parts)[:WIDTH]

    def show(self, force=False):
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.last = now
        if self.tty:
            sys.stdout.write("\r\033[K" + self.line())
        else:
            sys.stdout.write(self.line() + "\n")
        sys.stdout.flush()

    def note(self, text):
        if self.quiet:
            return
        sys.stdout.write(("\r\033[K" if self.tty else "") + text + "\n")
        sys.stdout.flush()


class Capture:
    def __init__(self, out):
        os.makedirs(out, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = os.path.join(out, "log-" + stamp)
        n = 1
        while os.path.exists(base + ".csv"):
            n += 1
            base = os.path.join(out, "log-%s-%d" % (stamp, n))
        self.base = base
        self.csv_f = open(base + ".csv", "w", newline="")
        self.csv = csv.writer(self.csv_f)
        self.csv.writerow(COLUMNS)
        self.jsonl = open(base + ".jsonl", "w")
        self.t0 = time.monotonic()
        self.prev_seq = None
        self.frames = 0
        self.lost = 0
        self.events = 0
        self.gaps = 0

    def host_s(self):
        return round(time.monotonic() - self.t0, 3)

    def frame(self, fr):
        seq = fr[0]
        lost = 0 if self.prev_seq is None else device.lost_frames(self.prev_seq, seq)
        self.prev_seq = seq
        self.lost += lost
        self.frames += 1
        self.csv.writerow((self.host_s(), seq, fr[1], "%.2f" % (fr[2] / 100),
                           "%.2f" % (fr[3] / 100), fr[4], fr[5],
                           "" if fr[6] is None else "%.2f" % (fr[6] / 100), lost))

    def event(self, ev):
        self.events += 1
        self.jsonl.write(json.dumps(ev) + "\n")

    def mark(self, what, **kw):
        d = {"type": "host", "what": what, "host_s": self.host_s()}
        d.update(kw)
        self.jsonl.write(json.dumps(d) + "\n")
        if what == "gap":
            self.gaps += 1
            self.prev_seq = None   # the sequence restarts with the board: not a loss
            self.csv.writerow((self.host_s(), "", "", "", "", "", "", "",
                               "gap: " + kw.get("reason", "")))
        self.flush()

    def flush(self):
        self.csv_f.flush()
        self.jsonl.flush()

    def close(self):
        self.flush()
        self.csv_f.close()
        self.jsonl.close()


def _connect(port, cap, view):
    dev = device.Device.connect(port)
    dev.command("stream on")
    return dev


def identity(dev):
    """What tells this board from another on the same port: its profile and firmware version
    from hello, and its USB serial number (the chip's unique ID) when the port has one."""
    return {"board": dev.info.get("board"), "version": dev.info.get("version"),
            "usb_serial": device.usb_serial_number(dev.port)}


def run(args):
    out_dir(args.out)
    port = device.find_port(args.port)
    view = View(args.quiet)
    end = time.monotonic() + args.duration if args.duration else None
    dev = _connect(port, None, view)
    first = identity(dev)
    if args.start:
        r = dev.send("start " + args.start)
        if not r.get("ok"):    # before any file is created: a refused start leaves none
            dev.close()
            raise CliError("the board refused `start %s`: %s" % (args.start, r.get("error")))
    cap = Capture(args.out)                # files only once a board answers (and started)
    done = ended = False
    try:
        # wall-clock start: `pacer report` dates the capture by it
        cap.mark("start", port=port, board=dev.info.get("board"), version=dev.info.get("version"),
                 wall=datetime.datetime.now().astimezone().isoformat(timespec="seconds"))
        if args.start:
            cap.mark("started", program=args.start)
        view.note("logging %s to %s.{csv,jsonl}; Ctrl-C stops" % (port, cap.base))
        last_rx = time.monotonic()
        while not done and (end is None or time.monotonic() < end):
            try:
                lines = dev.read_lines()
            except device.ConnectionLost:
                cap.mark("gap", reason="port lost (unplugged?)")
                view.note("lost %s; waiting for the board to come back..." % port)
                dev.close()
                dev = None
                dev = _reconnect(port, cap, view, end, first)
                if dev is None:
                    break
                last_rx = time.monotonic()
                continue
            items = [dev.classify(line) for line in lines]
            if dev.pending:     # events that came with the replies to stream on / start
                items = dev.pending + items
                dev.pending = []
            now = time.monotonic()
            if lines:
                last_rx = now
            elif now - last_rx > SILENCE_S:
                # silent: the board reset or the stream was turned off; ask again
                cap.mark("gap", reason="no data for %.0f s" % (now - last_rx))
                try:
                    dev.write("")
                    dev.write("stream on")
                except CliError:
                    pass
                last_rx = now
            for kind, item in items:
                if kind == "frame":
                    cap.frame(item)
                    view.frame = item
                    view.frames = cap.frames
                    view.lost = cap.lost
                elif kind == "event":
                    cap.event(item)
                    t = item.get("type")
                    if t == "phase":
                        view.phase = item
                        view.phase_end = item.get("t_ms", 0) + item.get("duration_ms", 0)
                    elif t == "rep":
                        view.rep = item
                    elif t == "alarm":
                        view.alarm = item
                    elif t == "summary":
                        ended = True
                        view.phase = None
                        view.note("session ended: %s" % json.dumps(
                            {k: item.get(k) for k in ("program", "reps", "reps_achieved",
                                                      "completed") if k in item}))
                        if args.until_done:
                            done = True
                    elif t == "boot":
                        cap.mark("gap", reason="the board restarted")
                        view.note("the board restarted; asking for telemetry again")
                        dev.write("stream on")
            view.show()
    except KeyboardInterrupt:
        pass
    finally:
        if dev is not None:
            try:
                if args.start and not ended:
                    # --duration or Ctrl-C ended the log before the session it started: stop
                    # that session too, so the board is not left running it
                    dev.write("stop")
                    cap.mark("stopped", program=args.start)
                dev.write("stream off")
            except Exception:  # noqa: BLE001 - the port may be gone; the files matter more
                pass
            dev.close()
        cap.mark("end", frames=cap.frames, lost=cap.lost, events=cap.events)
        cap.close()
        view.show(force=True)
        view.note("")
        print("wrote %s.csv (%d frames, %d lost) and %s.jsonl (%d events, %d gaps)"
              % (cap.base, cap.frames, cap.lost, cap.base, cap.events, cap.gaps))
    return 0


def _who(ident):
    return ", ".join("%s %s" % (k, v) for k, v in ident.items() if v is not None) or "unknown"


def _reconnect(port, cap, view, end, first):
    while end is None or time.monotonic() < end:
        time.sleep(0.5)
        if not os.path.exists(port) and "://" not in port:
            continue
        try:
            dev = _connect(port, cap, view)
        except CliError:
            continue
        if identity(dev) != first:
            # another board took the port: its data must not join this capture
            now = identity(dev)
            dev.close()
            cap.mark("gap", reason="a different board is on the port", board=now)
            raise CliError("a different board (%s) is now on %s, not the one this log started "
                           "with (%s); stopped, the capture so far is kept in %s.csv/.jsonl"
                           % (_who(now), port, _who(first), cap.base))
        cap.mark("reconnected", port=port)
        view.note("reconnected to %s" % port)
        return dev
    return None
