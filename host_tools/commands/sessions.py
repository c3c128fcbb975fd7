"""pacer sessions: list, pull (as JSON lines) and delete the session logs stored on the board."""
import json
import os

from host_tools import device
from host_tools.errors import CliError
from host_tools.files import out_dir, write_atomic

NAME = "sessions"
HELP = "List, pull (one JSONL file per session) or delete the session logs on the board."
EXAMPLE = ("pacer sessions list\n  pacer sessions pull --out sessions/   (then: pacer report "
           "sessions/*.jsonl)\n  pacer sessions delete 3")


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list the stored sessions")
    pull = sub.add_parser("pull", help="copy sessions to DIR as session-NNNNN.jsonl")
    pull.add_argument("ids", nargs="*", type=int, metavar="ID", help="which (default: all)")
    pull.add_argument("--out", default="sessions", metavar="DIR", help="default ./sessions")
    rm = sub.add_parser("delete", help="delete sessions from the board")
    rm.add_argument("ids", nargs="+", type=int, metavar="ID")
    for s in (ls, pull, rm):
        s.add_argument("--port", help="serial port (default: found by USB vendor ID)")


def valid_record(rec, first):
    """A record worth keeping: the header first, then events with an int t_ms and a type."""
    if not isinstance(rec, dict):
        return False
    if first and "program" in rec and "type" not in rec:
        return True
    return isinstance(rec.get("t_ms"), int) and isinstance(rec.get("type"), str)


def pull(dev, sid, out):
    records = []
    r = dev.send("sessions get %d" % sid, timeout=10.0, records=records)
    if not r.get("ok"):
        raise CliError("session %d: %s" % (sid, r.get("error")))
    kept = [rec for i, rec in enumerate(records) if valid_record(rec, i == 0)]
    path = os.path.join(out, "session-%05d.jsonl" % sid)
    write_atomic(path, lambda f: f.writelines(json.dumps(rec) + "\n" for rec in kept))
    lost = r.get("records", len(records)) - len(records)
    return path, len(kept), r.get("bad", 0), r.get("torn", 0), lost


def run(args):
    if args.action == "pull":
        out_dir(args.out)               # before the board: a bad --out costs nothing
    with device.Device.connect(args.port) as dev:
        listing = dev.command("sessions list")["sessions"]
        ids = [s["id"] for s in listing]
        if args.action == "list":
            if not listing:
                print("no sessions on the board")
                return 0
            print("%6s %8s  %s" % ("id", "bytes", "complete"))
            for s in listing:
                print("%6d %8d  %s" % (s["id"], s["size"],
                                       "yes" if s["summary"] else "no (interrupted)"))
            return 0
        want = args.ids or ids
        missing = [i for i in want if i not in ids]
        if missing:
            raise CliError("no session %s on the board; `pacer sessions list` shows the ids"
                           % ", ".join(map(str, missing)))
        if args.action == "delete":
            for i in want:
                dev.command("sessions delete %d" % i)
            print("deleted %d session%s" % (len(want), "s" * (len(want) != 1)))
            return 0
        os.makedirs(args.out, exist_ok=True)
        for i in want:
            path, n, bad, torn, lost = pull(dev, i, args.out)
            notes = []
            if bad:
                notes.append("%d corrupted skipped" % bad)
            if torn:
                notes.append("last record torn")
            if lost:
                notes.append("%d lost in transfer" % lost)
            print("%s: %d records%s" % (path, n, " (" + ", ".join(notes) + ")" if notes else ""))
    return 0
