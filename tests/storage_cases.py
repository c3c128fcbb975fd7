"""Storage scenarios in the Python subset that runs on CPython and inside the MicroPython VM.

Each case is case_NAME(osm, root): it works in a fresh directory `root` with the filesystem
module `osm` (CPython's os on a temp dir, or the VM's os on its in-memory FS) and raises
AssertionError on failure. Faults (power cuts, ENOSPC, low free space) come from Faults, which
wraps the os module and open() the way littlefs misbehaves.
"""
import errno
import json

from pacer_app import config, record
from pacer_app.storage import Store

# Raising only: storage never compares errno values. MicroPython's errno module has no
# ENOSPC (littlefs reports 28 on the board), hence the fallback.
ENOSPC = getattr(errno, "ENOSPC", 28)


class PowerCut(BaseException):
    """The board lost power: nothing after this step happens. Not an OSError, so storage
    cannot catch it, exactly like a real cut."""


def _read_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _put(path, data):
    with open(path, "wb") as f:
        f.write(data)


class Faults:
    """The os module and open() for Store, with injectable faults.

    cut_at=n: the n-th mutating step (open for writing, write, close, rename, remove, mkdir)
    loses power. A cut write leaves the first half of its data (a torn record); a cut close
    loses everything written since the open (littlefs commits at close), so a new file is empty.
    enospc="write", "close" or "rename": every write, close (of a file opened for writing) or
    rename raises ENOSPC; a failing close also loses the data since the open.
    free: bytes statvfs reports, or a callable returning them."""

    def __init__(self, osm, cut_at=0, enospc=None, free=None):
        self.os = osm
        self.cut_at = cut_at
        self.enospc = enospc
        self.free = free
        self.steps = 0
        self.cut = None

    def step(self, what):
        self.steps += 1
        if self.steps == self.cut_at:
            self.cut = what
            raise PowerCut(what)

    def listdir(self, p):
        return self.os.listdir(p)

    def stat(self, p):
        return self.os.stat(p)

    def mkdir(self, p):
        self.step("mkdir")
        self.os.mkdir(p)

    def remove(self, p):
        self.step("remove")
        self.os.remove(p)

    def rename(self, a, b):
        if self.enospc == "rename":
            raise OSError(ENOSPC)
        self.step("rename")
        self.os.rename(a, b)

    def statvfs(self, p):
        if self.free is None:
            return self.os.statvfs(p)
        free = self.free() if callable(self.free) else self.free
        return (4096, 4096, 512, free // 4096, free // 4096, 0, 0, 0, 0, 255)

    def open(self, path, mode="r"):
        if "r" in mode:
            return open(path, mode)
        before = _read_bytes(path) if "a" in mode else b""
        f = open(path, mode)
        try:
            self.step("open")
        except PowerCut:
            f.close()
            _put(path, before or b"")
            raise
        return FaultyFile(self, f, path, before or b"")


class FaultyFile:
    def __init__(self, faults, f, path, before):
        self.faults = faults
        self.f = f
        self.path = path
        self.before = before

    def _lose(self):
        self.f.close()
        _put(self.path, self.before)

    def write(self, data):
        if self.faults.enospc == "write":
            raise OSError(ENOSPC)
        try:
            self.faults.step("write")
        except PowerCut:
            self.f.write(data[:len(data) // 2])
            self.f.close()
            raise
        return self.f.write(data)

    def close(self):
        if self.faults.enospc == "close":
            self._lose()
            raise OSError(ENOSPC)
        try:
            self.faults.step("close")
        except PowerCut:
            self._lose()
            raise
        self.f.close()


def _mkroot(osm, root):
    try:
        osm.mkdir(root)
    except OSError:
        pass


# -- config ---------------------------------------------------------------------------------

T1 = 1796083200   # calibration dates: seconds since 1970
T2 = 1796169600

A = {"target_pct": 50, "vibration_pct": 30, "user": "anna", "loop_hz": 40}
B = {"target_pct": 60, "vibration_pct": 90, "user": "bob", "stream": True, "reach_s": 3.5}


def _expect(values, overrides):
    want = config.defaults()
    want.update(overrides)
    assert values == want, "got %r, want %r" % (values, want)


def case_defaults_when_nothing_is_stored(osm, root):
    st = Store(osm, root)
    values, warnings = st.load_config()
    assert values == config.defaults() and warnings == [], (values, warnings)
    assert values["user"] == "default" and values["program"] == "kegel"
    assert values["loop_hz"] == 50 and values["stream"] is False and "board" not in values


def case_bad_fields_fall_back_one_by_one(osm, root):
    _put(root + "/config.json", json.dumps({
        "loop_hz": 500, "target_pct": 55, "user": "Bad Name", "stream": "yes", "bogus": 1,
        "vibration_pct": 30, "hold_pct": -5, "board": "esp32",
    }).encode())
    values, warnings = Store(osm, root).load_config()
    # "board" (kept there by older builds; board.txt names the profile) is dropped quietly
    _expect(values, {"target_pct": 55, "vibration_pct": 30})
    text = "\n".join(warnings)
    for k in ("loop_hz", "user", "stream", "bogus", "hold_pct"):
        assert k in text, (k, warnings)
    assert len(warnings) == 5, warnings


def case_unreadable_config_falls_back_to_bak(osm, root):
    st = Store(osm, root)
    assert st.save_config(A) == []
    assert st.save_config(B) == []
    good = _read_bytes(root + "/config.json")
    for bad in (b"", good[:len(good) // 2], b"\xff\x00\x13garbage{", b"[1, 2]", b"null"):
        _put(root + "/config.json", bad)
        values, warnings = Store(osm, root).load_config()
        _expect(values, A)  # config.bak: the last good copy before B
        assert "config.bak" in "".join(warnings), warnings
    osm.remove(root + "/config.json")
    values, warnings = Store(osm, root).load_config()
    _expect(values, A)
    assert "missing" in warnings[0], warnings
    _put(root + "/config.bak", b"{\"target_")
    _put(root + "/config.json", b"")
    values, warnings = Store(osm, root).load_config()
    assert values == config.defaults() and "defaults" in warnings[-1], warnings
    # and a save from there works again
    st = Store(osm, root)
    st.load_config()
    assert st.save_config(B) == []
    _expect(Store(osm, root).load_config()[0], B)


def case_invalid_config_is_refused_and_nothing_written(osm, root):
    st = Store(osm, root)
    assert st.save_config(A) == []
    before = _read_bytes(root + "/config.json")
    errors = st.save_config({"loop_hz": 5, "target_pct": 50})
    assert len(errors) == 1 and "loop_hz" in errors[0], errors
    errors = st.save_config({"nonsense": 1})
    assert errors and "unknown" in errors[0], errors
    assert st.save_config("not a dict") != []
    assert _read_bytes(root + "/config.json") == before
    _expect(st.config, A)


def case_config_get_set(osm, root):
    st = Store(osm, root)
    assert st.config_get("loop_hz") == 50
    assert st.config_set("loop_hz", 25) == []
    assert st.config_set("vibration_pct", 101) != []
    assert st.config_set("loop_hz", True) != []
    assert st.config_set("nope", 1) != []
    assert st.config_get("loop_hz") == 25 and st.config_get("vibration_pct") == 70
    try:
        st.config_get("nope")
        raise AssertionError("unknown key accepted")
    except ValueError as e:
        assert "loop_hz" in str(e)
    st2 = Store(osm, root)
    assert st2.config_get("loop_hz") == 25
    assert st2.config_get()["loop_hz"] == 25
    # only changed settings are stored
    assert json.loads(_read_bytes(root + "/config.json")) == {"loop_hz": 25}


def _cut_each_step(osm, root, action, check):
    """Run action(store) with a power cut at step 1, 2, ... until it completes uncut; after
    each cut, check(root) on a fresh Store. Returns the list of cut steps."""
    cuts = []
    k = 1
    while True:
        d = "%s/%d" % (root, k)
        _mkroot(osm, d)
        st = Store(osm, d)
        setup = action(st, None)
        faults = Faults(osm, cut_at=k)
        st = Store(faults, d, opener=faults.open)
        st.load_config()
        try:
            action(st, setup)
        except PowerCut:
            cuts.append(faults.cut)
            check(d)
            k += 1
            continue
        check(d)
        return cuts


def case_power_cut_at_every_step_of_a_config_save(osm, root):
    def action(st, setup):
        if setup is None:  # before the faults: two saves, so config.bak exists too
            st.save_config(B)
            st.save_config(A)
            return True
        return st.save_config(B)

    seen = []

    def check(d):
        values, _ = Store(osm, d).load_config()
        want_a = config.defaults()
        want_a.update(A)
        want_b = config.defaults()
        want_b.update(B)
        assert values == want_a or values == want_b, values
        seen.append("A" if values == want_a else "B")

    cuts = _cut_each_step(osm, root, action, check)
    # open, write, close of config.tmp, then two renames
    assert cuts == ["open", "write", "close", "rename", "rename"], cuts
    assert seen == ["A", "A", "A", "A", "A", "B"], seen


def case_power_cut_during_calibration_save(osm, root):
    def action(st, setup):
        if setup is None:
            st.save_cal("anna", 2000, T1)
            return True
        return st.save_cal("anna", 3000, T2)

    seen = []

    def check(d):
        cal = Store(osm, d).load_cal("anna")
        assert cal in ({"mvc_cp": 2000, "t": T1}, {"mvc_cp": 3000, "t": T2}), cal
        seen.append(cal["t"])

    cuts = _cut_each_step(osm, root, action, check)
    assert cuts == ["mkdir", "open", "write", "close", "rename", "rename"], cuts
    assert seen == [T1, T1, T1, T1, T1, T1, T2], seen


def case_full_flash_refuses_config_save_keeps_old(osm, root):
    st = Store(osm, root)
    assert st.save_config(A) == []
    for where in ("write", "close", "rename"):
        faults = Faults(osm, enospc=where)
        st = Store(faults, root, opener=faults.open)
        st.load_config()
        errors = st.save_config(B)
        assert len(errors) == 1 and "not saved" in errors[0], errors
        _expect(st.config, A)
        _expect(Store(osm, root).load_config()[0], A)
        assert "config.tmp" not in osm.listdir(root), osm.listdir(root)


# -- calibration and programs ---------------------------------------------------------------

def case_calibration_round_trip(osm, root):
    st = Store(osm, root)
    assert st.load_cal("anna") is None
    assert st.save_cal("anna", 3500, T1) == []
    assert st.save_cal("bob", 1800, None) == []          # no clock set yet: no date
    assert Store(osm, root).load_cal("anna") == {"mvc_cp": 3500, "t": T1}
    assert json.loads(_read_bytes(root + "/cal/anna.json")) == {"mvc_cp": 3500, "t": T1}
    assert Store(osm, root).load_cal("bob") == {"mvc_cp": 1800, "t": None}
    assert st.save_cal("anna", 3600, T2) == []
    assert st.load_cal("anna")["t"] == T2
    # a corrupt file: the previous calibration from .bak; both corrupt: None
    _put(root + "/cal/anna.json", b"{\"mvc_cp\": 12")
    assert st.load_cal("anna") == {"mvc_cp": 3500, "t": T1}
    _put(root + "/cal/anna.bak", b"{\"mvc_cp\": 0, \"t\": 1}")
    assert st.load_cal("anna") is None
    # an older build's file: its baseline is ignored, its "t" (ms into a session) is no date
    _put(root + "/cal/old.json", b"{\"baseline_cp\": 150, \"mvc_cp\": 2500, \"t\": 61000}")
    assert st.load_cal("old") == {"mvc_cp": 2500, "t": None}
    assert st.save_cal("anna", 1000, 61000) != []         # t must be a date
    assert st.save_cal("anna", 0, T1) != []
    assert st.save_cal("../etc", 100, T1) != [] and st.load_cal("../etc") is None
    assert st.save_cal("anna", 1.5, T1) != []
    assert st.load_cal("bob")["mvc_cp"] == 1800
    # every user calibrated on the board, once each (anna has only her .bak left, "../etc"
    # never got a file)
    osm.remove(root + "/cal/anna.json")
    assert st.cal_users() == ["anna", "bob", "old"], st.cal_users()


def case_programs_round_trip(osm, root):
    st = Store(osm, root)
    assert st.program_names() == []
    spec = {"name": "mine", "blocks": [{"steps": [{"s": 5, "muscle": "squeeze"}]}]}
    assert st.save_program("mine", spec) == []
    assert st.save_program("Bad/Name", spec) != []
    assert st.program_names() == ["mine"]
    assert Store(osm, root).load_program("mine") == spec
    assert st.load_program("none") is None and st.load_program("../config") is None
    assert st.delete_program("mine") and not st.delete_program("mine")
    assert st.program_names() == []


# -- session logs ---------------------------------------------------------------------------

def _line(i, kind="phase"):
    return '{"t_ms": %d, "type": "%s", "step": %d}' % (i * 1000, kind, i)


def _log(st, n, summary=True, header=None):
    sid = st.begin_session(header or {"type": "session", "program": "kegel"})
    for i in range(n):
        st.append(_line(i))
        if i % 3 == 2:
            st.flush()  # the app flushes at phase boundaries
    if summary:
        st.append('{"t_ms": 99000, "type": "summary", "program": "kegel", "reps": %d}' % n)
    assert st.end_session() == sid
    return sid


def _records(st, sid):
    r = st.read_session(sid)
    return list(r), r


def case_session_append_and_read(osm, root):
    st = Store(osm, root)
    assert st.sessions() == []
    assert _log(st, 7) == 1
    assert _log(st, 2, summary=False, header='{"type": "session", "n": 2}') == 2
    recs, r = _records(st, 1)
    assert len(recs) == 9 and r.bad == 0 and r.torn == 0, (recs, r.bad, r.torn)
    assert json.loads(recs[0]) == {"type": "session", "program": "kegel"}
    assert recs[1:8] == [_line(i) for i in range(7)]
    assert json.loads(recs[-1])["type"] == "summary"
    lst = st.sessions()
    assert [(s[0], s[2]) for s in lst] == [(1, True), (2, False)], lst
    assert lst[0][1] == osm.stat(root + "/sessions/00001.log")[6]
    # every record is "<json>*<crc16>\n"
    raw = _read_bytes(root + "/sessions/00002.log").split(b"\n")
    assert raw[-1] == b"" and raw[0] == record.record('{"type": "session", "n": 2}')[:-1]
    # numbering survives a reboot, and gaps do not matter
    st2 = Store(osm, root)
    assert st2.delete_session(1) and not st2.delete_session(1)
    assert _log(st2, 1) == 3
    assert st2.read_session(1) is None
    assert [s[0] for s in st2.sessions()] == [2, 3]
    assert st.free_bytes() != 0


def case_session_list_follows_changes(osm, root):
    st = Store(osm, root)
    _log(st, 2)
    _log(st, 2, summary=False)
    assert [(s[0], s[2]) for s in st.sessions()] == [(1, True), (2, False)]
    assert st.delete_session(2)
    assert _log(st, 2) == 3   # the freed id is never handed out again
    assert [(s[0], s[2]) for s in st.sessions()] == [(1, True), (3, True)]
    path = root + "/sessions/00001.log"
    data = _read_bytes(path)
    _put(path, data[:data.rfind(b"{")])   # the summary record torn away
    assert [(s[0], s[2]) for s in st.sessions()] == [(1, False), (3, True)]


def case_ids_never_repeat_after_every_session_is_deleted(osm, root):
    st = Store(osm, root)
    for _ in range(3):
        _log(st, 1)
    for sid in (1, 2, 3):
        assert st.delete_session(sid)
    assert st.sessions() == []
    assert _log(st, 1) == 4
    # after a reboot too: the counter is on flash, not in memory
    assert _log(Store(osm, root), 1) == 5
    assert json.loads(_read_bytes(root + "/sessions/next.json")) == {"next": 6}
    # a lost counter (both copies unreadable) still never goes below the logs on the board
    osm.remove(root + "/sessions/next.json")
    osm.remove(root + "/sessions/next.bak")
    assert _log(Store(osm, root), 1) == 6


def case_power_cut_at_every_step_of_a_session_start(osm, root):
    used = []

    def action(st, setup):
        if setup is None:   # session 1 logged and deleted: 1 must never come back
            _log(st, 0, summary=False)
            st.delete_session(1)
            return True
        return st.begin_session("h")

    def check(d):
        st = Store(osm, d)
        ids = [s[0] for s in st.sessions()]
        sid = st.begin_session("h")
        st.end_session()
        assert sid is not None and sid >= 2 and sid not in ids, (sid, ids)
        used.append(sid)

    cuts = _cut_each_step(osm, root, action, check)
    assert cuts[-3:] == ["open", "write", "close"], cuts   # the header of the log itself
    assert "rename" in cuts, cuts                          # the counter's atomic replace
    # a cut before the counter is stored gives 2 after reboot; after it, 2 is skipped
    assert min(used) == 2 and max(used) <= 3, used


def case_records_with_newlines_stay_one_record(osm, root):
    st = Store(osm, root)
    st.begin_session("h")
    assert st.append('{"a": "x"}\n{"b": 2}\r')
    st.end_session()
    assert list(st.read_session(1)) == ["h", '{"a": "x"} {"b": 2} ']


def case_torn_last_record_is_dropped(osm, root):
    st = Store(osm, root)
    _log(st, 4, summary=False)
    path = root + "/sessions/00001.log"
    whole = _read_bytes(path)
    rec = record.record(_line(9))
    for cut in (1, len(rec) // 2, len(rec) - 3, len(rec) - 1):
        _put(path, whole + rec[:cut])
        recs, r = _records(st, 1)
        if cut == len(rec) - 1:  # only the newline was lost: the record is whole and valid
            assert len(recs) == 6 and r.torn == 0, (cut, recs)
        else:
            assert len(recs) == 5 and r.torn == 1 and r.bad == 0, (cut, recs, r.torn, r.bad)
    # a garbled but newline-terminated last record counts as torn too
    _put(path, whole + b"{\"t_ms\": 1*zzzz\n")
    recs, r = _records(st, 1)
    assert len(recs) == 5 and r.torn == 1 and r.bad == 0


def case_corrupted_middle_record_is_skipped(osm, root):
    st = Store(osm, root)
    _log(st, 6)
    path = root + "/sessions/00001.log"
    data = bytearray(_read_bytes(path))
    lines = bytes(data).split(b"\n")
    off = len(lines[0]) + 1 + len(lines[1]) + 1 + 5   # inside record 3 (phase step 1)
    data[off] ^= 0x01
    # and a long run of garbage without newline in the middle
    garbage = b"\xff" * 3000 + b"\n"
    cut = len(lines[0]) + 1 + len(lines[1]) + 1 + len(lines[2]) + 1 + len(lines[3]) + 1
    _put(path, bytes(data[:cut]) + garbage + bytes(data[cut:]))
    recs, r = _records(st, 1)
    assert r.bad == 2 and r.torn == 0, (r.bad, r.torn)
    assert recs[1] == _line(0) and _line(1) not in recs and recs[2] == _line(2), recs
    assert json.loads(recs[-1])["type"] == "summary" and len(recs) == 7
    assert st.sessions()[0][2] is True


def case_earlier_sessions_survive_a_cut_in_a_later_one(osm, root):
    st = Store(osm, root)
    _log(st, 5)
    first = _read_bytes(root + "/sessions/00001.log")
    # cut at the flush's open, first write, second write and close in turn
    for k, want, torn in ((1, [], 0), (2, [], 1), (3, [_line(1)], 1), (4, [], 0)):
        faults = Faults(osm)
        st = Store(faults, root, opener=faults.open)
        sid = st.begin_session({"type": "session"})
        st.append(_line(1))
        st.append(_line(2))
        faults.cut_at = faults.steps + k
        try:
            st.flush()
            raise AssertionError("no cut")
        except PowerCut:
            pass
        assert _read_bytes(root + "/sessions/00001.log") == first
        recs, r = _records(Store(osm, root), sid)
        assert recs == ['{"type": "session"}'] + want, (k, recs)
        assert r.bad == 0 and r.torn == torn, (k, r.torn)
    recs, r = _records(Store(osm, root), 1)
    assert len(recs) == 7 and r.bad == 0 and r.torn == 0
    st = Store(osm, root)
    assert _log(st, 1) == 6   # the cut logs keep their numbers


def case_rotation_when_free_space_is_low(osm, root):
    st = Store(osm, root)
    for _ in range(5):
        _log(st, 1)

    def free():  # each stored session "takes" 20 kB of a 130 kB flash
        logs = [n for n in osm.listdir(root + "/sessions") if n.endswith(".log")]
        return 130000 - 20000 * len(logs)

    faults = Faults(osm, free=free)
    st = Store(faults, root, opener=faults.open, min_free=64 * 1024)
    assert st.free_bytes() == free() // 4096 * 4096
    assert st.begin_session("h") == 6
    st.end_session()
    # 30 kB free with 5 stored: deleting 1 and 2 gives 70 kB >= 64 kB
    assert [s[0] for s in st.sessions()] == [3, 4, 5, 6]
    assert "deleted the 2 oldest" in st.warnings[-1], st.warnings
    # nothing to gain: when the flash stays full every session goes, then logging just fails
    faults.free = 0
    assert st.rotate() == 4 and st.sessions() == []


def case_rotation_by_count(osm, root):
    st = Store(osm, root, max_sessions=3)
    for _ in range(5):
        _log(st, 1)
    ids = [s[0] for s in st.sessions()]
    assert ids == [3, 4, 5], ids   # each begin_session made room for itself
    assert st.begin_session("h") == 6
    assert [s[0] for s in st.sessions()] == [4, 5, 6]
    # the open session is never rotated away
    st.max_sessions = 1
    assert st.rotate() == 2 and [s[0] for s in st.sessions()] == [6]
    assert not st.delete_session(6)
    st.end_session()


def case_full_flash_stops_logging_without_raising(osm, root):
    for where in ("write", "close"):
        d = root + "/" + where
        _mkroot(osm, d)
        faults = Faults(osm)
        st = Store(faults, d, opener=faults.open)
        sid = st.begin_session({"type": "session"})
        st.append(_line(0))
        assert st.flush() and st.logging
        faults.enospc = where
        st.append(_line(1))
        st.append(_line(2))
        assert st.flush() is False and st.logging is False
        assert "logging stopped" in st.warnings[-1], st.warnings
        assert st.append(_line(3)) is False
        assert st.flush() is False
        assert st.end_session() == sid
        assert st.dropped == 3, st.dropped
        faults.enospc = None
        recs, r = _records(Store(osm, d), sid)
        assert recs == ['{"type": "session"}', _line(0)], (where, recs)
        assert r.bad == 0, r.bad
        # the next session starts logging again once there is room
        assert st.begin_session("h") == sid + 1 and st.logging
        st.end_session()
        faults.enospc = where  # full from the start: no id, no exception
        assert st.begin_session("h") is None and not st.logging
        assert st.append("x") is False
        st.end_session()


def case_pending_records_are_bounded(osm, root):
    faults = Faults(osm)
    st = Store(faults, root, opener=faults.open, max_pending=4)
    st.begin_session("h")
    before = faults.steps
    for i in range(10):
        st.append(_line(i))
    assert len(st._pending) <= 4
    assert faults.steps > before   # full buffers were written, not grown
    st.end_session()
    assert len(list(st.read_session(1))) == 11
    assert not st.append("x") and st.flush() is False   # no session: nothing logged


def case_unusable_root_degrades_without_raising(osm, root):
    st = Store(osm, root + "/no/such/dir")
    values, _ = st.load_config()
    assert values == config.defaults()
    assert st.save_config(A) != []
    assert st.save_cal("anna", 100, T1) != [] and st.load_cal("anna") is None
    assert st.save_program("p", {"name": "p"}) != [] and st.program_names() == []
    assert st.begin_session("h") is None and st.append("x") is False
    st.end_session()
    assert st.sessions() == [] and st.read_session(1) is None and not st.delete_session(1)
    assert st.rotate() == 0
    assert len(st.warnings) <= 16


def case_crc16_is_ccitt_false(osm, root):
    assert record.crc16(b"123456789") == 0x29B1
    assert record.crc16(b"") == 0xFFFF
    rec = record.record("héllo")
    assert record.check_record(rec[:-1]) == "héllo"
    assert record.check_record(rec[:-2] + b"0") is None
    assert record.check_record(b"no star") is None and record.check_record(b"x*12345") is None


CASES = [name[5:] for name in sorted(globals()) if name.startswith("case_")]


def run(name, osm, root):
    _mkroot(osm, root)
    globals()["case_" + name](osm, root)
