"""Fuzzing with hypothesis. Each target returns {"inputs": n, "crashes": k, "examples": [...]}.

A crash is any exception other than the documented refusal (ProgramError, CliError, an error
reply), or a broken invariant (the device stops answering `status`, stored data changed).

Targets: protocol (bytes/lines into the App on CPython, the real shell and drivers), config
(config.validate, settings.check, Store.load_config on random file bytes), program
(pacer.program.build on random and mutated specs), trace (host_tools.trace.read on random and
mutated CSV), session (record.SessionReader on random and mutated logs), vboard (random lines
to the firmware on the virtual board over its pty).
"""
import json
import os
import tempfile
import time as _wall
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import rel_rig as R
from host_tools import trace as host_trace
from host_tools.errors import CliError
from pacer import builtin
from pacer import program as prog
from pacer import settings as eng_settings
from pacer_app import config, record, storage

ABSURD = ["1e999", "-1e999", "NaN", "Infinity", "1" + "0" * 40, "-" + "9" * 30, "null", "[]",
          "{}", '"' + "x" * 600 + '"', "[" * 60 + "]" * 60, "1.5e308", "0x10", "--1", "true false",
          '{"a": ' * 30 + "1" + "}" * 30, "\"\\u0000\"", "-0.0000001e-400"]
KEYS = ["target_pct", "loop_hz", "user", "program", "stream", "vibration_pct", "board",
        "sensor_max_cmH2O", "leak_limit_cmH2O", "nope", "", "x" * 100]
WORDS = ["hello", "help", "status", "programs list", "programs show", "programs push", "start",
         "pause", "resume", "stop", "calibrate", "config get", "config set", "sessions list",
         "sessions get", "stream", "inject", "S", "sessions", "config", "programs", "frobnicate"]


def _run(fn, strategy, n, seed=0):
    """Run fn over n hypothesis examples; returns (inputs, crashes, first failure)."""
    count = [0]
    fails = []

    @settings(max_examples=n, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(strategy)
    def t(x):
        count[0] += 1
        try:
            fn(x)
        except Exception as e:  # noqa: BLE001 - a crash is counted, not fatal
            if len(fails) < 5:
                fails.append("%s: %s on %r" % (type(e).__name__, str(e)[:200], repr(x)[:200]))

    import random
    random.seed(seed)
    t()
    return count[0], fails


def _result(n, fails):
    return {"inputs": n, "crashes": len(fails), "examples": fails}


# -- protocol: the App on CPython -------------------------------------------------------------

def _line():
    arg = st.one_of(st.sampled_from(ABSURD), st.text(max_size=40),
                    st.integers(-10 ** 12, 10 ** 12).map(str),
                    st.sampled_from(["kegel", "calibrate", "on", "off", "1", "99999", "0"]))
    cmd = st.builds(lambda w, k, a: " ".join(x for x in (w, k, a) if x),
                    st.sampled_from(WORDS), st.sampled_from(KEYS + [""]), arg)
    return st.one_of(cmd, st.text(max_size=80),
                     st.binary(max_size=80).map(lambda b: b.decode("latin-1")))


def protocol_input():
    """A list of chunks: command lines with absurd values, raw bytes, overlong and partial lines."""
    chunk = st.one_of(
        _line().map(lambda s: s.encode("utf-8", "surrogatepass") + b"\n"),
        st.binary(max_size=200),
        st.integers(513, 12000).map(lambda n: b"A" * n + b"\n"),
        _line().map(lambda s: s.encode("utf-8", "surrogatepass")),   # no line end: partial
        st.sampled_from([b"\r\n", b"\r", b"\n", b"\x00", b"\xff\xfe", b"\x1b[A"]))
    return st.lists(chunk, min_size=1, max_size=6)


class ProtocolTarget:
    """One device for the whole run; stored data checked after every input."""

    def __init__(self, tmp):
        self.rig = R.DevRig(tmp, board="pico")
        rig = self.rig
        assert rig.store.save_config({"target_pct": 55}) == []
        rig.store.begin_session({"program": "kegel"})
        rig.store.append('{"t_ms": 0, "type": "phase", "step": 0}')
        rig.store.end_session()
        self.files = R.files_of(tmp)
        self.tmp = tmp
        self.replies = 0

    def __call__(self, chunks):
        rig = self.rig
        for c in chunks:
            if b"\x03" in c or b"\x04" in c:
                c = c.replace(b"\x03", b"").replace(b"\x04", b"")  # Ctrl-C/D: REPL, not us
            rig.app.proto.feed(c)
            rig.tick()
        for _ in range(3):
            rig.tick()
        app = rig.app
        if app.engine is not None and app.status()["state"] in ("running", "paused"):
            app.stop()
        app.injecting = False
        out = rig.usb.out
        m = len(out)
        # the leading newline may complete a partial command of the input (which then runs):
        # the status reply is looked for among everything after it, events included
        rig.app.proto.feed(b"\nstatus\n")
        rig.tick()
        replies = [x for x in out[m:] if '"cmd": "status"' in x]
        last = replies[-1] if replies else (out[-1] if out else "")
        # a well-formed `config set` may come out of the generator: that is a change the user
        # asked for, not one garbage made; the baseline is put back before the check
        asked = any('"ok": true, "cmd": "config set"' in line for line in out)
        del out[:]
        del rig.usb.frames[:]
        if '"cmd": "status"' not in last:
            raise AssertionError("no status reply after the input: %r" % last[:200])
        if asked:
            rig.app.config_set("target_pct", 55)
        self._check_stored()

    def _check_stored(self):
        now = R.files_of(self.tmp)
        for k, v in self.files.items():
            if k.startswith("sessions/") and k.endswith(".log") and now.get(k) != v:
                raise AssertionError("stored session %s changed" % k)
        if self.rig.store.config_get("target_pct") != 55:
            raise AssertionError("config changed by garbage")


def fuzz_protocol(n, tmp=None):
    tmp = Path(tmp or tempfile.mkdtemp())
    target = ProtocolTarget(tmp)
    inputs, fails = _run(target, protocol_input(), n)
    return _result(inputs, fails)


# -- config and settings ----------------------------------------------------------------------

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 20, 10 ** 20),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30))
json_value = st.recursive(json_leaf, lambda ch: st.lists(ch, max_size=4)
                          | st.dictionaries(st.text(max_size=12), ch, max_size=4), max_leaves=12)


