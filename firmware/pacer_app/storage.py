"""Flash storage: config, per-user calibration, custom programs and session logs.

The filesystem module and the root directory are passed in (`Store(os, "/")`), so host tests run
the same code on a temp dir (CPython) and on the MicroPython VM's filesystem; on the board it is
the littlefs root. Files under root:

    config.json          settings that differ from their defaults, one JSON object
    config.bak           the previous good config.json: the fallback when config.json is unreadable
    cal/<user>.json      {"mvc_cp": int, "t": seconds since 1970 or null}, and cal/<user>.bak
                         (the engine takes each session's rest baseline afresh, so only the
                         maximum squeeze is kept; "t" is null when no host had set the clock)
    programs/<name>.json custom program specs (the caller validates them with pacer.program.build)
    sessions/NNNNN.log   one log per session, records "<json text>*<crc16 hex>\\n"
    sessions/next.json   {"next": N}: the next session id, and sessions/next.bak. Ids never
                         repeat on a board, even after every log was deleted, so a session
                         copied to a computer is never mistaken for a later one of the same id

Durability (littlefs: rename over a file is atomic, an interrupted write can leave an empty or
partial file, ENOSPC can come from write or from close):
- A file is replaced by writing NAME.tmp, renaming the current good NAME.json to NAME.bak, then
  renaming NAME.tmp to NAME.json. At every instant NAME.json or NAME.bak is a good copy, and a
  power cut leaves either the old or the new content. (Renaming instead of copying to .bak gives
  the same guarantee with one flash write fewer.) Not safe on FAT, where rename is not atomic.
- Log records carry a CRC-16, so a torn or corrupted record is detected and skipped on reading;
  each session is its own file, so later writes never touch earlier sessions.
- Every method catches OSError and degrades: it returns False, None or a list of error lines and
  adds a line to `warnings`. A full flash stops the session log (`logging` turns False) and never
  raises into the exercise loop. Only user errors raise (ValueError from config_get).

Log writes are batched: append() only buffers (bounded), flush() writes the batch with one
open/append/close. The app calls both at phase boundaries, because a flash write stalls
interrupts on rp2.
"""
import json

from pacer.program import is_name
from pacer_app.clock import EPOCH_MAX, EPOCH_MIN
from pacer_app.config import APP_FIELDS, READ_ONLY, config_text, show, validate
from pacer_app.protocol import CP_LIMIT, MAX_ID
from pacer_app.record import MAX_RECORD, SessionReader, check_record, oserr, record
from pacer_hw._compat import const

_MAX_WARNINGS = const(16)
_TAIL = const(2048)         # a summary is the last record and shorter than this
_SMALL_FILE = const(4096)   # config, calibration and program files are far smaller


