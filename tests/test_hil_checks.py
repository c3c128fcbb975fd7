"""`pacer test`'s checks (host_tools/commands/test.py evaluate()) on made-up events: each check
passes on a board that agrees with the truth, fails on one that does not, and fails (or is
skipped, never passed) when it compared nothing."""
import argparse

import pytest

import host_tools.sim  # noqa: F401  (puts the engine on the path)
from host_tools.commands import test as hil
from host_tools.errors import CliError
from host_tools.sim.truth import Drop, Episode, Rep
from pacer import program
from pacer.program import M_DROP, M_PUSH, M_SQUEEZE

KEGEL = {"name": "k", "blocks": [{"steps": [{"s": 5, "role": "baseline"}]},
                                 {"reps": 3, "steps": [{"s": 3, "muscle": "squeeze"},
                                                       {"s": 3, "muscle": "release"}]}]}
DROPS = {"name": "d", "blocks": [{"steps": [{"s": 5, "role": "baseline"}]},
                                 {"reps": 4, "steps": [{"s": 5, "muscle": "drop"},
                                                       {"s": 5, "muscle": "release"}]}]}
PUSHES = {"name": "p", "blocks": [{"steps": [{"s": 5, "role": "baseline"}]},
                                  {"reps": 4, "steps": [{"s": 10, "muscle": "push"},
                                                        {"s": 10}]}]}


def rows(res):
    return {name: verdict for name, verdict, _ in res.rows}


def phases(tl):
    return [{"t_ms": tl.start_ms[i], "type": "phase", "step": i} for i in range(tl.n)]


def summary(tl, **kw):
    s = {"t_ms": tl.total_ms, "type": "summary", "completed": True, "reps": 0}
    s.update(kw)
    return s


def kegel_run():
    tl = program.build(KEGEL)
    events = phases(tl)
    events.insert(1, {"t_ms": 1000, "type": "zero", "baseline_cmH2O": 10.0})
    truth = hil.Truth()
    for i, s in enumerate((1, 3, 5)):
        r = Rep(tl.start_ms[s], M_SQUEEZE, s, i)
        r.peak = 20.0
        r.relax_ms = 500
        r.onset = 400
        truth.reps.append(r)
        events.append({"t_ms": tl.start_ms[s + 1] + 3000, "type": "rep", "index": i + 1,
                       "step": s, "peak_cmH2O": 30.0, "target_cmH2O": 18.0, "achieved": True,
                       "relax_ms": 500})
    events.append(summary(tl, reps=3))
    return tl, events, truth


def test_kegel_checks_pass_and_catch_wrong_scoring():
    tl, events, truth = kegel_run()
    ok = hil.evaluate(tl, events, truth)
    assert not ok.failed, ok.table()
    assert rows(ok)["drops"] == "SKIP" and rows(ok)["tension"] == "SKIP"
    truth.reps[1].missed = True                # scored achieved, but never attempted ...
    truth.reps[1].peak = 2.0                   # ... and the floor stayed low
    events[-2]["relax_ms"] = 2500              # relax time far off
    events.append({"t_ms": 9000, "type": "alarm", "kind": "tension"})   # no tension in truth
    events[3]["t_ms"] += 500                   # a late cue
    bad = {r[0] for r in hil.evaluate(tl, events, truth).failed}
    assert bad == {"phases", "scoring", "relax", "alarms"}


def test_an_unattempted_rep_held_over_the_target_by_leftover_tension_is_not_wrong():
    tl, events, truth = kegel_run()
    truth.reps[1].missed = True                # not attempted, but the floor was still tight
    truth.reps[1].peak = 12.0                  # 22 absolute: over the 18 target
    assert "scoring" not in {x[0] for x in hil.evaluate(tl, events, truth).failed}


def test_rep_checks_fail_when_nothing_was_compared():
    tl, events, truth = kegel_run()
    # the board sent no rep events at all: reps, peaks and scoring must not pass
    no_reps = [e for e in events if e["type"] != "rep"]
    bad = {r[0] for r in hil.evaluate(tl, no_reps, truth).failed}
    assert {"reps", "peaks", "scoring", "relax"} <= bad
    # rep events without a zero: peaks compared nothing
    no_zero = [e for e in events if e["type"] != "zero"]
    assert "peaks" in {r[0] for r in hil.evaluate(tl, no_zero, truth).failed}
    # the person relaxed but the device never said so
    for e in events:
        if e["type"] == "rep":
            e["relax_ms"] = None
    assert "relax" in {r[0] for r in hil.evaluate(tl, events, truth).failed}