def config_input():
    good = st.fixed_dictionaries({}, optional={k: json_value for k in KEYS})
    return st.one_of(good, json_value, st.dictionaries(st.sampled_from(KEYS), json_value))


def _config_check(values):
    clean, errors = config.validate(values)
    again, errs2 = config.validate(clean)
    if errs2 or again != clean:
        raise AssertionError("validate() output is not valid: %r" % errs2)
    if isinstance(values, dict):
        eng_settings.check({k: v for k, v in values.items() if k not in config.APP_FIELDS})
    eng_settings.Settings(clean if isinstance(clean, dict) else {})


class ConfigFileTarget:
    def __init__(self, tmp):
        self.tmp = Path(tmp)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.store = storage.Store(os, str(self.tmp))
        (self.tmp / "config.bak").write_text('{"target_pct": 60}\n')

    def __call__(self, data):
        (self.tmp / "config.json").write_bytes(data)
        cfg, warnings = self.store.load_config()
        clean, errs = config.validate(cfg)
        if errs:
            raise AssertionError("loaded config is invalid: %r" % errs)


def fuzz_config(n, tmp=None):
    a, fa = _run(_config_check, config_input(), n // 2)
    target = ConfigFileTarget(Path(tmp or tempfile.mkdtemp()))
    good = b'{"target_pct": 45, "stream": true}\n'
    data = st.one_of(st.binary(max_size=300), config_input().map(
        lambda v: json.dumps(v).encode()), st.integers(0, len(good)).map(lambda k: good[:k]))
    b, fb = _run(target, data, n - n // 2)
    return _result(a + b, fa + fb)


# -- programs ---------------------------------------------------------------------------------

def _mutate_spec(spec, path_keys, value):
    s = json.loads(json.dumps(spec))
    node = s
    for k in path_keys[:-1]:
        if isinstance(node, dict) and node:
            node = node[sorted(node)[k % len(node)]]
        elif isinstance(node, list) and node:
            node = node[k % len(node)]
    if isinstance(node, dict) and node:
        node[sorted(node)[path_keys[-1] % len(node)]] = value
    elif isinstance(node, list) and node:
        node[path_keys[-1] % len(node)] = value
    return s


def program_input():
    specs = [builtin.spec(n) for n in builtin.NAMES]
    mutated = st.builds(_mutate_spec, st.sampled_from(specs),
                        st.lists(st.integers(0, 50), min_size=1, max_size=5), json_value)
    return st.one_of(mutated, json_value,
                     st.fixed_dictionaries({"name": json_value, "blocks": json_value}))


def _program_check(spec):
    try:
        tl = prog.build(spec)
    except prog.ProgramError:
        return
    if tl.n <= 0 or tl.total_ms <= 0:
        raise AssertionError("accepted an empty program")


def fuzz_program(n, tmp=None):
    inputs, fails = _run(_program_check, program_input(), n)
    return _result(inputs, fails)


# -- trace CSV (host tools) -------------------------------------------------------------------

GOOD_CSV = "t_ms,pressure_cmH2O,abdominal_cmH2O\n" + "".join(
    "%d,%.2f,%.2f\n" % (i * 20, 15 + (i % 50) / 5.0, 9.0) for i in range(40))


def trace_input():
    cell = st.one_of(st.sampled_from(["", "nan", "inf", "-inf", "1e309", "abc", "1,2", '"',
                                      "10001", "-0", "0x1f", " 3 "]),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.integers(-10 ** 12, 10 ** 12).map(str))
    row = st.lists(cell, min_size=0, max_size=5).map(lambda r: ",".join(r))
    table = st.builds(lambda h, rows: "\n".join([h] + rows),
                      st.sampled_from(["t_ms,pressure_cmH2O", "t_ms,pressure_cmH2O,abdominal_cmH2O",
                                       "pressure_cmH2O,t_ms", "t_ms", "", "a,b,c",
                                       "t_ms,t_ms,pressure_cmH2O"]),
                      st.lists(row, max_size=20))
    cut = st.integers(0, len(GOOD_CSV)).map(lambda k: GOOD_CSV[:k])
    flip = st.builds(lambda k, c: GOOD_CSV[:k] + c + GOOD_CSV[k + 1:],
                     st.integers(0, len(GOOD_CSV) - 1), st.characters())
    return st.one_of(table, cut, flip, st.binary(max_size=200).map(
        lambda b: b.decode("latin-1")))


class TraceTarget:
    def __init__(self, tmp):
        Path(tmp).mkdir(parents=True, exist_ok=True)
        self.path = Path(tmp) / "t.csv"

    def __call__(self, text):
        self.path.write_bytes(text.encode("utf-8", "surrogatepass"))
        try:
            tr = host_trace.read(str(self.path))
        except CliError as e:
            if "\n" in str(e):
                raise AssertionError("multi-line error: %r" % str(e)) from None
            return
        last = -1
        for s in tr.samples:
            if s[0] <= last:
                raise AssertionError("time went backwards in an accepted trace")
            last = s[0]


def fuzz_trace(n, tmp=None):
    inputs, fails = _run(TraceTarget(Path(tmp or tempfile.mkdtemp())), trace_input(), n)
    return _result(inputs, fails)


# -- session logs (read by the host tools and `sessions get`) ---------------------------------

def _good_log(k=12):
    out = b"".join(record.record('{"t_ms": %d, "type": "phase", "step": %d}' % (i * 1000, i))
                   for i in range(k))
    return out


GOOD_LOG = _good_log()


def session_input():
    cut = st.integers(0, len(GOOD_LOG)).map(lambda k: (GOOD_LOG[:k], k))
    flip = st.builds(lambda k, b: (GOOD_LOG[:k] + bytes([b]) + GOOD_LOG[k + 1:], k),
                     st.integers(0, len(GOOD_LOG) - 1), st.integers(0, 255))
    junk = st.binary(max_size=3000).map(lambda b: (b, 0))
    spliced = st.builds(lambda k, b: (GOOD_LOG[:k] + b + GOOD_LOG[k:], k),
                        st.integers(0, len(GOOD_LOG)), st.binary(max_size=3000))
    return st.one_of(cut, flip, junk, spliced)


class _Bytes:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def read(self, n):
        d = self.data[self.pos:self.pos + n]
        self.pos += n
        return d

    def close(self):
        pass


def _session_check(arg):
    data, intact_upto = arg
    rd = record.SessionReader(_Bytes(data))
    recs = list(rd)
    for r in recs:
        json.loads(r)  # a record that passed its CRC is whole JSON text
    # every record wholly before the damage comes out
    whole = GOOD_LOG[:intact_upto].count(b"\n")
    good = [str(x[:-5], "utf-8") for x in GOOD_LOG.split(b"\n")[:whole]]
    if recs[:whole] != good:
        raise AssertionError("intact records lost: %d of %d" % (len(recs), whole))


def fuzz_session(n, tmp=None):
    inputs, fails = _run(_session_check, session_input(), n)
    return _result(inputs, fails)


# -- the virtual board over its pty -----------------------------------------------------------

def fuzz_vboard(n, tmp=None):
    """n random chunks (as for the protocol target) sent to the firmware on the virtual board;
    then `status` answers and the stored config and sessions are byte-identical."""
    import random

    from host_tools.vboard import start as vb_start
    tmp = Path(tmp or tempfile.mkdtemp())
    flash = R.install_firmware(tmp / "flash", mpy=True)
    st_ = storage.Store(os, str(flash))
    st_.save_config({"target_pct": 55})
    st_.begin_session({"program": "kegel"})
    st_.append('{"t_ms": 0, "type": "phase", "step": 0}')
    st_.end_session()
    before = R.files_of(flash)
    rnd = random.Random(1)
    fails = []
    count = 0
    with vb_start(board="pico", flash_dir=flash, log=tmp / "vb.log") as vb:
        link = R.Link(vb.port)
        try:
            link.wait_boot(20, "boot")
            batch = []
            for _ in range(n):
                chunks = _quick_chunks(rnd)
                data = b"".join(chunks).replace(b"\x03", b"").replace(b"\x04", b"")
                data = data.replace(b"start", b"stort")  # sessions would only slow the run
                batch.append(data)
                count += 1
                if len(batch) >= 20:
                    link.write(b"".join(batch))
                    batch = []
                    _wall.sleep(0.01)
                    link.pump()
            link.write(b"".join(batch) + b"\n")
            # the virtual board's USB input queue is bounded (4 kB) and this host writes
            # faster than 64 bytes a tick, so bytes may be lost and a fragment glued to the
            # next line: as the protocol says, start clean with a lone newline, and retry
            # replies to the backlog keep coming: sync on a reply that names a unique id
            st = None
            for k in range(10):
                link.write(b"\n")
                m = link.mark()
                mark = 77700 + k
                link.write(b"sessions get %d\n" % mark)
                try:
                    link.wait_after(m, lambda x, mark=mark: "no session %d" % mark in x, 60,
                                    "sync")
                    st = link.command("status", timeout=10)
                except AssertionError:
                    continue
                if st["ok"]:
                    break
            if not st or not st["ok"]:
                fails.append("status after fuzzing: %r" % st)
            after = R.files_of(flash)
            for k, v in before.items():
                if k.startswith("sessions/") and k.endswith(".log") and after.get(k) != v:
                    fails.append("stored session %s changed" % k)
            cfg = link.command("config get target_pct")
            if cfg.get("value") != 55 and link.command("config get target_pct").get("value") != 55:
                fails.append("config changed: %r" % cfg)
            bad = [x for x in link.lines if "Traceback" in x or "MemoryError" in x]
            if bad:
                fails.append("device printed %r" % bad[:2])
        finally:
            link.close()
    return _result(count, fails)


def _quick_chunks(rnd):
    """Cheap random chunks (hypothesis' example() is slow): lines with absurd values, junk."""
    k = rnd.random()
    if k < 0.5:
        line = "%s %s %s" % (rnd.choice(WORDS), rnd.choice(KEYS), rnd.choice(ABSURD))
        return [line.encode() + b"\n"]
    if k < 0.8:
        return [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 60)))]
    if k < 0.9:
        return [b"B" * rnd.randrange(513, 3000) + b"\n"]
    return [rnd.choice(WORDS).encode()]  # partial line, finished by the next chunk


TARGETS = {"protocol": fuzz_protocol, "config": fuzz_config, "program": fuzz_program,
           "trace": fuzz_trace, "session": fuzz_session, "vboard": fuzz_vboard}