class Store:
    def __init__(self, os_module, root="/", opener=None, min_free=64 * 1024, max_sessions=200,
                 max_pending=32):
        self.os = os_module
        self.root = root.rstrip("/")
        self._open = opener or open   # tests pass a wrapper to inject ENOSPC and power cuts
        self.min_free = min_free
        self.max_sessions = max_sessions
        self.max_pending = max_pending
        self.warnings = []
        self.config = None
        self.session = None           # id of the open session log
        self.logging = False          # False once a write failed: the rest of the session is lost
        self.dropped = 0              # records not logged in this session
        self._pending = []
        self._summary = {}            # id -> (size, has_summary): a listing reads changed logs only
        self._next = 0                # next session id as stored in sessions/next.json, 0: unread

    # -- helpers --------------------------------------------------------------------------

    def _p(self, *parts):
        return self.root + "/" + "/".join(parts)

    def warn(self, msg):
        w = self.warnings
        w.append(msg)
        if len(w) > _MAX_WARNINGS:
            w.pop(0)

    def _mkdir(self, name):
        try:
            self.os.mkdir(self._p(name))
        except OSError:
            pass  # exists; a real failure shows up at the write

    def _remove(self, path):
        try:
            self.os.remove(path)
            return True
        except OSError:
            return False

    def _size(self, path):
        try:
            return self.os.stat(path)[6]
        except OSError:
            return -1

    def _read(self, path, limit, offset=0):
        try:
            f = self._open(path, "rb")
        except OSError:
            return None
        try:
            # read(n) takes an n-byte buffer from the heap before it reads: ask for what the file
            # holds (at most limit), so that a small file never needs a free run of limit bytes
            # in a fragmented heap (a 4 KB one failed on the RP2040 with `.mpy` code in RAM)
            n = f.seek(0, 2) - offset
            f.seek(offset)
            return f.read(limit if n > limit else (n if n > 0 else 0))
        except OSError:
            return None
        finally:
            try:
                f.close()
            except OSError:
                pass

    def _write(self, path, chunks, mode="wb"):
        """One open, the writes, one close. Returns None, or what went wrong."""
        try:
            f = self._open(path, mode)
        except OSError as e:
            return oserr(e)
        err = None
        try:
            for d in chunks:
                n = f.write(d)
                if n is not None and n < len(d):
                    err = "short write (%d of %d bytes)" % (n, len(d))
                    break
        except OSError as e:
            err = oserr(e)
        try:
            f.close()  # littlefs commits here, so ENOSPC may only show now
        except OSError as e:
            if err is None:
                err = oserr(e)
        return err

    def _load_json(self, path):
        data = self._read(path, _SMALL_FILE)
        if not data:
            return None
        try:
            v = json.loads(str(data, "utf-8"))
        except ValueError:
            return None
        return v if isinstance(v, dict) else None

    def _replace(self, base, text, keep_bak):
        """Make base.json hold text, old or new after a power cut at any point. None or an error."""
        path = base + ".json"
        tmp = base + ".tmp"
        err = self._write(tmp, (text.encode(),))
        if err:
            self._remove(tmp)
            return err
        try:
            if keep_bak and self._load_json(path) is not None:
                self.os.rename(path, base + ".bak")
            self.os.rename(tmp, path)
        except OSError as e:  # littlefs can run out of space for the rename's metadata too
            self._remove(tmp)
            return oserr(e)
        return None

    def _load_with_bak(self, base, what):
        """(dict, warnings) from base.json, else base.bak, else (None, warnings)."""
        v = self._load_json(base + ".json")
        if v is not None:
            return v, []
        there = self._size(base + ".json") >= 0
        warnings = ["%s.json %s" % (what, "unreadable (empty, truncated or not JSON)" if there
                                    else "missing")]
        v = self._load_json(base + ".bak")
        if v is not None:
            warnings.append("%s: using the last good copy %s.bak" % (what, what))
            return v, warnings
        if there or self._size(base + ".bak") >= 0:
            warnings.append("%s: no good copy, using defaults" % what)
            return None, warnings
        return None, []  # nothing saved yet: defaults are expected, not a problem

    # -- config ---------------------------------------------------------------------------

    def load_config(self):
        """Read config.json (else config.bak, else defaults). Returns (values, warnings)."""
        raw, warnings = self._load_with_bak(self._p("config"), "config")
        if raw is not None:
            raw.pop("board", None)
        clean, errors = validate(raw if raw is not None else {})
        for e in errors:
            warnings.append("config: %s; default used" % e)
        for w in warnings:
            self.warn(w)
        self.config = clean
        return clean, warnings

    def save_config(self, values):
        """Validate and store a whole config (missing fields take their defaults).
        Returns [] when saved, else the error lines (nothing is written if any field is bad)."""
        clean, errors = validate(values)
        if errors:
            return errors
        err = self._replace(self._p("config"), config_text(clean), True)
        if err:
            msg = "config not saved: %s" % err
            self.warn(msg)
            return [msg]
        self.config = clean
        return []

    def _loaded(self):
        cfg = self.config
        return self.load_config()[0] if cfg is None else cfg

    def config_get(self, key=None):
        """One setting, or a copy of all of them. Raises ValueError for an unknown key."""
        cfg = self._loaded()
        if key is None:
            return dict(cfg)
        if key not in cfg:
            raise ValueError("unknown setting %s; settings are: %s"
                             % (show(key), ", ".join(sorted(cfg))))
        return cfg[key]

    def config_set(self, key, value):
        """Change one setting and save. Returns [] when saved, else the error lines."""
        cfg = self._loaded()
        if key == "board":
            return [READ_ONLY]
        if key not in cfg:
            return ["%s: unknown setting; settings are: %s" % (show(key), ", ".join(sorted(cfg)))]
        new = dict(cfg)
        new[key] = value
        return self.save_config(new)

    # -- calibration ----------------------------------------------------------------------

    def save_cal(self, user, mvc_cp, t):
        """Store a user's calibration: the maximum squeeze and when (seconds since 1970, None
        if unknown). Returns [] when saved, else the error lines."""
        errors = []
        if not is_name(user, APP_FIELDS["user"][3]):
            errors.append("user: must be 1 to 16 characters of a-z 0-9 - _, got %s" % show(user))
        if not _whole_in(mvc_cp, 1, CP_LIMIT) or not (t is None or _cal_t(t)):
            errors.append("calibration out of range: mvc_cp %s, t %s" % (show(mvc_cp), show(t)))
        if errors:
            return errors
        self._mkdir("cal")
        err = self._replace(self._p("cal", user), '{"mvc_cp": %d, "t": %s}\n'
                            % (mvc_cp, "null" if t is None else "%d" % t), True)
        if err:
            msg = "calibration not saved: %s" % err
            self.warn(msg)
            return [msg]
        return []

    def load_cal(self, user):
        """{"mvc_cp", "t"} for the user, or None if missing or corrupt. A "t" that is no date
        (older builds stored milliseconds into the session) reads as None."""
        if not is_name(user, APP_FIELDS["user"][3]):
            return None
        base = self._p("cal", user)
        for path in (base + ".json", base + ".bak"):
            d = self._load_json(path)
            if d is not None and _whole_in(d.get("mvc_cp"), 1, CP_LIMIT):
                t = d.get("t")
                return {"mvc_cp": d["mvc_cp"], "t": t if _cal_t(t) else None}
        return None

    def cal_users(self):
        """The users with a calibration file, sorted (a lost .json with its .bak left counts)."""
        try:
            names = self.os.listdir(self._p("cal"))
        except OSError:
            return []
        out = []
        for n in names:
            u = n[:n.rfind(".")]
            if (n.endswith(".json") or n.endswith(".bak")) and u not in out \
                    and is_name(u, APP_FIELDS["user"][3]):
                out.append(u)
        out.sort()
        return out

    # -- custom programs ------------------------------------------------------------------

    def save_program(self, name, spec):
        """Store a (validated) program spec as programs/NAME.json. [] or the error lines."""
        if not is_name(name, 24):
            return ["name: must be 1 to 24 characters of a-z 0-9 - _, got %s" % show(name)]
        self._mkdir("programs")
        err = self._replace(self._p("programs", name), json.dumps(spec) + "\n", False)
        if err:
            msg = "program %s not saved: %s" % (name, err)
            self.warn(msg)
            return [msg]
        return []

    def load_program(self, name):
        """The stored spec dict, or None."""
        if not is_name(name, 24):
            return None
        return self._load_json(self._p("programs", name + ".json"))

    def program_names(self):
        try:
            names = self.os.listdir(self._p("programs"))
        except OSError:
            return []
        out = [n[:-5] for n in names if n.endswith(".json") and is_name(n[:-5], 24)]
        out.sort()
        return out

    def delete_program(self, name):
        return is_name(name, 24) and self._remove(self._p("programs", name + ".json"))

    # -- session logs ---------------------------------------------------------------------

    def _spath(self, sid):
        return self._p("sessions", "%05d.log" % sid)

    def _session_ids(self):
        try:
            names = self.os.listdir(self._p("sessions"))
        except OSError:
            return []
        ids = []
        for n in names:
            if len(n) == 9 and n.endswith(".log") and n[:5].isdigit():
                ids.append(int(n[:5]))
        ids.sort()
        return ids

    def free_bytes(self):
        """Free space for new data, or -1 if the filesystem cannot tell."""
        try:
            st = self.os.statvfs(self.root or "/")
            return st[1] * st[4]  # f_frsize * f_bavail
        except (OSError, AttributeError):
            return -1

    def rotate(self):
        """Delete the oldest sessions until free space and count leave room for one more.
        Returns how many were deleted."""
        ids = [i for i in self._session_ids() if i != self.session]
        n = 0
        while ids:
            free = self.free_bytes()
            if len(ids) < self.max_sessions and (free < 0 or free >= self.min_free):
                break
            if not self._remove(self._spath(ids[0])):
                self.warn("could not delete session %d to make room" % ids[0])
                break
            ids.pop(0)
            n += 1
        if n:
            self.warn("deleted the %d oldest session(s) to make room" % n)
        return n

    def begin_session(self, header):
        """Start a new log (ending any open one) with header (dict or JSON text) as its first
        record. Returns the session id, or None if nothing can be logged."""
        if self.session is not None:
            self.end_session()
        self._mkdir("sessions")
        self.rotate()
        sid = self._take_id()
        self.dropped = 0
        del self._pending[:]
        if sid is None:
            self.logging = False
            return None
        self.session = sid
        self.logging = True
        self.append(header if isinstance(header, str) else json.dumps(header))
        return sid if self.flush() else None

    def _take_id(self):
        """The next session id, stored as used before its log is created: a power cut between
        the two skips an id but never hands one out twice. None if it cannot be stored."""
        nxt = self._next
        if not nxt:
            d, _ = self._load_with_bak(self._p("sessions", "next"), "sessions/next")
            v = d.get("next") if d is not None else 1
            nxt = v if isinstance(v, int) and 0 < v <= MAX_ID + 1 else 1
        ids = self._session_ids()
        if ids and ids[-1] >= nxt:   # logs from before the counter existed, or a lost counter
            nxt = ids[-1] + 1
        if nxt > MAX_ID:
            self.warn("session ids used up: no more sessions are logged")
            return None
        err = self._replace(self._p("sessions", "next"), '{"next": %d}\n' % (nxt + 1), True)
        if err:
            self.warn("session not logged: id counter %s" % err)
            return None
        self._next = nxt + 1
        return nxt

    def append(self, line):
        """Buffer one record (an event JSON line). Returns False if it will not be logged."""
        if not self.logging:
            self.dropped += 1
            return False
        if len(self._pending) >= self.max_pending:
            self.flush()  # the app appends at phase boundaries, so writing here is still safe
            if not self.logging:
                self.dropped += 1
                return False
        rec = record(line)
        if len(rec) > MAX_RECORD:
            self.dropped += 1
            self.warn("session %d: a %d-byte record was too long to log"
                       % (self.session, len(rec)))
            return False
        self._pending.append(rec)
        return True

    def flush(self):
        """Write the buffered records with one open/append/close. False if logging stopped."""
        pending = self._pending
        if not pending:
            return self.logging
        if not self.logging:
            self.dropped += len(pending)
            del pending[:]
            return False
        err = self._write(self._spath(self.session), pending, "ab")
        if err:
            self.logging = False
            self.dropped += len(pending)
            self.warn("session %d: logging stopped, %s (%d bytes free)"
                       % (self.session, err, self.free_bytes()))
        del pending[:]
        return err is None

    def end_session(self):
        """Flush and close the log. Returns its id (None if none was open)."""
        self.flush()
        sid = self.session
        self.session = None
        self.logging = False
        return sid

    def sessions(self):
        """[(id, size_bytes, has_summary)] oldest first."""
        out = []
        known = {}
        for sid in self._session_ids():
            path = self._spath(sid)
            size = self._size(path)
            hit = self._summary.get(sid)
            has = hit[1] if hit is not None and hit[0] == size else self._has_summary(path, size)
            known[sid] = (size, has)
            out.append((sid, size, has))
        self._summary = known
        return out

    def _has_summary(self, path, size):
        tail = self._read(path, _TAIL, size - _TAIL if size > _TAIL else 0)
        if tail is None:
            return False
        for line in tail.split(b"\n"):
            if b'"type": "summary"' in line or b'"type":"summary"' in line:
                if check_record(line) is not None:
                    return True
        return False

    def read_session(self, sid):
        """A SessionReader over the session's valid records, or None if there is no such log."""
        try:
            f = self._open(self._spath(sid), "rb")
        except OSError:
            return None
        return SessionReader(f)

    def delete_session(self, sid):
        """False if it does not exist, is being written, or cannot be removed."""
        if sid == self.session:
            return False
        return self._remove(self._spath(sid))


def _whole_in(v, lo, hi):
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _cal_t(t):
    return _whole_in(t, EPOCH_MIN, EPOCH_MAX)