def test_relax_is_skipped_not_passed_when_the_person_never_relaxed():
    tl, events, truth = kegel_run()
    for r in truth.reps:
        r.relax_ms = -1
    res = hil.evaluate(tl, events, truth)
    assert rows(res)["relax"] == "SKIP"


def test_peaks_are_compared_in_the_engines_hold_window():
    # A late flick peaks after its step (the person has not seen the release yet): the truth
    # peak in the hold window is what the device can be held to.
    tl, events, truth = kegel_run()
    for t in range(0, tl.total_ms, hil.PERIOD_MS):
        truth.floor[t] = 0.0
    for r in truth.reps:
        for t in range(r.start + 1000, r.start + 3000, hil.PERIOD_MS):
            truth.floor[t] = 20.0
    r = truth.reps[0]
    end = tl.start_ms[r.step] + tl.dur_ms[r.step]
    for t in range(end - 1000, end + hil.HOLD_LAG_MS, hil.PERIOD_MS):
        truth.floor[t] = 20.0
    for t in range(end + hil.HOLD_LAG_MS, end + 1500, hil.PERIOD_MS):
        truth.floor[t] = 30.0           # later than the window: not held against the device
    r.peak = 30.0
    assert "peaks" not in {x[0] for x in hil.evaluate(tl, events, truth).failed}
    for t in range(r.start, end + hil.HOLD_LAG_MS, hil.PERIOD_MS):
        truth.floor[t] = 14.0           # in the window the floor only reached 14: 6 off
    assert "peaks" in {x[0] for x in hil.evaluate(tl, events, truth).failed}


def test_reps_answered_after_the_hold_window_are_not_held_against_the_device():
    tl, events, truth = kegel_run()
    truth.reps[1].onset = tl.dur_ms[truth.reps[1].step] + hil.HOLD_LAG_MS + 200
    truth.reps[1].peak = 2.0                   # the squeeze came in the next rep's window
    res = hil.evaluate(tl, events, truth)
    assert not res.failed, res.table()
    assert "1 reps answered after the hold window" in dict(
        (n, d) for n, _, d in res.rows)["peaks"]
    truth.reps[1].onset = 400                  # answered in time: now the peak is wrong
    assert {"peaks", "scoring"} <= {x[0] for x in hil.evaluate(tl, events, truth).failed}
    for r in truth.reps:                       # nobody answered in time: nothing to compare
        r.onset = -1
    res = hil.evaluate(tl, events, truth)
    assert rows(res)["peaks"] == "SKIP" and rows(res)["scoring"] == "SKIP"


def test_bearing_down_is_not_compared_for_peaks_but_must_not_be_rewarded():
    tl, events, truth = kegel_run()
    r = truth.reps[0]
    r.bore = True                              # bore down: the probe saw the abdomen
    r.peak = 3.0                               # the floor itself barely moved
    res = hil.evaluate(tl, events, truth)
    assert rows(res)["peaks"] == "PASS"        # the device's peak holds the push: not compared
    assert rows(res)["scoring"] == "FAIL"      # but scored achieved: rewarding bearing down
    [e for e in events if e["type"] == "rep"][0]["achieved"] = False
    assert not hil.evaluate(tl, events, truth).failed


def test_hold_lag_is_the_engines():
    from pacer import rep
    assert hil.HOLD_LAG_MS == rep._LAG_MS


def drop_run(spec, floors, pushes=None, abd=True):
    """A run of `spec` where the person's floor moved by floors[i] on drop/push step i."""
    tl = program.build(spec)
    events = phases(tl)
    truth = hil.Truth()
    k = 0
    for i in range(tl.n):
        if tl.muscle[i] not in (M_DROP, M_PUSH):
            continue
        d = Drop(tl.start_ms[i], tl.muscle[i], i, k, 0.0, 10.0)
        d.floor_sum = floors[k]
        d.push_sum = pushes[k] if pushes else 0.0
        d.n = 1
        d.end = tl.start_ms[i] + tl.dur_ms[i]
        truth.drops.append(d)
        k += 1
        f = floors[k - 1]
        flags = ["paradoxical"] if f >= 1.0 else []
        e = {"t_ms": d.end + 5000, "type": "drop", "index": k, "step": i,
             "kind": "push" if tl.muscle[i] == M_PUSH else "drop",
             "achieved": f <= -1.0, "flags": flags, "drop_cmH2O": -f,
             "abdominal_rise_cmH2O": (pushes[k - 1] if abd else None) if pushes else None,
             "pattern": d.pattern() if (pushes and abd) else None}
        events.append(e)
    # as the engine counts them: `drops` for drop steps, `pushes` for push steps
    n_push = sum(1 for e in events if e.get("type") == "drop" and e["kind"] == "push")
    events.append(summary(tl, drops=k - n_push, pushes=n_push))
    return tl, events, truth


