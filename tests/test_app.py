"""The firmware shell on CPython against virtual hardware: commands, a full session, storage."""
import json

from app_rig import Rig


def test_start_by_command_runs_a_session_and_stores_it(tmp_path):
    rig = Rig(tmp_path)
    rig.usb.send("stream on\nstart kegel\n")
    rig.run(40)
    rig.start_ms = rig.w.now_ms()
    rig.run(7 * 60000 + 20000)
    lines = rig.usb.lines()
    replies = [json.loads(x) for x in lines if x.startswith('{"ok"')]
    assert [r["ok"] for r in replies[:2]] == [True, True]
    events = [json.loads(x) for x in lines if x.startswith('{"t_ms"')]
    reps = [e for e in events if e["type"] == "rep"]
    assert len(reps) == 30
    assert sum(r["achieved"] for r in reps) >= 28
    assert events[-1]["type"] == "summary" and events[-1]["completed"] is True
    sessions = rig.store.sessions()
    assert len(sessions) == 1
    records = list(rig.store.read_session(sessions[0][0]))
    assert sum(1 for r in records if '"type": "rep"' in r) == 30
    assert any('"type": "summary"' in r for r in records)
    assert len(rig.usb.frames) > 20000
    assert all(len(f) <= 32 for f in rig.usb.frames)
    motor = [v for (t, ch, v) in rig.w.log if ch == "pwm" + str(rig.board.profile["motor"])]
    assert motor and max(motor) > 0 and motor[-1] == 0
