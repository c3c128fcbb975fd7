"""One line and a non-zero exit, never a traceback, for what issue 13 found on the host side: the
USB link dropping mid-command, output paths that name a file or cannot be made (checked before
any work), --mvc nan, and the vboard's folder and file options."""
import errno

import pytest

from host_tools import cli, device


def fails(capsys, *argv, code=2):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert rc == code, (rc, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


class DroppingSerial:
    """A board's serial port that answers a few replies, then vanishes as an unplugged USB
    device does (pyserial raises OSError EIO from in_waiting)."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.out = b""

    def write(self, data):
        if self.replies:
            self.out += self.replies.pop(0).encode() + b"\n"

    def flush(self):
        pass

    @property
    def in_waiting(self):
        if not self.out and not self.replies:
            raise OSError(errno.EIO, "Input/output error")
        return len(self.out)

    def read(self, n):
        data, self.out = self.out[:n], self.out[n:]
        return data

    def close(self):
        pass


@pytest.fixture
def dropping(monkeypatch):
    """Device.connect gives a board that answers the given replies, then drops the link."""
    def install(*replies):
        def connect(port=None, check=True, timeout=3.0):
            dev = device.Device(DroppingSerial(replies), "/dev/ttyACM9")
            dev.info = {"ok": True, "protocol": 1, "board": "pico"}
            return dev
        monkeypatch.setattr(device.Device, "connect", staticmethod(connect))
    return install


def test_link_dropping_during_sessions_pull(capsys, dropping, tmp_path):
    dropping('{"ok": true, "sessions": [{"id": 1, "size": 900, "summary": true}]}')
    msg = fails(capsys, "sessions", "pull", "--out", tmp_path / "s", code=3)   # no board
    assert msg.startswith("pacer sessions: error: the link to the board dropped")
    assert "Input/output error" in msg
    assert not list((tmp_path / "s").glob("*.jsonl"))      # no half file left behind


def test_link_dropping_during_pacer_test(capsys, dropping, tmp_path):
    dropping()
    msg = fails(capsys, "test", "--program", "kegel", "--json", tmp_path / "r.json", code=3)
    assert "lost the connection to the board" in msg and "Input/output error" in msg
    assert not (tmp_path / "r.json").exists()


@pytest.mark.parametrize("argv", [
    ["log", "--port", "/dev/ttyNOPE9", "--out", "{file}"],
    ["sessions", "pull", "--port", "/dev/ttyNOPE9", "--out", "{file}"],
    ["report", "{session}", "--out", "{file}"],
    ["demo", "--out", "{file}"],
    ["log", "--port", "/dev/ttyNOPE9", "--out", "{file}/sub"],
    ["sessions", "pull", "--port", "/dev/ttyNOPE9", "--out", "{file}/sub"],
    ["report", "{session}", "--out", "{file}/sub"],
    ["demo", "--out", "{file}/sub"],
])
def test_out_naming_a_file_or_an_impossible_path(capsys, tmp_path, argv):
    f = tmp_path / "existing.txt"
    f.write_text("keep me")
    session = tmp_path / "s.jsonl"
    session.write_text('{"t_ms": 0, "type": "phase", "step": 0, "muscle": "rest", '
                       '"duration_ms": 1000}\n')
    msg = fails(capsys, *[a.format(file=f, session=session) for a in argv])
    assert "--out" in msg and str(f) in msg, msg
    assert f.read_text() == "keep me"


def test_test_json_to_an_impossible_path_is_refused_before_the_run(capsys, tmp_path,
                                                                   monkeypatch):
    f = tmp_path / "existing.txt"
    f.write_text("x")

    def no_board(*a, **k):
        raise AssertionError("connected to a board before checking --json")
    monkeypatch.setattr(device.Device, "connect", staticmethod(no_board))
    for bad in (f / "r.json", tmp_path):
        msg = fails(capsys, "test", "--json", bad)
        assert "--json" in msg


def test_replay_mvc_nan(capsys, tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_text("t_ms,pressure_cmH2O\n0,5\n20,5\n")
    for v in ("nan", "inf", "-1"):
        assert "--mvc must be from 0 to 300" in fails(capsys, "replay", trace, "--program",
                                                      "kegel", "--mvc", v)


@pytest.mark.parametrize("opt,where", [("--flash-dir", "{file}"), ("--flash-dir", "{file}/d"),
                                       ("--record", "{file}/r.jsonl"), ("--record", "{dir}"),
                                       ("--log", "{file}/b.log"), ("--log", "{dir}")])
def test_vboard_paths(capsys, tmp_path, opt, where):
    f = tmp_path / "existing.txt"
    f.write_text("x")
    msg = fails(capsys, "vboard", opt, where.format(file=f, dir=tmp_path))
    assert opt in msg, msg


# ---- issue 13 item 7, host side -------------------------------------------------------------

def test_log_status_line_fits_80_columns():
    from host_tools.commands import log
    v = log.View(quiet=True)
    v.phase, v.phase_end = {"muscle": "squeeze"}, 99000
    # the widest values: negative pressure, 3-digit target, every cue bit, a missed rep, alarm
    v.frame = (1, 1000, -1234, 10000, 3, 0xFF, None)
    v.rep = {"index": 30, "achieved": False, "peak_cmH2O": 102.33}
    v.alarm = {"kind": "overpressure"}
    v.frames, v.lost = 999999, 123456
    assert len(v.line()) < 80
    v.alarm, v.lost = None, 3
    v.rep = {"index": 3, "achieved": True, "peak_cmH2O": 25.1}
    v.frame = (1, 1000, 1234, 2000, 3, 1, None)
    line = v.line()
    assert len(line) < 80 and "12.3/ 20.0 cmH2O" in line and "rep 3 ok 25.1" in line
    assert line.endswith("lost 3")


def test_trace_csv_with_a_utf8_bom_is_read(capsys, tmp_path):
    trace = tmp_path / "t.csv"
    trace.write_bytes(b"\xef\xbb\xbft_ms,pressure_cmH2O\r\n0,5\r\n20,5\r\n")
    assert cli.main(["replay", str(trace), "--program", "kegel"]) == 0
    assert '"type": "phase"' in capsys.readouterr().out
    # any other invisible character in the header is shown, not hidden
    trace.write_bytes("t_ms\u200b,pressure_cmH2O\n0,5\n".encode())
    assert "\\u200b" in fails(capsys, "replay", trace, "--program", "kegel")


def test_log_refuses_a_different_board_on_the_same_port(capsys, tmp_path, monkeypatch):
    """The link drops; when the port comes back, another board is on it: log stops with one
    line instead of adding that board's data to this capture, and keeps what it has."""
    from host_tools.commands import log
    port = tmp_path / "ttyACM0"
    port.write_text("")                             # the port is back (it exists)
    boards = iter(["pico", "esp32"])

    def connect(port=None, check=True, timeout=3.0):
        dev = device.Device(DroppingSerial(['{"ok": true}']), port)
        dev.info = {"ok": True, "protocol": 1, "board": next(boards), "version": "1.0"}
        return dev
    monkeypatch.setattr(device.Device, "connect", staticmethod(connect))
    monkeypatch.setattr(log.time, "sleep", lambda s: None)
    msg = fails(capsys, "log", "--port", port, "--out", tmp_path / "logs", "--quiet",
                "--duration", "600")
    assert "a different board (board esp32, version 1.0)" in msg and "board pico" in msg
    jsonl = list((tmp_path / "logs").glob("log-*.jsonl"))
    assert len(jsonl) == 1
    marks = [ln for ln in jsonl[0].read_text().splitlines() if '"host"' in ln]
    assert "a different board is on the port" in marks[-2] and '"end"' in marks[-1]