def test_drop_checks_pass_on_an_agreeing_board_and_fail_on_wrong_verdicts():
    tl, events, truth = drop_run(DROPS, [-3.0, -2.5, 4.0, -0.2])
    res = hil.evaluate(tl, events, truth)
    assert not res.failed, res.table()
    assert rows(res)["push-pattern"] == "SKIP"
    drops = [e for e in events if e["type"] == "drop"]
    drops[0]["achieved"] = False                # let go by 3 cmH2O, device says not
    assert {x[0] for x in hil.evaluate(tl, events, truth).failed} == {"drop-verdict"}
    drops[0]["achieved"] = True
    drops[3]["achieved"] = True                 # no real fall, device says achieved
    assert {x[0] for x in hil.evaluate(tl, events, truth).failed} == {"drop-verdict"}


def test_small_true_falls_are_not_judged():
    tl, events, truth = drop_run(DROPS, [-3.0, -0.7, -3.0, -3.0])
    drops = [e for e in events if e["type"] == "drop"]
    drops[1]["achieved"] = True                 # a 0.7 cmH2O fall: either verdict is fair
    assert not hil.evaluate(tl, events, truth).failed
    drops[1]["achieved"] = False
    assert not hil.evaluate(tl, events, truth).failed


def test_paradoxical_recall_and_false_rate():
    tl, events, truth = drop_run(DROPS, [4.0, 5.0, 3.0, -3.0])
    assert not hil.evaluate(tl, events, truth).failed
    drops = [e for e in events if e["type"] == "drop"]
    drops[1]["flags"] = []                      # a tightened step not flagged
    assert "paradoxical" in {x[0] for x in hil.evaluate(tl, events, truth).failed}
    drops[1]["flags"] = ["paradoxical"]
    drops[3]["flags"] = ["paradoxical"]         # flagged, but the floor let go
    assert "paradoxical" in {x[0] for x in hil.evaluate(tl, events, truth).failed}


def test_drop_checks_fail_when_the_board_sends_no_drop_events():
    tl, events, truth = drop_run(DROPS, [-3.0, -3.0, -3.0, -3.0])
    none = [e for e in events if e["type"] != "drop"]
    bad = {x[0] for x in hil.evaluate(tl, none, truth).failed}
    assert {"drops", "drop-verdict", "paradoxical"} <= bad
    # events in the wrong order or for the wrong kind
    drops = [e for e in events if e["type"] == "drop"]
    drops[0]["kind"] = "push"
    assert "drops" in {x[0] for x in hil.evaluate(tl, events, truth).failed}


def test_summary_drop_count_is_checked():
    tl, events, truth = drop_run(DROPS, [-3.0, -3.0, -3.0, -3.0])
    events[-1]["drops"] = 3
    assert {x[0] for x in hil.evaluate(tl, events, truth).failed} == {"summary"}
    del events[-1]["drops"]                     # a program with drops: the count must be there
    assert {x[0] for x in hil.evaluate(tl, events, truth).failed} == {"summary"}


def test_push_patterns_compared_with_two_channels():
    floors = [-3.0, 4.0, -0.8, -3.0]
    pushes = [15.0, 18.0, 14.0, 4.0]
    tl, events, truth = drop_run(PUSHES, floors, pushes)
    assert [d.pattern() for d in truth.drops] == ["coordinated", "paradoxical", "incomplete",
                                                  "weak_push"]
    res = hil.evaluate(tl, events, truth)
    assert not res.failed, res.table()
    assert rows(res)["push-pattern"] == "PASS"
    pushes_ev = [e for e in events if e["type"] == "drop"]
    pushes_ev[2]["pattern"] = "coordinated"     # 1 of 4 wrong: 75 % < 90 %
    assert "push-pattern" in {x[0] for x in hil.evaluate(tl, events, truth).failed}
    # one channel: the board gives no abdominal rise and no pattern: skipped, not passed
    tl, events, truth = drop_run(PUSHES, floors, pushes, abd=False)
    assert rows(hil.evaluate(tl, events, truth))["push-pattern"] == "SKIP"


