"""History a person can trust, end to end on the virtual board (real MicroPython VM on a pty):
sessions are dated by the computer's clock, ids never repeat, `sessions pull` and `sessions
sync` never overwrite a different file and verify every copy; settings that would crash or
mislead are refused; a board left at the REPL by mpremote is reset, not declared empty."""
import json
import os
import subprocess
import sys
import time

import pytest

from host_tools import cli
from host_tools.device import Device
from host_tools.vboard import start as vb_start

SHORT = {"name": "short", "blocks": [{"steps": [{"s": 3, "role": "baseline"}]},
                                     {"reps": 1, "steps": [{"s": 2, "muscle": "squeeze"},
                                                           {"s": 2, "muscle": "release"}]}]}
MPREMOTE = os.path.join(os.path.dirname(sys.executable), "mpremote")


def pacer(capsys, *argv):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    d = tmp_path_factory.mktemp("board")
    vb = vb_start(board="pico", flash_dir=d / "flash", persona="typical", log=d / "vboard.log")
    try:
        assert cli.main(["flash", "--port", vb.port, "--board", "pico"]) == 0, vb.log_tail()
        prog = d / "short.json"
        prog.write_text(json.dumps(SHORT))
        assert cli.main(["programs", "push", str(prog), "--port", vb.port]) == 0
        vb.prog = prog
        yield vb
    finally:
        vb.stop()


def train(port):
    """One short session, started and run to its summary like a person at the board."""
    with Device.connect(port) as dev:
        dev.command("start short")
        for _ in range(600):
            if any(k == "event" and e.get("type") == "summary" for k, e in dev.poll(0.1)):
                break
        else:
            raise AssertionError("no summary")
        time.sleep(0.2)
        return dev.command("sessions list")["sessions"][-1]["id"]


def files(d):
    return sorted(p.name for p in d.glob("session-*.jsonl"))


def test_history_is_dated_append_only_and_verified(board, capsys, tmp_path):
    t0 = int(time.time())
    first = train(board.port)
    pulled = tmp_path / "pulled"
    rc, out, err = pacer(capsys, "sessions", "pull", "--port", board.port, "--out", pulled)
    assert rc == 0 and "verified" in out, err
    old = {name: (pulled / name).read_bytes() for name in files(pulled)}
    head = json.loads((pulled / ("session-%05d.jsonl" % first)).read_text().splitlines()[0])
    # dated by the clock the host set on connecting (virtual time runs faster: not before t0)
    assert isinstance(head["started"], int) and head["started"] >= t0 - 5, head
    # every session deleted, one more trained: its id is new, and nothing on disk changes
    rc, out, _ = pacer(capsys, "sessions", "list", "--json", "--port", board.port)
    ids = [s["id"] for s in json.loads(out)]
    assert pacer(capsys, "sessions", "delete", *ids, "--port", board.port)[0] == 0
    second = train(board.port)
    assert second > max(ids), (second, ids)
    rc, out, err = pacer(capsys, "sessions", "pull", "--port", board.port, "--out", pulled)
    assert rc == 0, err
    for name, data in old.items():
        assert (pulled / name).read_bytes() == data, name
    assert "session-%05d.jsonl" % second in files(pulled)
    # a different file under the same name (another board's session 2nd) is kept, never
    # overwritten: the board's session lands beside it
    clash = pulled / ("session-%05d.jsonl" % second)
    clash.write_text('{"program": "other board"}\n')
    rc, out, err = pacer(capsys, "sessions", "pull", second, "--port", board.port,
                         "--out", pulled)
    assert rc == 0, err
    assert clash.read_text() == '{"program": "other board"}\n'
    twin = pulled / ("session-%05d-2.jsonl" % second)
    assert json.loads(twin.read_text().splitlines()[0])["program"] == "short"
    # sync: copies what is new, then nothing; --delete empties the board after the check
    hist = tmp_path / "history"
    rc, out, err = pacer(capsys, "sessions", "sync", hist, "--port", board.port)
    assert rc == 0 and "1 new, 0 already there" in out, out + err
    rc, out, err = pacer(capsys, "sessions", "sync", hist, "--port", board.port)
    assert rc == 0 and "0 new, 1 already there" in out, out + err
    third = train(board.port)
    rc, out, err = pacer(capsys, "sessions", "sync", hist, "--delete", "--port", board.port)
    assert rc == 0 and "1 new, 1 already there, 2 deleted from the board" in out, out + err
    assert files(hist) == ["session-%05d.jsonl" % second, "session-%05d.jsonl" % third]
    rc, out, _ = pacer(capsys, "sessions", "list", "--json", "--port", board.port)
    assert json.loads(out) == []


def test_a_copy_that_does_not_match_the_boards_digest_is_refused(board, capsys, tmp_path,
                                                                 monkeypatch):
    from host_tools.commands import sessions
    train(board.port)
    monkeypatch.setattr(sessions, "digest", lambda texts: 0x1234)   # as if a record changed
    rc, out, err = pacer(capsys, "sessions", "sync", tmp_path, "--delete", "--port", board.port)
    assert rc == 3 and "the copy failed twice" in err and err.count("\n") == 1, err
    assert not list(tmp_path.glob("session-*"))
    monkeypatch.undo()
    rc, out, _ = pacer(capsys, "sessions", "list", "--json", "--port", board.port)
    assert len(json.loads(out)) == 1      # nothing deleted from the board


