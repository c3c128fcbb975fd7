"""One line and a non-zero exit, never a traceback, for what issue 13 found on the host side: the
USB link dropping mid-command, output paths that name a file or cannot be made (checked before
any work), --mvc nan, and the vboard's folder and file options."""
import errno

import pytest

from host_tools import cli, device


def fails(capsys, *argv, code=1):
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
    msg = fails(capsys, "sessions", "pull", "--out", tmp_path / "s")
    assert msg.startswith("pacer sessions: error: the link to the board dropped")
    assert "Input/output error" in msg
    assert not list((tmp_path / "s").glob("*.jsonl"))      # no half file left behind


def test_link_dropping_during_pacer_test(capsys, dropping, tmp_path):
    dropping()
    msg = fails(capsys, "test", "--program", "kegel", "--json", tmp_path / "r.json")
    assert "the link to the board dropped" in msg
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
