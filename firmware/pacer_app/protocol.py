"""USB serial protocol, version 1 (docs/protocol.md is the full specification).

Host to board: one command per text line (CR, LF or CRLF), at most MAX_LINE bytes, UTF-8.
Board to host, one line each:
    {"ok": true|false, "cmd": ...}   a reply (exactly one per command line, errors included)
    {"t_ms": ..., "type": ...}       an engine event (pacer.eventfmt), written by the app
    R <record>                       a session log record, while `sessions get` runs
    T...                             a telemetry frame (pacer_app.telemetry)
Anything else (a MicroPython banner or traceback) is not protocol and hosts skip it.

This module knows nothing about hardware: Protocol(device, write) calls methods of `device`
and hands every output line (newline included) to write(text). Device interface; methods raise
ValueError(message) for user errors, which become error replies:

    status() -> dict                  state, program, step...; "version"/"board" also go to hello
    programs() -> list                program names (built-in and custom)
    program_show(name) -> dict        the program spec
    program_push(spec)                spec already passed pacer.program.build: store it
    program_delete(name)              a custom program (a built-in cannot be deleted)
    start(name), pause(), resume(), stop(), calibrate()
    config_get(key) -> value          key None: dict of every setting
    config_set(key, value)            -> None or the value as stored
    sessions() -> list                of (id, size, has_summary)
    session_records(id) -> iterable   of record text lines (a record.SessionReader: its .bad,
                                      .torn and close() are used when present); None: no session
    session_delete(id)
    clock_set(epoch)                  wall-clock seconds since 1970 (UTC); status() shows it
    set_stream(on), set_inject(on)    on is a bool
    inject(t_ms, pressure_cp, abdominal_cp or None)    one sample instead of the sensor
Other methods may return None, a dict (merged into the reply) or a value (sent as "result").

Never block the loop (a host that holds the port without reading can stall a write for up to
500 ms on rp2). The app polls sys.stdout for POLLOUT with an allocation-free ipoll(0), passes
that as Telemetry's `ready`. A frame never waits: it goes straight out, or joins text already
queued for the port (pacer_app/usb.py), or is dropped and counted: a late cue is worse than a
lost frame, and seq shows the host the gap. Session records
go out through pump(), a few per loop iteration while the port is writable.
"""
import json

from pacer.program import ProgramError, build, is_name
from pacer_app.clock import EPOCH_MAX, EPOCH_MIN
from pacer_app.wirejson import dumps, loads
from pacer_hw._compat import const

PROTOCOL = 1
MAX_LINE = const(512)
T_LIMIT = 0x7FFFFFFF
MAX_ID = 99999              # session ids: five digits in the log file names (pacer_app.storage)
CP_LIMIT = 100000           # +-1000 cmH2O: beyond any probe, so a value past it is garbage

COMMANDS = ("hello", "status", "programs list", "programs show NAME", "programs push JSON",
            "programs delete NAME",
            "start NAME", "pause", "resume", "stop", "calibrate", "config get [KEY]",
            "config set KEY JSON", "clock set EPOCH", "sessions list",
            "sessions get ID", "sessions delete ID", "stream on|off", "inject on|off",
            "S T_MS PRESSURE_CP [ABDOMINAL_CP]", "help")


def _split(s):
    """(first word, the rest) of s, split at any whitespace, both stripped."""
    parts = s.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1].strip() if len(parts) > 1 else ""


def _one_line(e):
    msg = str(e.args[0]) if e.args else type(e).__name__
    return msg.replace("\r", " ").replace("\n", "; ")


def parse_int(tok, lo, hi, what):
    """A decimal integer token within [lo, hi]; ValueError naming what and the range otherwise."""
    digits = tok[1:] if tok[:1] == "-" else tok
    # checked by hand: int() would also take "1_0", " 1" and arbitrarily long numbers
    if not digits.isdigit() or len(digits) > 10:
        v = None
    else:
        v = int(tok)
    if v is None or v < lo or v > hi:
        raise ValueError("%s must be a whole number from %d to %d, got %s"
                         % (what, lo, hi, json.dumps(tok[:20])))
    return v


def _name(arg, what="NAME"):
    if not is_name(arg, 24):
        raise ValueError("%s must be one word of 1 to 24 characters of a-z 0-9 - _, got %s"
                         % (what, json.dumps(arg[:30])))
    return arg


