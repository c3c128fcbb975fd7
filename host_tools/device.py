"""A connection to a pacer board over USB serial (pyserial), speaking docs/protocol.md.

    from host_tools.device import Device
    with Device.connect(port=None) as dev:          # None: find the board by USB VID/PID
        print(dev.command("hello"))                 # the reply dict (ok true), or CliError
        for kind, item in dev.poll(0.5): ...        # ("event", dict) / ("frame", tuple) / ...

Every failure a person can cause (no board, wrong port, busy port, permissions, no MicroPython,
no pacer firmware, an error reply) is raised as host_tools.errors.CliError with one line that
says what to do. Raw-REPL work (file transfer for `pacer flash`) goes through mpremote's
transport: raw_repl(port) gives a connected mpremote SerialTransport in the raw REPL.
"""
from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import time
from collections.abc import Callable
from typing import Any

import serial
import serial.tools.list_ports

from host_tools.errors import CliError, ConnectionLost, NoBoard
from host_tools.frames import lost_frames, parse_frame

# Reply timeouts are for a real board. A slower one (the emulated RP2040 runs the official firmware
# at a fraction of real time, less on a loaded machine) gets them multiplied by this factor.
SLOWDOWN_ENV = "PACER_LINK_SLOWDOWN"


def slowdown() -> float:
    raw = os.environ.get(SLOWDOWN_ENV, "") or "1"
    try:
        k = float(raw)
    except ValueError:
        k = 0.0
    if not 1.0 <= k <= 1000.0:
        raise CliError("%s=%r: give a factor from 1 to 1000 (e.g. 20 for the emulated RP2040)"
                       % (SLOWDOWN_ENV, raw))
    return k


# USB vendor IDs of boards that run MicroPython, and of the USB-UART bridges on ESP32 boards.
VIDS = {0x2E8A: "Raspberry Pi", 0x303A: "Espressif", 0x10C4: "Silicon Labs CP210x",
        0x1A86: "WCH CH340", 0x0403: "FTDI"}

DIALOUT_HINT = ("add yourself to the serial group: `sudo usermod -aG dialout $USER` "
                "(uucp on Arch), then log out and back in")

__all__ = ["Device", "find_port", "open_serial", "raw_repl", "lost_frames", "parse_frame",
           "VIDS", "list_ports", "usb_serial_number", "ConnectionLost"]


def list_ports():
    """[(device, description, vid or None)] of the serial ports that exist."""
    out = []
    for p in serial.tools.list_ports.comports():
        out.append((p.device, p.description or "", p.vid))
    return sorted(out)


def _ports_text():
    ports = list_ports()
    if not ports:
        return "no serial ports at all (is the USB cable a data cable?)"
    return "ports here: " + ", ".join("%s (%s)" % (d, desc) if desc and desc != "n/a" else d
                                      for d, desc, _ in ports)


def usb_serial_number(port):
    """The USB serial number of the device behind `port` (on an RP2040 its flash's unique
    ID), or None when the port is not a USB device (a virtual board's pty)."""
    real = os.path.realpath(port)
    for p in serial.tools.list_ports.comports():
        if p.device in (port, real):
            return p.serial_number
    return None


def find_port(port=None):
    """The port to use: `port` itself, else the one board found by USB vendor ID."""
    if port:
        return port
    env = os.environ.get("PACER_PORT")
    if env:
        return env
    found = [(d, desc, vid) for d, desc, vid in list_ports() if vid in VIDS]
    if not found:
        raise NoBoard("no board found (looked for USB vendor IDs of Raspberry Pi, Espressif, "
                       "CP210x, CH340, FTDI); %s; plug it in or pass --port" % _ports_text())
    if len(found) > 1:
        raise CliError("several boards found (%s); pick one with --port"
                       % ", ".join("%s (%s)" % (d, VIDS[v]) for d, _, v in found))
    return found[0][0]


def _open_error(port, e):
    code = getattr(e, "errno", None)
    text = str(e)
    if code == errno.ENOENT or "No such file" in text or "FileNotFoundError" in text:
        return NoBoard("port %s does not exist; %s" % (port, _ports_text()))
    if code in (errno.EACCES, errno.EPERM) or "Permission denied" in text:
        return NoBoard("permission denied on %s; %s" % (port, DIALOUT_HINT))
    if code in (errno.EBUSY, errno.EAGAIN) or "exclusively lock" in text or "busy" in text:
        return NoBoard("port %s is busy: close mpremote, a serial terminal or another pacer "
                        "command that has it open, then retry" % port)
    return NoBoard("cannot open %s: %s" % (port, text.splitlines()[0] if text else type(e)))