def test_tension_episodes_need_a_nudge_and_nudges_need_tension():
    tl = program.build({"name": "r", "blocks": [{"steps": [{"s": 120}]}]})
    events = phases(tl) + [summary(tl)]
    truth = hil.Truth()
    e = Episode(30000)
    e.end = 45000
    e.peak = 4.0
    short = Episode(80000)
    short.end = 85000                  # under 8 s: no nudge owed
    truth.episodes = [e, short]
    res = hil.evaluate(tl, events, truth)
    assert rows(res)["tension"] == "FAIL"
    nudge = {"t_ms": 33000, "type": "alarm", "kind": "tension"}
    res = hil.evaluate(tl, events + [nudge], truth)
    assert not res.failed, res.table()
    # a nudge with no tension anywhere near it
    stray = {"t_ms": 100000, "type": "alarm", "kind": "tension"}
    bad = {x[0] for x in hil.evaluate(tl, events + [nudge, stray], truth).failed}
    assert bad == {"alarms"}
    # ... unless the floor itself was up
    for t in range(97000, 100000, hil.PERIOD_MS):
        truth.floor[t] = 3.0
    assert not hil.evaluate(tl, events + [nudge, stray], truth).failed


def test_no_episodes_is_skipped():
    tl = program.build({"name": "r", "blocks": [{"steps": [{"s": 60}]}]})
    res = hil.evaluate(tl, phases(tl) + [summary(tl)], hil.Truth())
    assert rows(res)["tension"] == "SKIP" and not res.failed


# -- the command's input checks (no board needed: they come before connecting) --

def _args(tmp_path, **kw):
    p = argparse.ArgumentParser()
    hil.add_arguments(p)
    ns = p.parse_args([])
    ns.port = str(tmp_path / "no-such-port")
    for k, v in kw.items():
        setattr(ns, k, v)
    return ns


@pytest.mark.parametrize("kw,msg", [
    ({"persona": "nobody"}, "unknown persona"),
    ({"set": ["nope=1"]}, "unknown persona parameter"),
    ({"set": ["mvc"]}, "KEY=VALUE"),
])
def test_bad_input_is_exit_2_before_connecting(tmp_path, kw, msg):
    with pytest.raises(CliError) as e:
        hil.run(_args(tmp_path, **kw))
    assert e.value.code == hil.EXIT_BAD_INPUT and msg in str(e.value)
    assert "\n" not in str(e.value)


def test_json_and_out_paths_are_checked_before_the_run(tmp_path):
    for kw, msg in (({"json": str(tmp_path / "no" / "r.json")}, "does not exist"),
                    ({"json": str(tmp_path)}, "is a directory")):
        with pytest.raises(CliError, match=msg) as e:
            hil.run(_args(tmp_path, **kw))
        assert e.value.code == hil.EXIT_BAD_INPUT
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(CliError, match="is a file") as e:
        hil.run(_args(tmp_path, out=str(f)))
    assert e.value.code == hil.EXIT_BAD_INPUT


def test_no_board_is_exit_3(tmp_path):
    with pytest.raises(CliError) as e:
        hil.run(_args(tmp_path, json=str(tmp_path / "r.json")))
    assert e.value.code == hil.EXIT_NO_BOARD
    assert not (tmp_path / "r.json").exists()


def test_exit_codes_are_in_the_help():
    from host_tools import cli
    text = cli.build_parser()._subparsers._group_actions[0].choices["test"].format_help()
    for words in ("0 all passed", "1 a check failed", "2 bad input", "3 no board"):
        assert words in " ".join(text.split()), words


def test_rest_tone_change_against_the_floor():
    tl = program.build({"name": "r", "blocks": [{"steps": [{"s": 300}]}]})
    truth = hil.Truth()
    for t in range(0, tl.total_ms, hil.PERIOD_MS):
        truth.tone[t] = 5.0 - 2.0 * t / tl.total_ms      # eases by 2 cmH2O over 5 minutes
    zero = {"t_ms": 1000, "type": "zero", "baseline_cmH2O": 15.0}
    events = phases(tl) + [zero, summary(tl, rest_tone_change_cmH2O=-1.5)]
    res = hil.evaluate(tl, events, truth)
    assert rows(res)["rest-tone"] == "PASS", res.table()     # truth: about -1.6
    events[-1]["rest_tone_change_cmH2O"] = -0.5
    assert rows(hil.evaluate(tl, events, truth))["rest-tone"] == "FAIL"
    events[-1]["rest_tone_change_cmH2O"] = None
    assert rows(hil.evaluate(tl, events, truth))["rest-tone"] == "SKIP"
    # a change claimed with no zero to measure it from
    events = phases(tl) + [summary(tl, rest_tone_change_cmH2O=-1.5)]
    assert rows(hil.evaluate(tl, events, truth))["rest-tone"] == "FAIL"
