"""Protocol scenarios in the Python subset that runs on CPython and inside the MicroPython VM.

Each case_NAME() drives pacer_app.protocol with a fake device and raises AssertionError on
failure; test_protocol.py runs them on CPython one by one and all together in the VM.
"""
import json

from host_tools.frames import lost_frames, parse_frame
from pacer_app import protocol, telemetry
from pacer_app.protocol import Protocol
from pacer_app.telemetry import Telemetry

KEGEL = {"name": "mine", "blocks": [{"steps": [{"s": 5, "muscle": "rest", "role": "baseline"}]},
                                    {"reps": 3, "steps": [{"s": 5, "muscle": "squeeze"},
                                                          {"s": 5, "muscle": "release"}]}]}


class Records:
    """Like record.SessionReader: an iterator with bad/torn counts and close()."""

    def __init__(self, lines, fail_after=-1):
        self.lines = list(lines)
        self.i = 0
        self.bad = 1
        self.torn = 0
        self.closed = False
        self.fail_after = fail_after
        self.error = None

    def __iter__(self):
        return self

    def __next__(self):
        if self.i == self.fail_after:
            raise OSError(5)
        if self.i >= len(self.lines):
            raise StopIteration
        self.i += 1
        return self.lines[self.i - 1]

    def close(self):
        self.closed = True