class Protocol:
    def __init__(self, device, write):
        self.device = device
        self.write = write
        self._buf = bytearray(MAX_LINE)
        self._n = 0
        self._over = False     # the current line passed MAX_LINE: drop it up to its newline
        self._ctrl = False     # the current line holds control bytes
        self.inject = False
        self._last_t = -1
        self._cmd = ""
        self._it = None        # pending `sessions get`: iterator, source, id, count
        self.sending = False   # records of a `sessions get` are waiting for pump()
        self._src = None
        self._sid = 0
        self._count = 0
        self.lines = 0
        self.errors = 0
        self.write_errors = 0
        self._handlers = {
            "hello": self._hello, "help": self._help, "status": self._status,
            "programs": self._programs, "start": self._start, "pause": self._simple,
            "resume": self._simple, "stop": self._simple, "calibrate": self._simple,
            "config": self._config, "clock": self._clock, "sessions": self._sessions,
            "stream": self._stream, "inject": self._inject, "S": self._sample,
        }

    # -- input ----------------------------------------------------------------------------

    def feed(self, data, n=-1):
        """Take n raw bytes (default all) of data from the port and handle each line they
        complete. Allocates nothing while no line completes, whatever the bytes are."""
        if n < 0:
            n = len(data)
        buf = self._buf
        k = self._n
        for i in range(n):
            c = data[i]
            if c == 10 or c == 13:
                # CR, LF or CRLF: the LF of a CRLF ends an empty line, and empty lines are skipped
                self._n = k
                self._end_line()
                k = 0
                continue
            if k < MAX_LINE:
                buf[k] = c
                k += 1
            else:
                self._over = True
            if (c < 32 and c != 9) or c == 127:
                self._ctrl = True
        self._n = k

    def _end_line(self):
        k = self._n
        self._n = 0
        if self._over:
            self._over = False
            self._ctrl = False
            self._error("line", "line longer than %d bytes, discarded; send one command per line"
                        % MAX_LINE)
            return
        if self._ctrl:
            self._ctrl = False
            self._error("line", "line holds control bytes, ignored; send printable UTF-8 text")
            return
        if k == 0:
            return
        try:
            text = str(self._buf[:k], "utf-8")
        except ValueError:  # UnicodeError on both runtimes
            self._error("line", "line is not UTF-8 text, ignored")
            return
        self.handle(text)

    def handle(self, line):
        """Handle one command line (without its newline)."""
        word, rest = _split(line)
        if not word:
            return
        self.lines += 1
        h = self._handlers.get(word)
        if h is None:
            self._error(word[:24], "unknown command %s; valid commands: %s"
                        % (json.dumps(word[:24]), ", ".join(COMMANDS)))
            return
        self._cmd = word
        try:
            h(word, rest)
        except ValueError as e:
            self._error(self._cmd, _one_line(e))
        except Exception as e:  # a device bug must cost one reply, not the exercise loop
            self._error(self._cmd, "internal error %s: %s; the command did not complete"
                        % (type(e).__name__, _one_line(e)))

    # -- output ---------------------------------------------------------------------------

    def _send(self, text):
        try:
            self.write(text)
        except OSError:
            self.write_errors += 1

    def _error(self, cmd, msg):
        self.errors += 1
        self._send('{"ok": false, "cmd": %s, "error": %s}\n' % (json.dumps(cmd), json.dumps(msg)))

    def _reply(self, fields=None):
        parts = ['{"ok": true, "cmd": ', json.dumps(self._cmd)]
        if fields:
            for k in sorted(fields, key=str):
                if k != "ok" and k != "cmd":
                    parts.append(", %s: %s" % (json.dumps(str(k)), dumps(fields[k])))
        parts.append("}\n")
        self._send("".join(parts))

    def _result(self, r):
        self._reply(r if isinstance(r, dict) else (None if r is None else {"result": r}))

    def event(self, line):
        """Send one engine event line (pacer.eventfmt output)."""
        self._send(line + "\n")

    def pump(self, n=8):
        """Send up to n records of a pending `sessions get`, and its reply after the last one.
        Returns True while records remain. Call it when the port is writable."""
        it = self._it
        if it is None:
            return False
        for _ in range(n):
            try:
                rec = next(it)
            except StopIteration:
                self._end_stream(None)
                return False
            except Exception as e:  # OSError from flash, or a bug: end with an error reply
                self._end_stream(e)
                return False
            self._count += 1
            self._send("R " + rec + "\n")
        return True

    def _end_stream(self, exc):
        src = self._src
        self._it = None
        self.sending = False
        self._src = None
        close = getattr(src, "close", None)
        if close is not None:
            close()
        self._cmd = "sessions get"
        why = _one_line(exc) if exc is not None else getattr(src, "error", None)
        if why:
            self._error(self._cmd, "session %d: reading stopped after %d records: %s"
                        % (self._sid, self._count, why))
            return
        self._reply({"id": self._sid, "records": self._count, "bad": getattr(src, "bad", 0),
                     "torn": getattr(src, "torn", 0), "digest": getattr(src, "digest", None)})

    # -- commands -------------------------------------------------------------------------

    def _sub(self, word, rest, subs):
        sub, arg = _split(rest)
        if sub not in subs:
            raise ValueError("%s needs one of: %s" % (word, ", ".join(subs)))
        self._cmd = word + " " + sub
        return sub, arg

    def _noargs(self, rest):
        if rest:
            raise ValueError("%s takes no arguments" % self._cmd)

    def _hello(self, word, rest):
        self._noargs(rest)
        st = self.device.status() or {}
        self._reply({"protocol": PROTOCOL, "version": st.get("version"),
                     "board": st.get("board"), "max_line": MAX_LINE})

    def _help(self, word, rest):
        self._reply({"protocol": PROTOCOL, "commands": COMMANDS})

    def _status(self, word, rest):
        self._noargs(rest)
        st = self.device.status()
        self._reply(st if isinstance(st, dict) else {"result": st})

    def _simple(self, word, rest):
        self._noargs(rest)
        self._result(getattr(self.device, word)())

    def _start(self, word, rest):
        self._result(self.device.start(_name(rest)))

    def _programs(self, word, rest):
        sub, arg = self._sub(word, rest, ("list", "show", "push", "delete"))
        if sub == "list":
            self._noargs(arg)
            self._reply({"programs": list(self.device.programs())})
        elif sub == "show":
            name = _name(arg)
            self._reply({"name": name, "program": self.device.program_show(name)})
        elif sub == "delete":
            name = _name(arg)
            self._result(self.device.program_delete(name))
        else:
            if not arg:
                raise ValueError("programs push needs the program as JSON on the same line")
            spec = loads(arg, "program")
            try:
                build(spec)  # its Timeline is dropped at once; only the verdict is wanted
            except ProgramError as e:
                raise ValueError("program rejected: " + "; ".join(e.errors))
            r = self.device.program_push(spec)
            self._reply(r if isinstance(r, dict) else {"name": spec["name"]})

    def _config(self, word, rest):
        sub, arg = self._sub(word, rest, ("get", "set"))
        if sub == "get":
            if not arg:
                self._reply({"config": self.device.config_get(None)})
                return
            key = self._key(arg)
            self._reply({"key": key, "value": self.device.config_get(key)})
            return
        key, text = _split(arg)
        if not text:
            raise ValueError("config set needs KEY and a JSON value, "
                             "e.g. config set vibration_pct 50")
        key = self._key(key)
        value = loads(text, key)
        r = self.device.config_set(key, value)
        self._reply({"key": key, "value": value if r is None else r})

    def _clock(self, word, rest):
        arg = self._sub(word, rest, ("set",))[1]
        t = parse_int(arg, EPOCH_MIN, EPOCH_MAX, "EPOCH (seconds since 1970, UTC)")
        self.device.clock_set(t)
        self._reply({"clock": t})

    def _key(self, arg):
        if len(arg) > 32 or len(arg.split()) != 1:
            raise ValueError("KEY must be one setting name; `config get` lists them")
        return arg

    def _sessions(self, word, rest):
        sub, arg = self._sub(word, rest, ("list", "get", "delete"))
        if sub == "list":
            self._noargs(arg)
            out = []
            for s in self.device.sessions():
                out.append({"id": s[0], "size": s[1], "summary": s[2]}
                           if isinstance(s, (tuple, list)) else s)
            self._reply({"sessions": out})
            return
        sid = parse_int(arg, 1, MAX_ID, "ID")
        if sub == "delete":
            self._result(self.device.session_delete(sid))
            return
        if self._it is not None:
            raise ValueError("session %d is still being sent; wait for its reply" % self._sid)
        src = self.device.session_records(sid)
        if src is None:
            raise ValueError("no session %d; `sessions list` shows the ids" % sid)
        self._it = iter(src)
        self.sending = True
        self._src = src
        self._sid = sid
        self._count = 0
        # the reply (with the counts) follows the records, from pump()

    def _onoff(self, rest):
        if rest == "on":
            return True
        if rest == "off":
            return False
        raise ValueError("%s needs on or off" % self._cmd)

    def _stream(self, word, rest):
        on = self._onoff(rest)
        self.device.set_stream(on)
        self._reply({"stream": on})

    def _inject(self, word, rest):
        on = self._onoff(rest)
        self.device.set_inject(on)
        self.inject = on
        self._last_t = -1
        self._reply({"inject": on})

    def _sample(self, word, rest):
        # No reply on success: at 50 samples/s replies would crowd out the telemetry.
        if not self.inject:
            raise ValueError("inject mode is off; send `inject on` first")
        parts = rest.split()
        if len(parts) < 2 or len(parts) > 3:
            raise ValueError("sample lines are: S T_MS PRESSURE_CP [ABDOMINAL_CP]")
        t = parse_int(parts[0], 0, T_LIMIT, "T_MS")
        p = parse_int(parts[1], -CP_LIMIT, CP_LIMIT, "PRESSURE_CP (hundredths of cmH2O)")
        abd = None
        if len(parts) == 3:
            abd = parse_int(parts[2], -CP_LIMIT, CP_LIMIT, "ABDOMINAL_CP (hundredths of cmH2O)")
        if t < self._last_t:
            raise ValueError("T_MS went backwards (%d after %d); samples must be in time order"
                             % (t, self._last_t))
        self._last_t = t
        self.device.inject(t, p, abd)