def open_serial(port, timeout=0.05):
    """pyserial port opened exclusively, or a one-line CliError."""
    if not os.path.exists(port) and os.name != "nt" and "://" not in port:
        raise NoBoard("port %s does not exist; %s" % (port, _ports_text()))
    try:
        return serial.Serial(port, 115200, timeout=timeout, exclusive=True)
    except (serial.SerialException, OSError, ValueError) as e:
        raise _open_error(port, e)


@contextlib.contextmanager
def raw_repl(port, soft_reset=False):
    """mpremote SerialTransport in the raw REPL (the running app is stopped with Ctrl-C).
    Errors become CliError: port trouble, or a device that is not running MicroPython."""
    from mpremote.transport import TransportError
    from mpremote.transport_serial import SerialTransport

    if not os.path.exists(port) and "://" not in port:
        raise NoBoard("port %s does not exist; %s" % (port, _ports_text()))
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            tr = SerialTransport(port, baudrate=115200, timeout=5)
    except TransportError:
        # mpremote hides the cause: open the port ourselves to name it
        s = open_serial(port)
        s.close()
        raise NoBoard("cannot open %s" % port)
    except (serial.SerialException, OSError) as e:
        raise _open_error(port, e)
    try:
        try:
            with contextlib.redirect_stdout(sink):
                tr.enter_raw_repl(soft_reset=soft_reset, timeout_overall=5)
        except TransportError:
            raise NoBoard("the device on %s is not running MicroPython (no raw REPL answered); "
                           "put MicroPython on it with `pacer install-micropython`" % port)
        except (serial.SerialException, OSError) as e:
            raise NoBoard("lost the connection to %s: %s" % (port, e))
        yield tr
    finally:
        with contextlib.suppress(Exception):
            if tr.in_raw_repl:
                tr.exit_raw_repl()
        with contextlib.suppress(Exception):
            tr.close()