def test_settings_that_would_crash_or_mislead_are_refused(board, capsys):
    rc, _, err = pacer(capsys, "config", "set", "program", "nosuch", "--port", board.port)
    assert rc == 2 and 'no program "nosuch"' in err and err.count("\n") == 1, err
    rc, out, err = pacer(capsys, "config", "set", "program", "short", "--port", board.port)
    assert rc == 0 and out.strip() == 'program = "short"', err
    rc, _, err = pacer(capsys, "config", "set", "vibration_pct", "33.7", "--port", board.port)
    assert rc == 2 and "whole number" in err and err.count("\n") == 1, err
    rc, out, err = pacer(capsys, "config", "set", "vibration_pct", "33.0", "--port", board.port)
    assert rc == 0 and out.strip() == "vibration_pct = 33", out   # echoed as stored
    rc, _, err = pacer(capsys, "config", "set", "board", "esp32", "--port", board.port)
    assert rc == 2 and "read-only" in err and err.count("\n") == 1, err
    rc, _, err = pacer(capsys, "flash", "--port", board.port, "--board", "pico_w")
    assert rc == 2 and err.count("\n") == 1, err
    assert "'Raspberry Pi Pico with RP2040', which is a pico, not a pico_w" in err, err


def test_after_mpremote_the_board_is_reset_not_declared_empty(board, capsys):
    r = subprocess.run([MPREMOTE, "connect", board.port, "exec", "print(6 * 7)"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and b"42" in r.stdout
    rc, out, err = pacer(capsys, "config", "show", "program", "--port", board.port)
    assert rc == 0 and "program = " in out, err


def test_status_start_stop_and_the_boards_programs(board, capsys):
    rc, out, err = pacer(capsys, "status", "--json", "--port", board.port)
    assert rc == 0, err
    s = json.loads(out)
    assert s["board"] == "pico" and s["version"] and s["self_test"] == "ok", s
    assert s["state"] in ("idle", "done") and s["selected"] and s["user"] == "default"
    assert s["frames"] > 10 and s["noise_cmH2O"] is not None and s["noise_cmH2O"] < 5, s
    assert 0 <= s["pressure_cmH2O"] < 30                    # the persona at rest (resting tone)
    assert s["free_bytes"] > 0 and isinstance(s["clock"], int)
    rc, out, _ = pacer(capsys, "status", "--port", board.port)
    assert rc == 0 and "self-test    ok" in out and "noise" in out and "MVC" not in out, out
    # start and stop by command; the stopped session is kept
    # (kegel: minutes long, so still running after status's second of live data in the
    # virtual board's accelerated time)
    rc, out, err = pacer(capsys, "start", "kegel", "--port", board.port)
    assert rc == 0 and "started kegel" in out, err
    st = json.loads(pacer(capsys, "status", "--json", "--port", board.port)[1])
    assert st["state"] == "running" and st["program"] == "kegel" and st["session"]
    rc, out, err = pacer(capsys, "stop", "--port", board.port)
    assert rc == 0 and "stopped kegel (session %d)" % st["session"] in out, out + err
    assert json.loads(pacer(capsys, "status", "--json", "--port", board.port)[1])[
        "state"] == "done"
    rc, out, _ = pacer(capsys, "stop", "--port", board.port)
    assert rc == 0 and "no session is running" in out
    rc, _, err = pacer(capsys, "start", "nope", "--port", board.port)
    assert rc == 2 and "no program 'nope'" in err and err.count("\n") == 1
    # the board's programs, then delete the pushed one
    rc, out, err = pacer(capsys, "programs", "list", "--board", "--json", "--port", board.port)
    progs = {p["name"]: p for p in json.loads(out)}
    assert progs["short"]["builtin"] is False and progs["kegel"]["builtin"] is True
    assert progs["short"]["duration_ms"] == 7000
    rc, _, err = pacer(capsys, "programs", "delete", "kegel", "--port", board.port)
    assert rc == 2 and "no custom program 'kegel'" in err
    pacer(capsys, "config", "set", "program", "short", "--port", board.port)
    rc, out, err = pacer(capsys, "programs", "delete", "short", "--port", board.port)
    assert rc == 0 and "the button starts kegel" in out, err
    rc, out, _ = pacer(capsys, "programs", "list", "--board", "--port", board.port)
    assert "short" not in out and "kegel" in out and "<- the button starts it" in out
    assert pacer(capsys, "programs", "push", board.prog, "--port", board.port)[0] == 0


def test_log_stops_the_session_it_started_and_a_refused_start_writes_nothing(board, capsys,
                                                                             tmp_path):
    out_dir = tmp_path / "logs"
    rc, _, err = pacer(capsys, "log", "--port", board.port, "--out", out_dir, "--start",
                       "nope", "--quiet")
    assert rc == 2 and "no program 'nope'" in err
    assert not out_dir.exists() or not list(out_dir.iterdir())
    rc, out, err = pacer(capsys, "log", "--port", board.port, "--out", out_dir, "--start",
                         "kegel", "--duration", "1", "--quiet")
    assert rc == 0, err
    st = json.loads(pacer(capsys, "status", "--json", "--port", board.port)[1])
    assert st["state"] != "running", st     # kegel lasts minutes: `log` stopped it
    events = [json.loads(x) for x in next(out_dir.glob("*.jsonl")).read_text().splitlines()]
    assert any(e.get("what") == "stopped" for e in events), events[-3:]


def test_exit_status_and_pacer_port_are_in_every_help(capsys):
    from host_tools.cli import COMMANDS
    for name in COMMANDS:
        with pytest.raises(SystemExit):
            cli.main([name.replace("_", "-"), "--help"])
        out = capsys.readouterr().out
        assert "3 no board" in out and "2 bad input" in out and "PACER_PORT" in out, name