class FakeDevice:
    def __init__(self):
        self.calls = []
        self.cfg = {"loop_hz": 50, "vibration_pct": 70, "stream": False}
        self.progs = {"kegel": {"name": "kegel", "blocks": []}}
        self.logs = {1: ['{"type": "session"}', '{"t_ms": 0, "type": "phase"}'] * 10,
                     2: ['{"type": "session"}']}
        self.readers = []
        self.injected = []
        self.fail_read = -1

    def status(self):
        return {"state": "idle", "version": "0.1.0", "board": "pico", "ratio": float("nan"),
                "big": float("inf"), "ok": "not this", "cmd": "nor this"}

    def programs(self):
        return sorted(self.progs)

    def _prog(self, name):
        if name not in self.progs:
            raise ValueError("no program %s; `programs list` shows them" % name)

    def program_show(self, name):
        self._prog(name)
        return self.progs[name]

    def program_push(self, spec):
        self.progs[spec["name"]] = spec

    def program_delete(self, name):
        self._prog(name)
        del self.progs[name]

    def start(self, name):
        self._prog(name)
        self.calls.append(("start", name))

    def pause(self):
        self.calls.append(("pause",))

    def resume(self):
        raise ZeroDivisionError("a device bug")

    def stop(self):
        self.calls.append(("stop",))
        return {"state": "done"}

    def calibrate(self):
        self.calls.append(("calibrate",))
        return "calibrating"

    def config_get(self, key):
        if key is None:
            return dict(self.cfg)
        if key not in self.cfg:
            raise ValueError("unknown setting %s" % key)
        return self.cfg[key]

    def config_set(self, key, value):
        if key not in self.cfg:
            raise ValueError("unknown setting %s" % key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 100:
            raise ValueError("%s: must be a whole number from 0 to 100" % key)
        self.cfg[key] = value

    def sessions(self):
        return [(1, 120, True), (2, 80, False)]

    def session_records(self, sid):
        if sid not in self.logs:
            return None
        r = Records(self.logs[sid], self.fail_read)
        self.readers.append(r)
        return r

    def session_delete(self, sid):
        if sid not in self.logs:
            raise ValueError("no session %d" % sid)
        del self.logs[sid]

    def clock_set(self, epoch):
        self.epoch = epoch

    def set_stream(self, on):
        self.calls.append(("stream", on))

    def set_inject(self, on):
        self.calls.append(("inject", on))

    def inject(self, t, p, abd):
        self.injected.append((t, p, abd))


def _finite(v, text):
    """No NaN or infinity anywhere (CPython's json.loads would accept them)."""
    if isinstance(v, float):
        assert v == v and v - v == 0, text
    elif isinstance(v, dict):
        for k in v:
            _finite(v[k], text)
    elif isinstance(v, list):
        for x in v:
            _finite(x, text)


class Host:
    """Feeds bytes to a Protocol and returns what came back, checking every line's shape."""

    def __init__(self, device=None):
        self.dev = device or FakeDevice()
        self.out = []
        self.p = Protocol(self.dev, self.out.append)

    def send(self, data, chunk=0):
        if isinstance(data, str):
            data = data.encode()
        start = len(self.out)
        if chunk:
            for i in range(0, len(data), chunk):
                self.p.feed(data[i:i + chunk])
        else:
            self.p.feed(data)
        while self.p.pump(3):
            pass
        return self.since(start)

    def since(self, start):
        got = []
        for text in self.out[start:]:
            assert text.endswith("\n") and "\n" not in text[:-1], repr(text)
            if text.startswith("R "):
                got.append(("R", text[2:-1]))
                continue
            r = json.loads(text)
            _finite(r, text)
            assert r["ok"] in (True, False) and isinstance(r["cmd"], str), r
            if not r["ok"]:
                assert isinstance(r["error"], str) and "\n" not in r["error"], r
            got.append(r)
        return got

    def one(self, line, ok=True):
        got = self.send(line + "\n")
        assert len(got) == 1, (line, got)
        assert got[0]["ok"] is ok, (line, got[0])
        return got[0]


def case_hello_and_help():
    h = Host()
    r = h.one("hello")
    assert r == {"ok": True, "cmd": "hello", "protocol": 1, "version": "0.1.0", "board": "pico",
                 "max_line": 512}, r
    r = h.one("help")
    assert "programs push JSON" in r["commands"] and r["protocol"] == protocol.PROTOCOL
    assert "takes no arguments" in h.one("hello there", False)["error"]


def case_status_is_merged_and_never_nan():
    h = Host()
    r = h.one("status")
    assert r["state"] == "idle" and r["ratio"] is None and r["big"] is None, r
    assert r["ok"] is True and r["cmd"] == "status"
    raw = h.out[-1]
    assert raw.startswith('{"ok": true, "cmd": "status", '), raw


def case_programs():
    h = Host()
    assert h.one("programs list")["programs"] == ["kegel"]
    r = h.one("programs show kegel")
    assert r["name"] == "kegel" and r["program"]["name"] == "kegel"
    assert "no program nope" in h.one("programs show nope", False)["error"]
    assert "a-z" in h.one("programs show Bad!", False)["error"]
    r = h.one("programs push " + json.dumps(KEGEL))
    assert r["name"] == "mine" and h.dev.progs["mine"] == KEGEL
    bad = {"name": "x", "blocks": [{"steps": [{"s": 500, "muscle": "squeeze"}]}]}
    e = h.one("programs push " + json.dumps(bad), False)["error"]
    assert e.startswith("program rejected: ") and "at most 60 s" in e, e
    assert "not valid JSON" in h.one("programs push {name: x}", False)["error"]
    assert "needs the program" in h.one("programs push", False)["error"]
    e = h.one('programs push {"name": "x", "blocks": NaN}', False)["error"]
    assert "JSON" in e or "NaN" in e, e
    assert "needs one of: list, show, push, delete" in h.one("programs", False)["error"]
    assert h.one("programs remove x", False)["cmd"] == "programs"
    assert h.one("programs delete mine") == {"ok": True, "cmd": "programs delete"}
    assert "mine" not in h.dev.progs
    assert "no program mine" in h.one("programs delete mine", False)["error"]
    assert "a-z" in h.one("programs delete ../x", False)["error"]


def case_session_control():
    h = Host()
    assert h.one("start kegel") == {"ok": True, "cmd": "start"}
    assert "no program" in h.one("start nope", False)["error"]
    assert "NAME" in h.one("start", False)["error"]
    assert h.one("pause") == {"ok": True, "cmd": "pause"}
    assert h.one("stop") == {"ok": True, "cmd": "stop", "state": "done"}
    assert h.one("calibrate")["result"] == "calibrating"
    assert "takes no arguments" in h.one("pause now", False)["error"]
    e = h.one("resume", False)
    assert e["cmd"] == "resume" and "internal error ZeroDivisionError" in e["error"], e
    assert h.dev.calls == [("start", "kegel"), ("pause",), ("stop",), ("calibrate",)]


def case_config():
    h = Host()
    assert h.one("config get")["config"] == {"loop_hz": 50, "vibration_pct": 70, "stream": False}
    assert h.one("config get loop_hz") == {"ok": True, "cmd": "config get", "key": "loop_hz",
                                          "value": 50}
    assert "unknown setting" in h.one("config get nope", False)["error"]
    assert h.one("config set loop_hz 40")["value"] == 40 and h.dev.cfg["loop_hz"] == 40
    assert "0 to 100" in h.one("config set loop_hz 400", False)["error"]
    assert "0 to 100" in h.one('config set loop_hz "40"', False)["error"]
    assert "needs KEY and a JSON value" in h.one("config set loop_hz", False)["error"]
    assert "not valid JSON" in h.one("config set loop_hz forty", False)["error"]
    assert "out of range" in h.one("config set loop_hz 1e300", False)["error"]
    assert "out of range" in h.one("config set loop_hz 123456789012345678901234567890",
                                   False)["error"]
    e = h.one("config set loop_hz NaN", False)["error"]
    assert "NaN" in e or "JSON" in e, e
    e = h.one("config set loop_hz Infinity", False)["error"]
    assert "infinity" in e or "JSON" in e, e
    assert "nested" in h.one("config set loop_hz " + "[" * 20 + "]" * 20, False)["error"]
    assert h.dev.cfg["loop_hz"] == 40


def case_sessions():
    h = Host()
    r = h.one("sessions list")
    assert r["sessions"] == [{"id": 1, "size": 120, "summary": True},
                             {"id": 2, "size": 80, "summary": False}], r
    got = h.send("sessions get 1\n")
    recs = [g[1] for g in got[:-1]]
    assert recs == h.dev.logs[1] and all(g[0] == "R" for g in got[:-1]), got
    assert got[-1] == {"ok": True, "cmd": "sessions get", "id": 1, "records": 20, "bad": 1,
                       "torn": 0, "digest": None}, got[-1]   # a reader without one: null
    assert h.dev.readers[-1].closed
    assert "no session 7" in h.one("sessions get 7", False)["error"]
    for bad in ("0", "-1", "abc", "1.5", "100000", "99999999999999999999", ""):
        assert "ID must be" in h.one("sessions get " + bad, False)["error"], bad
    assert h.one("sessions delete 2") == {"ok": True, "cmd": "sessions delete"}
    assert "no session 2" in h.one("sessions delete 2", False)["error"]
    # records go out a few per pump(); a second get meanwhile is refused, other commands work
    mark = len(h.out)
    h.p.handle("sessions get 1")
    assert h.p.pump(4)
    h.p.handle("sessions get 1")
    h.p.handle("status")
    h.send(b"")
    tail = h.since(mark)
    errs = [g for g in tail if isinstance(g, dict) and not g["ok"]]
    assert len(errs) == 1 and "still being sent" in errs[0]["error"], tail
    assert [g["ok"] for g in tail[4:6]] == [False, True]  # error and status between records
    assert len([g for g in tail if isinstance(g, tuple)]) == 20
    assert tail[-1]["records"] == 20
    # a read error ends the stream with an error reply, never an exception
    h.dev.fail_read = 3
    got = h.send("sessions get 1\n")
    assert len(got) == 4 and "after 3 records" in got[-1]["error"], got
    assert not h.p.pump()
    # a reader that swallowed its read error (record.SessionReader.error) reports it too
    h.dev.fail_read = -1
    mark = len(h.out)
    h.p.handle("sessions get 1")
    h.dev.readers[-1].error = "OSError 5"
    h.send(b"")
    got = h.since(mark)
    assert len(got) == 21 and got[-1]["error"].endswith("after 20 records: OSError 5"), got


def case_clock():
    h = Host()
    assert h.one("clock set 1796083200") == {"ok": True, "cmd": "clock set",
                                             "clock": 1796083200}
    assert h.dev.epoch == 1796083200
    for bad in ("", "0", "1e9", "1796083200.5", "-1796083200", "5000000000", "now"):
        e = h.one("clock set " + bad, False)["error"]
        assert e.startswith("EPOCH (seconds since 1970, UTC) must be"), (bad, e)
    assert h.dev.epoch == 1796083200   # refused values change nothing
    assert "clock needs one of: set" in h.one("clock get", False)["error"]


def case_stream_and_inject():
    h = Host()
    assert h.one("stream on") == {"ok": True, "cmd": "stream", "stream": True}
    assert h.one("stream off")["stream"] is False
    assert "on or off" in h.one("stream maybe", False)["error"]
    assert "inject on" in h.one("S 0 100", False)["error"]
    assert h.one("inject on")["inject"] is True
    assert h.send("S 0 1500\nS 20 1510 900\nS 40 -250\n") == []
    assert h.dev.injected == [(0, 1500, None), (20, 1510, 900), (40, -250, None)]
    for bad, why in (("S -1 0", "T_MS"), ("S 60 100001", "PRESSURE_CP"),
                     ("S 60 -100001", "PRESSURE_CP"), ("S 60 1e5", "PRESSURE_CP"),
                     ("S 60 nan", "PRESSURE_CP"), ("S 60 15.5", "PRESSURE_CP"),
                     ("S 99999999999999999999 0", "T_MS"), ("S 60 0 1_000", "ABDOMINAL_CP"),
                     ("S 60 0 200000", "ABDOMINAL_CP"), ("S 60", "S T_MS"),
                     ("S 60 1 2 3", "S T_MS"), ("S 39 0", "backwards")):
        e = h.one(bad, False)
        assert e["cmd"] == "S" and why in e["error"], (bad, e)
    assert len(h.dev.injected) == 3
    assert h.send("S 40 0\n") == [] and h.dev.injected[-1] == (40, 0, None)
    assert h.one("inject off")["inject"] is False
    assert "inject on" in h.one("S 60 0", False)["error"]
    assert h.dev.calls == [("stream", True), ("stream", False), ("inject", True),
                           ("inject", False)]


def case_unknown_commands_list_the_valid_ones():
    h = Host()
    e = h.one("frobnicate now", False)
    assert e["cmd"] == "frobnicate" and "unknown command" in e["error"], e
    for c in protocol.COMMANDS:
        assert c in e["error"], c
    assert h.one('"quoted{', False)["cmd"] == '"quoted{'
    assert h.one("STATUS", False)["cmd"] == "STATUS"


def case_line_endings_and_partial_lines():
    h = Host()
    for sep in ("\n", "\r", "\r\n"):
        got = h.send("status" + sep + "hello" + sep)
        assert [g["cmd"] for g in got] == ["status", "hello"], (sep, got)
    assert h.send("\n\r\n\r\r\n   \n") == []
    assert h.send("sta") == [] and h.send("tu") == []
    assert [g["cmd"] for g in h.send("s\r")] == ["status"]
    assert h.send("\nhel") == []   # the LF of a CRLF split across reads ends nothing
    assert h.send("lo\n")[0]["cmd"] == "hello"
    script = "hello\r\nstatus\nconfig get loop_hz\rsessions list\n"
    want = [g["cmd"] for g in h.send(script)]
    for n in (1, 2, 3, 7):
        assert [g["cmd"] for g in h.send(script, chunk=n)] == want, n
    assert h.send("  status  \t\n")[0]["ok"] is True


def case_overlong_line_gets_one_error():
    h = Host()
    for chunk in (0, 100, 511, 513):
        got = h.send(b"x" * 10240 + b"\nstatus\n", chunk)
        assert len(got) == 2 and got[0]["cmd"] == "line" and "longer than 512" in got[0]["error"]
        assert got[1]["cmd"] == "status" and got[1]["ok"], got
    ok = "config set loop_hz " + " " * (512 - 20) + "1"
    assert len(ok) == 512 and h.send(ok + "\n")[0]["ok"] is True
    assert "longer" in h.send(ok + " \n")[0]["error"]


def case_garbage_bytes():
    h = Host()
    got = h.send(b"\xff\xfe\x00\x01garbage\n")
    assert len(got) == 1 and "control bytes" in got[0]["error"], got
    got = h.send(b"st\xc3\x28tus\n")
    assert len(got) == 1 and "not UTF-8" in got[0]["error"], got
    got = h.send(b"\x1b[A\x7f\n")
    assert len(got) == 1 and not got[0]["ok"]
    seed = 12345
    noise = bytearray(4000)
    for i in range(len(noise)):
        seed = (seed * 75 + 74) % 65537   # small ints: no heap use in the VM
        noise[i] = seed & 0xFF
    lines = bytes(noise).count(b"\n") + bytes(noise).count(b"\r")
    got = h.send(bytes(noise) + b"\nstatus\n", 64)
    assert len(got) <= lines + 2 and got[-1]["cmd"] == "status" and got[-1]["ok"], got[-3:]
    assert h.send("ünïcödé\n")[0]["cmd"] == "ünïcödé"


def case_write_errors_are_counted_not_raised():
    dev = FakeDevice()

    def broken(text):
        raise OSError(5)

    p = Protocol(dev, broken)
    p.feed(b"status\nhello\nnope\n")
    assert p.write_errors == 3 and p.lines == 3 and p.errors == 1


# -- telemetry ------------------------------------------------------------------------------

SAMPLES = [
    (0, 0, 0, 0, 0, 0, None),
    (1, 12345, 1503, 2450, 3, telemetry.CUE_MOTOR | telemetry.CUE_REACHED, 910),
    (255, 0xFFFFFF, -32768, 32767, 0xFFE, 31, -32768),
    (17, 3600000, -250, 0, -1, telemetry.CUE_PAUSED, None),
    (200, 59999, 32767, 1, 2000, telemetry.CUE_FAULT | telemetry.CUE_TENSION, 0),
]


def case_telemetry_frames_round_trip():
    tel = Telemetry()
    for s in SAMPLES:
        mv = tel.frame(*s)
        b = bytes(mv)
        assert len(b) == (27 if s[6] is None else 32) <= telemetry.FRAME_MAX, b
        assert b.startswith(b"T") and b.endswith(b"\n") and b.count(b"\n") == 1
        assert parse_frame(b) == s, (b, parse_frame(b), s)
        assert parse_frame(str(b, "ascii")) == s and parse_frame(b[:-1]) == s
    b = bytes(tel.frame(1, 12345, 1503, 2450, 3, 3, 910))
    assert b == b"T01003039,05df,0992,003,03,038e\n", b


def case_telemetry_clamps_out_of_range_values():
    tel = Telemetry()
    got = parse_frame(tel.frame(300, -5, 100000, -100000, 5000, 0x1FF, 40000))
    assert got == (44, 0, 32767, -32768, -1, 0xFF, 32767), got
    got = parse_frame(tel.frame(0, 0x7FFFFFFF, -40000, 0, -7, 0, -40000))
    assert got == (0, 0xFFFFFF, -32768, 0, -1, 0, -32768), got


def case_parse_frame_rejects_broken_frames():
    good = b"T01003039,05df,0992,003,03,038e\n"
    short = b"T01003039,05df,0992,003,03\n"
    assert parse_frame(good) and parse_frame(short)
    for bad in (b"", b"T", good[:20], good.upper(), b"X" + good[1:], good[:9] + b";" + good[10:],
                short[:15] + good, good.replace(b"05df", b"-5df"), good.replace(b"05df", b" 5df"),
                b"T01003039,05df,0992,003,03,038e,0000\n", b"\xff" * 31, short[:-2] + b"\n",
                '{"ok": true}'):
        assert parse_frame(bad) is None, bad


def case_telemetry_seq_wraps_and_gaps_show_drops():
    sent = []
    state = {"ready": True}

    def write(mv):
        sent.append(bytes(mv))
        return len(mv)

    tel = Telemetry(write, lambda: state["ready"])
    for i in range(300):
        state["ready"] = i % 50 != 7   # the host stalls now and then
        tel.send(i * 20, 1500, 0, 1, 0)
    assert tel.sent == 294 and tel.dropped == 6 and tel.seq == 300 & 0xFF
    seqs = [parse_frame(b)[0] for b in sent]
    lost = 0
    for k in range(1, len(seqs)):
        lost += lost_frames(seqs[k - 1], seqs[k])
    assert lost == 6 and seqs[0] == 0 and seqs[-1] == 299 & 0xFF, (lost, seqs[:3])
    assert 255 in seqs and lost_frames(255, 0) == 0 and lost_frames(250, 3) == 8


def case_telemetry_never_raises_on_a_bad_port():
    results = [None, 5, OSError(11)]

    def write(mv):
        r = results.pop(0)
        if isinstance(r, Exception):
            raise r
        return r

    tel = Telemetry(write)
    assert not tel.send(0, 0, 0, 0, 0) and not tel.send(1, 0, 0, 0, 0, 5)
    assert not tel.send(2, 0, 0, 0, 0)
    assert tel.dropped == 3 and tel.sent == 0 and tel.seq == 3


CASES = [name[5:] for name in sorted(globals()) if name.startswith("case_")]


def run(name):
    globals()["case_" + name]()
