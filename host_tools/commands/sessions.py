"""pacer sessions: list, sync, pull (as JSON lines) and delete the session logs on the board.

History is append-only on the computer: a file already there is never overwritten by a
different session (session ids never repeat on a board, but two boards, or a board from before
ids were kept, can both have a session 1). Such a session is saved beside it as
session-NNNNN-2.jsonl. Every copy is checked twice: the board's digest of the records it sent
(the CRCs of its log records folded in order, pacer_app.record.fold) against the text that
arrived, and the file written against what was meant to be written.
"""
import hashlib
import json
import os

from host_tools import device
from host_tools.errors import CliError, NoBoard
from host_tools.files import out_dir, write_atomic

NAME = "sessions"
HELP = "List, sync, pull (one JSONL file per session) or delete the session logs on the board."
EXAMPLE = ("pacer sessions sync history/          (copies what is new, verified)\n"
           "  pacer sessions sync history/ --delete (and frees the board's flash)\n"
           "  pacer sessions list --json\n"
           "  pacer sessions pull 3 --out sessions/\n  pacer sessions delete 3")
_MAX_TWINS = 99


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list the stored sessions")
    ls.add_argument("--json", action="store_true", help="print the list as JSON")
    sync = sub.add_parser("sync", help="copy every session not yet in DIR, verified; "
                                       "never overwrites a file")
    sync.add_argument("dir", metavar="DIR", help="the history folder (created if missing)")
    sync.add_argument("--delete", action="store_true",
                      help="delete each session from the board once its copy is verified")
    pull = sub.add_parser("pull", help="copy sessions to DIR as session-NNNNN.jsonl; never "
                                       "overwrites a different file")
    pull.add_argument("ids", nargs="*", type=int, metavar="ID", help="which (default: all)")
    pull.add_argument("--out", default="sessions", metavar="DIR", help="default ./sessions")
    rm = sub.add_parser("delete", help="delete sessions from the board")
    rm.add_argument("ids", nargs="+", type=int, metavar="ID")
    for s in (ls, sync, pull, rm):
        s.add_argument("--port", help="serial port (default: $PACER_PORT, else found by USB "
                                      "vendor ID)")


def valid_record(rec, first):
    """A record worth keeping: the header first, then events with an int t_ms and a type."""
    if not isinstance(rec, dict):
        return False
    if first and "program" in rec and "type" not in rec:
        return True
    return isinstance(rec.get("t_ms"), int) and isinstance(rec.get("type"), str)


def digest(texts):
    """The board's transfer digest (pacer_app.record.fold) of record texts as received."""
    from pacer_app import record
    d = 0xFFFF
    for t in texts:
        d = record.fold(d, record.crc16(t.encode()))
    return d


class Fetched:
    """One session as read from the board: the JSONL text to store and what the board said."""

    def __init__(self, sid, text, kept, reply, verified):
        self.sid = sid
        self.text = text
        self.kept = kept
        self.bad = reply.get("bad", 0)
        self.torn = reply.get("torn", 0)
        self.verified = verified     # None: the firmware sends no digest


def fetch(dev, sid, tries=2):
    """Read a session; the transfer is checked against the board's digest and retried once."""
    why = ""
    for _ in range(tries):
        records = []
        raw = []
        r = dev.send("sessions get %d" % sid, timeout=10.0, records=records, raw=raw)
        if not r.get("ok"):
            raise CliError("session %d: %s" % (sid, r.get("error")))
        want = r.get("digest")
        if r.get("records", len(raw)) != len(raw):
            why = "%d of %d records arrived" % (len(raw), r.get("records"))
            continue
        if want is not None and digest(raw) != want:
            why = "the records that arrived do not match the board's digest"
            continue
        kept = [rec for i, rec in enumerate(records) if valid_record(rec, i == 0)]
        text = "".join(json.dumps(rec) + "\n" for rec in kept)
        return Fetched(sid, text, len(kept), r, want is not None)
    raise NoBoard("session %d: the copy failed twice (%s); check the USB cable and retry"
                   % (sid, why))


def _sha(data):
    return hashlib.sha256(data).hexdigest()


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise CliError("cannot read %s: %s" % (path, e.strerror or e)) from None


def save(out, got):
    """Store a fetched session in out without ever overwriting a different file. Returns
    (path, new): new False when an identical copy was already there."""
    data = got.text.encode()
    base = os.path.join(out, "session-%05d" % got.sid)
    for k in range(1, _MAX_TWINS + 1):
        path = base + (".jsonl" if k == 1 else "-%d.jsonl" % k)
        have = _read(path)
        if have is None:
            break
        if have == data:
            return path, False
    else:
        raise CliError("%s: %d different files named session-%05d already; move some away"
                       % (out, _MAX_TWINS, got.sid))
    try:
        write_atomic(path, lambda f: f.write(got.text))
    except OSError as e:
        raise CliError("cannot write %s: %s" % (path, e.strerror or e)) from None
    back = _read(path)
    if back is None or _sha(back) != _sha(data):
        raise CliError("%s reads back different from what was written; the disk is failing "
                       "or full, nothing was deleted from the board" % path)
    return path, True


def _mkdir(out):
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise CliError("cannot create %s: %s" % (out, e.strerror or e)) from None
    if not os.path.isdir(out):
        raise CliError("%s is not a folder" % out)


def _notes(got):
    notes = []
    if got.bad:
        notes.append("%d corrupted skipped" % got.bad)
    if got.torn:
        notes.append("last record torn")
    notes.append("verified" if got.verified else "unverified: old firmware, no digest")
    return " (" + ", ".join(notes) + ")"


def _open_session(dev):
    try:
        return dev.command("status").get("session")
    except CliError:
        return None


def run(args):
    if args.action == "pull":
        out_dir(args.out)               # before the board: a bad --out costs nothing
    with device.Device.connect(args.port) as dev:
        listing = dev.command("sessions list")["sessions"]
        ids = [s["id"] for s in listing]
        if args.action == "list":
            if args.json:
                print(json.dumps(listing))
                return 0
            if not listing:
                print("no sessions on the board")
                return 0
            print("%6s %8s  %s" % ("id", "bytes", "complete"))
            for s in listing:
                print("%6d %8d  %s" % (s["id"], s["size"],
                                       "yes" if s["summary"] else "no (interrupted)"))
            return 0
        if args.action == "sync":
            return sync(dev, ids, args.dir, args.delete)
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
        _mkdir(args.out)
        for i in want:
            got = fetch(dev, i)
            path, new = save(args.out, got)
            print("%s: %d records%s%s" % (path, got.kept, _notes(got),
                                          "" if new else ", already there"))
    return 0


def sync(dev, ids, out, delete):
    _mkdir(out)
    busy = _open_session(dev)
    new = same = deleted = 0
    for i in ids:
        if i == busy:
            print("session %d: being recorded now, left for the next sync" % i)
            continue
        got = fetch(dev, i)
        path, fresh = save(out, got)
        if fresh:
            new += 1
            print("%s: new, %d records%s" % (path, got.kept, _notes(got)))
        else:
            same += 1
        if delete and got.verified:
            dev.command("sessions delete %d" % i)
            deleted += 1
    print("synced %s: %d new, %d already there%s" % (
        out, new, same, ", %d deleted from the board" % deleted if delete else ""))
    return 0
