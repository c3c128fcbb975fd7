"""Programs as data: built-ins, the expanded timeline, and validation of custom JSON."""
import pytest

from pacer import builtin, program
from pacer.program import M_FLICK, M_MAX, M_RELEASE, M_REST, M_SQUEEZE, R_BASELINE, R_MVC


def steps(tl, muscle):
    return [i for i in range(tl.n) if tl.muscle[i] == muscle]


def test_every_builtin_builds_and_is_contiguous():
    for name in builtin.NAMES:
        tl = builtin.load(name)
        assert tl.n > 0 and tl.name == name
        t = 0
        for i in range(tl.n):
            assert tl.start_ms[i] == t
            t += tl.dur_ms[i]
        assert t == tl.total_ms
        assert tl.role[0] == R_BASELINE and tl.muscle[0] == M_REST


def test_kegel_is_three_sets_of_ten_5s_holds():
    tl = builtin.load("kegel")
    sq = steps(tl, M_SQUEEZE)
    assert len(sq) == 30 and all(tl.dur_ms[i] == 5000 for i in sq)
    assert all(tl.muscle[i + 1] == M_RELEASE and tl.dur_ms[i + 1] == 5000 for i in sq)
    rests = [i for i in range(1, tl.n) if tl.muscle[i] == M_REST]
    assert [tl.dur_ms[i] for i in rests] == [60000, 60000]
    tl10 = builtin.load("kegel-10")
    assert all(tl10.dur_ms[i] == 10000 for i in steps(tl10, M_SQUEEZE))


def test_reverse_kegel_pairs_inhale_drop_with_exhale_release():
    tl = builtin.load("reverse-kegel")
    drops = [i for i in range(tl.n) if tl.muscle[i] == 4]
    assert len(drops) == 20
    for i in drops:
        assert tl.breath[i] == 1 and tl.dur_ms[i] == 5000
        assert tl.muscle[i + 1] == M_RELEASE and tl.breath[i + 1] == 3


def test_breathing_programs_have_the_published_timings():
    res = builtin.load("resonance")
    assert [res.dur_ms[i] for i in (1, 2)] == [4000, 6000]   # 6 breaths per minute
    box = builtin.load("box")
    assert [box.dur_ms[i] for i in range(1, 5)] == [4000] * 4
    assert [box.breath[i] for i in range(1, 5)] == [1, 2, 3, 2]
    b478 = builtin.load("478")
    assert [b478.dur_ms[i] for i in (1, 2, 3)] == [4000, 7000, 8000]
    ramp = builtin.load("ramp")
    first = ramp.dur_ms[1] + ramp.dur_ms[2]
    last = ramp.dur_ms[ramp.n - 2] + ramp.dur_ms[ramp.n - 1]
    assert abs(60000 / first - 11) < 0.1 and abs(60000 / last - 6) < 0.2
    assert abs(ramp.dur_ms[1] * 1.5 - ramp.dur_ms[2]) <= 2   # inhale:exhale 1:1.5
    assert 8 * 60000 <= ramp.total_ms - 5000 < 8 * 60000 + 12000
    relax = builtin.load("relax")
    assert relax.total_ms == 20 * 60000
    assert not steps(relax, M_SQUEEZE)


def test_assessment_follows_the_glazer_protocol():
    tl = builtin.load("assessment")
    assert tl.dur_ms[0] == 60000 and tl.role[0] == R_BASELINE
    flicks = steps(tl, M_FLICK)
    maxes = steps(tl, M_MAX)
    holds = steps(tl, M_SQUEEZE)
    assert len(flicks) == 5
    # the MVC comes from holds cued "as hard as you can" (max), not from plain squeezes
    assert [tl.dur_ms[i] for i in maxes] == [10000] * 5
    assert [tl.role[i] for i in maxes] == [R_MVC] * 5
    assert all(tl.dur_ms[i + 1] == 10000 for i in maxes)
    assert [tl.dur_ms[i] for i in holds] == [60000] and tl.role[holds[0]] != R_MVC
    assert tl.role[tl.n - 1] == R_BASELINE and tl.dur_ms[tl.n - 1] == 60000
    assert tl.reps == 11


def test_steps_json_has_the_contract_fields():
    from host_tools.programs import steps
    rows = steps(builtin.load("flicks"))
    assert set(rows[0]) == {"start_ms", "duration_ms", "breath", "muscle", "role"}
    assert rows[0]["role"] == "baseline" and rows[1]["role"] is None


def _errors(spec):
    with pytest.raises(program.ProgramError) as e:
        program.build(spec)
    return e.value.errors


def test_one_error_per_bad_field():
    errs = _errors({"name": "Bad Name", "blocks": [
        {"reps": 0, "steps": [{"s": 5, "muscle": "squeez"}, {"muscle": "release"},
                              {"s": 0.05}, {"s": 5, "breath": "sing"}]}]})
    text = "\n".join(errs)
    assert len(errs) == 6
    assert "name:" in text
    assert "blocks[0].reps" in text
    assert "blocks[0].steps[0].muscle" in text and "squeez" in text
    assert "blocks[0].steps[1]: needs a duration" in text
    assert "blocks[0].steps[2].s" in text
    assert "blocks[0].steps[3].breath" in text


@pytest.mark.parametrize("spec,needle", [
    ({"name": "x", "blocks": [{"steps": [{"s": 61, "muscle": "squeeze"}]}]}, "at most 60 s"),
    ({"name": "x", "blocks": [{"steps": [{"s": 4, "muscle": "flick"}]}]}, "at most 3 s"),
    ({"name": "x", "blocks": [{"sets": 3, "set_rest_s": 5,
                               "steps": [{"s": 5, "muscle": "squeeze"}]}]},
     "at least 10 s of rest"),
    ({"name": "x", "blocks": [{"reps": 200, "steps": [{"s": 30}]}]}, "60 min limit"),
    ({"name": "x", "blocks": [{"steps": [{"s": 5, "role": "mvc"}]}]}, "mvc"),
    ({"name": "x", "blocks": []}, "non-empty"),
    ({"name": "x"}, "blocks"),
    ([1, 2], "JSON object"),
    ({"name": "x", "blocks": [{"steps": [{"s": "5"}]}]}, "number of seconds"),
    ({"name": "x", "blocks": [{"steps": [{"s": float("nan")}]}]}, "number of seconds"),
    ({"name": "x", "blocks": [{"steps": [{"s": 5, "colour": "red"}]}]}, "unknown field"),
])
def test_safe_limits(spec, needle):
    assert needle in "\n".join(_errors(spec))


def test_sets_insert_rest_between_but_not_after():
    tl = program.build({"name": "x", "blocks": [
        {"sets": 2, "reps": 2, "set_rest_s": 30,
         "steps": [{"s": 5, "muscle": "squeeze"}, {"s": 5, "muscle": "release"}]}]})
    assert tl.n == 9
    assert tl.muscle[4] == M_REST and tl.dur_ms[4] == 30000
    assert tl.total_ms == 4 * 10000 + 30000
