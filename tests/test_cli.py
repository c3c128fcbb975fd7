"""The `pacer` command's contract: programs list/show, replay on both runtimes, one-line errors."""
import json
import subprocess
import sys

import pytest

import synth
from pacer import builtin

PACER = [sys.executable, "-m", "host_tools.cli"]


def pacer(*args):
    return subprocess.run(PACER + list(args), capture_output=True, text=True, timeout=300)


def test_programs_list_names_every_builtin():
    r = pacer("programs", "list")
    assert r.returncode == 0
    for name in builtin.NAMES:
        assert "\n" + name + " " in "\n" + r.stdout


def test_programs_show_json_is_the_expanded_timeline():
    r = pacer("programs", "show", "reverse-kegel", "--json")
    steps = json.loads(r.stdout)
    tl = builtin.load("reverse-kegel")
    assert len(steps) == tl.n
    assert steps[1] == {"start_ms": 10000, "duration_ms": 5000, "breath": "inhale",
                        "muscle": "rest", "role": None}      # a paced breath at rest first
    assert steps[7] == {"start_ms": 40000, "duration_ms": 5000, "breath": "inhale",
                        "muscle": "drop", "role": None}
    assert steps[-1]["role"] == "baseline"                  # and a closing baseline


@pytest.mark.parametrize("name", builtin.NAMES)
def test_every_builtin_replays_with_one_rep_per_contraction(name):
    tl = builtin.load(name)
    ev = synth.run(tl, synth.person(tl, synth.effort(25.0), extend_ms=1000))
    reps = synth.reps(ev)
    assert len(reps) == tl.reps
    drops = [e for e in ev if e["type"] == "drop"]    # and one drop record per drop/push step
    assert len(drops) == tl.drops and [d["step"] for d in drops] == [
        i for i in range(tl.n) if tl.muscle[i] in (4, 6)]
    steps = [r["step"] for r in reps]
    # one rep per squeeze, flick or max step, in order
    assert steps == [i for i in range(tl.n) if tl.muscle[i] in (1, 2, 5)]
    assert ev[-1]["type"] == "summary" and ev[-1]["completed"] is True


def test_replay_writes_events_and_both_runtimes_agree(tmp_path):
    tl = builtin.load("flicks")
    trace = tmp_path / "t.csv"
    trace.write_text(synth.csv_text(synth.person(tl, synth.effort(30.0), extend_ms=1000)))
    a = tmp_path / "a.jsonl"
    b = tmp_path / "b.jsonl"
    assert pacer("replay", str(trace), "--program", "flicks", "--out", str(a)).returncode == 0
    r = pacer("replay", str(trace), "--program", "flicks", "--runtime", "micropython", "--out",
              str(b))
    assert r.returncode == 0, r.stderr
    assert a.read_text() == b.read_text()
    lines = [json.loads(x) for x in a.read_text().splitlines()]
    assert all("t_ms" in e and "type" in e for e in lines)
    assert sum(e["type"] == "rep" for e in lines) == 30


@pytest.mark.parametrize("args,needle", [
    (["replay", "/nonexistent.csv", "--program", "kegel"], "not found"),
    (["replay", "{csv}", "--program", "nope"], "unknown program"),
    (["replay", "{bad}", "--program", "kegel"], "has no t_ms column"),
    (["replay", "{junk}", "--program", "kegel"], "not a number"),
    (["programs", "show", "{prog}"], "invalid program"),
])
def test_bad_input_gives_one_line_errors(tmp_path, args, needle):
    csv = tmp_path / "ok.csv"
    csv.write_text("t_ms,pressure_cmH2O\n0,1\n20,1\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("time,p\n0,1\n")
    junk = tmp_path / "junk.csv"
    junk.write_text("t_ms,pressure_cmH2O\n0,abc\n")
    prog = tmp_path / "p.json"
    prog.write_text(json.dumps({"name": "x",
                                "blocks": [{"steps": [{"s": 99, "muscle": "squeeze"}]}]}))
    args = [a.format(csv=csv, bad=bad, junk=junk, prog=prog) for a in args]
    r = pacer(*args)
    assert r.returncode != 0
    err = r.stderr.strip()
    assert needle in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_a_failed_write_leaves_the_old_file_whole_and_no_part_file(tmp_path):
    from host_tools.files import write_atomic
    path = tmp_path / "events.jsonl"
    path.write_text("old\n")

    def half(f):
        f.write("new, half written")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        write_atomic(path, half)
    assert path.read_text() == "old\n" and list(tmp_path.iterdir()) == [path]
    write_atomic(path, lambda f: f.write("new\n"))
    assert path.read_text() == "new\n" and list(tmp_path.iterdir()) == [path]


def test_replay_out_to_a_missing_folder_is_a_one_line_error(tmp_path):
    trace = tmp_path / "t.csv"
    assert pacer("sim", "--program", "flicks", "--persona", "typical", "--seed", "1",
                 "--out", str(trace)).returncode == 0
    r = pacer("replay", str(trace), "--program", "flicks", "--out",
              str(tmp_path / "nope" / "e.jsonl"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "cannot write" in r.stderr


class _Wire:
    """A serial port whose board answers a command with its reply, an event and a frame in
    one USB packet (as the USB queue sends them)."""

    def __init__(self, answer):
        self.answer = answer
        self.inbox = b""

    def write(self, data):
        self.inbox = self.answer

    def flush(self):
        pass

    @property
    def in_waiting(self):
        return len(self.inbox)

    def read(self, n):
        data, self.inbox = self.inbox[:n], self.inbox[n:]
        return data


def test_lines_behind_a_reply_in_the_same_read_are_kept():
    from host_tools.device import Device
    from pacer_app.telemetry import Telemetry
    frame = bytes(Telemetry().frame(13, 20, 5, 800, 0, 0))
    wire = _Wire(b'{"ok": true, "cmd": "start"}\n{"t_ms": 0, "type": "phase", "step": 0}\n'
                 + frame)
    dev = Device(wire, "/dev/fake")
    assert dev.send("start kegel") == {"ok": True, "cmd": "start"}
    kinds = [k for k, _ in dev.pending]
    assert kinds == ["event", "frame"] and dev.pending[1][1][0] == 13