class Device:
    """A pacer board on a serial port. Lines are split as docs/protocol.md section 1 says;
    events, frames and records that arrive while waiting for a reply are kept in .pending
    (or handed to on_line) so nothing is lost."""

    def __init__(self, ser, port):
        self.ser = ser
        self.port = port
        self._buf = bytearray()
        self.pending: list[tuple[str, Any]] = []   # seen while waiting for replies
        # optional callback(kind, item) instead of .pending
        self.on_line: Callable[[str, Any], None] | None = None
        self.noise = []            # non-protocol lines (banners, tracebacks), last few
        self.info: dict[str, Any] = {}

    @classmethod
    def connect(cls, port=None, check=True, timeout=3.0):
        port = find_port(port)
        dev = cls(open_serial(port), port)
        if check:
            try:
                dev.handshake(timeout)
            except BaseException:
                dev.close()
                raise
        return dev

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        with contextlib.suppress(Exception):
            self.ser.close()

    # -- lines --

    def write(self, text):
        try:
            self.ser.write(text.encode() + b"\n")
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise NoBoard("lost the connection to %s (%s); plug the board back in and retry"
                           % (self.port, str(e).splitlines()[0] if str(e) else "write failed"))

    def read_lines(self, timeout=0.05):
        """Complete lines received within timeout (decoded, line end removed)."""
        try:
            n = self.ser.in_waiting
            data = self.ser.read(n or 1) if n else self.ser.read(1)
            if data and not n:
                n2 = self.ser.in_waiting
                if n2:
                    data += self.ser.read(n2)
        except (serial.SerialException, OSError) as e:
            raise ConnectionLost(str(e))
        if not data:
            return []
        self._buf += data
        out = []
        while True:
            i = self._buf.find(b"\n")
            if i < 0:
                break
            raw = bytes(self._buf[:i])
            del self._buf[:i + 1]
            out.append(raw.decode("utf-8", "replace").rstrip("\r"))
        if len(self._buf) > 4096:      # no newline in sight: garbage, drop it
            del self._buf[:]
        return out

    @staticmethod
    def classify(line) -> tuple[str, Any]:
        """(kind, item): ("reply", dict), ("event", dict), ("record", dict), ("frame", tuple),
        or ("noise", text) for anything that is not protocol or does not parse."""
        if line.startswith("{"):
            try:
                msg = json.loads(line)
            except ValueError:
                return "noise", line
            if isinstance(msg, dict):
                if "ok" in msg:
                    return "reply", msg
                if "type" in msg:
                    return "event", msg
            return "noise", line
        if line.startswith("R "):
            try:
                rec = json.loads(line[2:])
            except ValueError:
                return "noise", line
            return ("record", rec) if isinstance(rec, dict) else ("noise", line)
        if line.startswith("T"):
            fr = parse_frame(line)
            if fr is not None:
                return "frame", fr
        return "noise", line

    def _keep(self, kind, item):
        if kind == "noise":
            self.noise.append(item)
            del self.noise[:-20]
        if self.on_line is not None:
            self.on_line(kind, item)
        elif kind != "noise":
            self.pending.append((kind, item))

    def poll(self, timeout=0.05):
        """Read for up to timeout seconds; returns and clears everything that arrived."""
        end = time.monotonic() + timeout
        while True:
            for line in self.read_lines():
                self._keep(*self.classify(line))
            if time.monotonic() >= end:
                break
        out = self.pending
        self.pending = []
        return out

    # -- commands --

    def send(self, text, timeout=5.0, records=None, raw=None) -> dict[str, Any]:
        """Send one command line and return its reply dict (ok true or false). records: a list
        that gets the R lines' records before the reply; raw: one that gets their text."""
        self.write(text)
        timeout *= slowdown()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            reply = None
            # the whole batch is handled: frames and events right behind the reply are kept
            for line in self.read_lines():
                kind, item = self.classify(line)
                if kind == "reply" and reply is None:
                    reply = item
                elif kind == "record" and records is not None and reply is None:
                    records.append(item)
                    if raw is not None:
                        raw.append(line[2:])
                    end = time.monotonic() + timeout    # a long stream is not a timeout
                else:
                    self._keep(kind, item)
            if reply is not None:
                return reply
        raise NoBoard("no reply to %r from %s within %g s; is the pacer firmware running? "
                       "(`pacer flash` installs it)" % (text.split(" ")[0], self.port, timeout))

    def command(self, text, timeout=5.0, records=None) -> dict[str, Any]:
        """Like send(), but an error reply raises CliError with the device's message."""
        r = self.send(text, timeout, records)
        if not r.get("ok"):
            raise CliError("the board refused `%s`: %s" % (text[:60], r.get("error")))
        return r

    def handshake(self, timeout=3.0):
        """Start clean (a lone newline), then hello. Tells apart: pacer firmware, a bare
        MicroPython REPL, and a device that says nothing."""
        self.write("")
        time.sleep(0.05)
        self.read_lines()
        self.pending = []
        try:
            r = self.send("hello", timeout)
        except CliError:
            if not self._at_repl():
                raise NoBoard(self._why_silent())
            # mpremote (or a Ctrl-C) left the board at its REPL: a soft reset runs main.py,
            # which starts the firmware again if it is there
            self._soft_reset()
            try:
                r = self.send("hello", timeout)
            except CliError:
                raise NoBoard(self._why_silent())
        if not r.get("ok") or r.get("protocol") != 1:
            raise NoBoard("the device on %s answered hello with %s; it needs pacer protocol 1 "
                           "(`pacer flash` installs the matching firmware)" % (self.port, r))
        self.info = r
        # the board has no battery-backed clock: every connection gives it the time, so the
        # sessions it starts are dated (an older firmware refuses the command; that is fine)
        c = self.send("clock set %d" % int(time.time()), timeout)
        self.info["clock"] = c.get("clock") if c.get("ok") else None
        return r

    def _at_repl(self):
        text = "\n".join(self.noise[-20:]) + self._buf.decode("utf-8", "replace")
        return ">>>" in text or "raw REPL" in text or "Traceback" in text

    def _soft_reset(self, boot_s=4.0):
        """Ctrl-B (leave the raw REPL), Ctrl-D (soft reset), then wait for the boot line."""
        try:
            self.ser.write(b"\r\x02")
            time.sleep(0.1)
            self.ser.write(b"\x04")
            self.ser.flush()
        except (serial.SerialException, OSError) as e:
            raise NoBoard("lost the connection to %s (%s); plug the board back in and retry"
                           % (self.port, str(e).splitlines()[0] if str(e) else "write failed"))
        end = time.monotonic() + boot_s
        while time.monotonic() < end:
            for line in self.read_lines():
                kind, item = self.classify(line)
                if kind == "event" and item.get("type") == "boot":
                    self.write("")
                    return
                self._keep(kind, item)

    def _why_silent(self):
        text = "\n".join(self.noise[-20:]) + self._buf.decode("utf-8", "replace")
        if ">>>" in text or "MicroPython" in text or "raw REPL" in text or "Traceback" in text:
            return ("the device on %s runs MicroPython but not the pacer firmware (it answered "
                    "with a REPL); install it with `pacer flash --port %s`" % (self.port,
                                                                              self.port))
        return ("no answer from %s; is it running MicroPython with the pacer firmware? "
                "(`pacer install-micropython`, then `pacer flash`)" % self.port)




def reopen(port, timeout=0.05):
    """Try once to open `port` again; None if it is not back yet."""
    try:
        return serial.Serial(port, 115200, timeout=timeout, exclusive=True)
    except (serial.SerialException, OSError, ValueError):
        return None
