"""The sensor simulator: determinism, persona properties, artifacts, faults, CLI, and byte parity
with the real MicroPython VM."""
import argparse
import functools
import json
import os
import statistics

import pytest

from host_tools.errors import CliError
from host_tools.sim import Sampler, personas, sensors, simulate, truth_path
from host_tools.sim.rng import Rng
from host_tools.sim.sampler import ARTIFACT_COUGH, ARTIFACT_FAULT, ARTIFACT_MOTOR, ARTIFACT_SPIKE
from pacer import builtin, program
from pacer.program import B_FREE, M_RELEASE, M_SQUEEZE

SIM_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                       "host_tools", "sim")

# 30 s touching every cue kind: baseline, squeezes with an inhale release, a flick, a drop.
SHORT = {"name": "short", "blocks": [
    {"steps": [{"ms": 5000, "role": "baseline"}]},
    {"reps": 3, "steps": [{"ms": 3000, "muscle": "squeeze"},
                          {"ms": 3000, "breath": "inhale", "muscle": "release"}]},
    {"steps": [{"ms": 1000, "muscle": "flick"}, {"ms": 2000, "muscle": "release"},
               {"ms": 2000, "breath": "inhale", "muscle": "drop"},
               {"ms": 2000, "breath": "exhale", "muscle": "release"}]}]}
REST_6MIN = {"name": "rest6", "blocks": [{"steps": [{"s": 360, "role": "baseline"}]}]}


def short():
    return program.build(SHORT)


@functools.cache
def run(prog, persona, seed=1, sensor=None):
    """(rows, truth) of a built-in program, cached: several tests look at the same runs."""
    tr = simulate(builtin.load(prog), persona, seed, sensor=sensor)
    rows = list(tr)
    return rows, json.loads(tr.truth_json())


def csv_text(tl, persona, seed, **kw):
    return "\n".join(simulate(tl, persona, seed, **kw).lines()) + "\n"


def mean(xs):
    return sum(xs) / len(xs)


# -- determinism --

def test_same_seed_gives_identical_csv_and_truth():
    a = simulate(short(), "cougher", 7, jitter_ms=3, sensor="mpx5010")
    b = simulate(short(), "cougher", 7, jitter_ms=3, sensor="mpx5010")
    assert list(a.lines()) == list(b.lines())
    assert a.truth_json() == b.truth_json()
    # A Trace re-runs from its seed on every pass.
    assert list(a.lines()) == list(b.lines())


def test_different_seed_gives_a_different_trace():
    assert csv_text(short(), "typical", 1, sensor="mpx5010") != \
        csv_text(short(), "typical", 2, sensor="mpx5010")


def test_person_does_not_depend_on_sensor_choice():
    # Separate random streams: the same seed is the same person whatever the sensor.
    _, t1 = run("kegel", "typical", 5, "mpx5010")
    _, t2 = run("kegel", "typical", 5, "bmp280")
    assert t1["mvc_cmH2O"] == t2["mvc_cmH2O"]
    assert [r["peak_cmH2O"] for r in t1["reps"]] == [r["peak_cmH2O"] for r in t2["reps"]]


def test_rng_sequence_is_pinned():
    # Pinned so a change to the generator (which would break cross-runtime replays) is seen.
    r = Rng(1, 0)
    first = [r.u32() for _ in range(3)]
    assert first == PINNED_U32
    g = Rng(1, 9)
    xs = [g.gauss(0.0, 1.0) for _ in range(20000)]
    assert abs(mean(xs)) < 0.03
    assert 0.97 < statistics.pstdev(xs) < 1.03


PINNED_U32 = [3630687087, 2772974634, 4217930956]


# -- persona properties --

@pytest.mark.parametrize("persona,band", [
    ("weak", personas.BAND_WEAK), ("strong", personas.BAND_STRONG),
    ("typical", personas.BAND_MODERATE), ("very-weak", personas.BAND_VERY_WEAK)])
def test_mvc_is_drawn_inside_the_persona_band(persona, band):
    seen = []
    for seed in range(1, 21):
        s = Sampler(persona, seed)
        assert band[0] <= s.values["mvc"] <= band[1]
        seen.append(s.values["mvc"])
    assert max(seen) - min(seen) > (band[1] - band[0]) / 3  # the seed really varies it


def test_typical_person_relaxes_after_every_rep():
    _, truth = run("kegel", "typical")
    reps = truth["reps"]
    assert len(reps) == 30
    assert all(r["relaxed"] for r in reps)
    assert all(300 <= r["relax_ms"] <= 3000 for r in reps if not r["missed"])
    assert truth["relax_band_cmH2O"] == 1.0


def test_non_relaxer_does_not_relax_on_most_reps():
    _, truth = run("kegel", "non-relaxer")
    reps = truth["reps"]
    unrelaxed = [r for r in reps if not r["relaxed"]]
    assert len(unrelaxed) >= 0.8 * len(reps)
    assert all(r["relax_ms"] is None for r in unrelaxed)


def test_non_relaxer_stays_well_above_rest_after_release():
    rows, truth = run("kegel", "non-relaxer")
    rest = truth["rest_cmH2O"]
    # The last 1 s of each release step: still at least 5 cmH2O above rest.
    tl = builtin.load("kegel")
    for i in range(tl.n):
        if tl.muscle[i] == M_RELEASE and i > 2:
            end = tl.start_ms[i] + tl.dur_ms[i]
            tail = [r[3] for r in rows if end - 1000 <= r[0] < end]
            assert mean(tail) - rest > 5.0


def test_late_responder_reacts_later_than_typical():
    _, typ = run("kegel", "typical")
    _, late = run("kegel", "late-responder")
    t_on = [r["onset_ms"] for r in typ["reps"]]
    l_on = [r["onset_ms"] for r in late["reps"]]
    assert all(200 <= x <= 800 for x in t_on)
    assert mean(l_on) > mean(t_on) + 800


def _hold_ratio(persona):
    # The first 60 s hold of the endurance program: late force over early force, above rest.
    rows, truth = run("endurance", persona)
    rest = truth["rest_cmH2O"]
    tl = builtin.load("endurance")
    s = tl.start_ms[1]
    early = mean([r[3] for r in rows if s + 5000 <= r[0] < s + 15000]) - rest
    late = mean([r[3] for r in rows if s + 50000 <= r[0] < s + 60000]) - rest
    return late / early


def test_fatiguing_persona_fades_over_a_60s_hold():
    assert _hold_ratio("fatiguing") < 0.6
    assert _hold_ratio("typical") > 0.8


def test_typical_squeezes_rise_at_about_30_cmh2o_per_s():
    rows, truth = run("kegel", "typical")
    mvc = truth["mvc_read_cmH2O"]
    slopes = []
    for rep in truth["reps"]:
        if rep["missed"]:
            continue
        start = rep["start_ms"]
        seg = [(r[0], r[4] * mvc) for r in rows if start <= r[0] < start + 5000]
        peak = max(p for _, p in seg)
        t10 = next(t for t, p in seg if p >= 0.1 * peak)
        t90 = next(t for t, p in seg if p >= 0.9 * peak)
        slopes.append(0.8 * peak / ((t90 - t10) / 1000.0))
    assert 22.0 <= statistics.median(slopes) <= 38.0


def test_weak_person_squeezes_less_and_misses_some():
    _, truth = run("kegel", "weak")
    peaks = [r["peak_cmH2O"] for r in truth["reps"] if not r["missed"]]
    assert max(peaks) < personas.BAND_WEAK[1]
    _, typ = run("kegel", "typical")
    assert mean(peaks) < mean([r["peak_cmH2O"] for r in typ["reps"]])


def test_cougher_coughs_with_matching_abdominal_rise():
    rows, truth = run("kegel", "cougher", sensor="mpx5010")
    coughs = truth["coughs"]
    assert len(coughs) >= 7  # 2-4 a minute over 7 min
    by_t = {r[0]: r for r in rows}
    for start, dur in coughs:
        assert 250 <= dur <= 450
        before = [r for r in rows if start - 400 <= r[0] < start]
        during = [r for r in rows if start <= r[0] < start + dur]
        assert during and all(r[5] in (ARTIFACT_COUGH, ARTIFACT_SPIKE, ARTIFACT_FAULT)
                              for r in during[1:-1])
        abd_rise = max(r[2] for r in during) - mean([r[2] for r in before])
        pel_rise = max(r[1] for r in during) - mean([r[1] for r in before])
        assert abd_rise > 20.0
        assert pel_rise > 10.0
        # The truth leaves the cough out.
        assert max(r[3] for r in during) - mean([r[3] for r in before]) < 5.0
    assert by_t


def test_bearer_down_raises_abdominal_as_much_as_pelvic():
    rows, truth = run("kegel", "bearer-down")
    bore = [r for r in truth["reps"] if r["bear_down"] and not r["missed"]]
    assert len(bore) >= 0.6 * len(truth["reps"])
    for rep in bore:
        s = rep["start_ms"]
        base = [r for r in rows if s - 1000 <= r[0] < s]
        seg = [r for r in rows if s <= r[0] < s + 5000]
        pel = max(r[1] for r in seg) - mean([r[1] for r in base])
        abd = max(r[2] for r in seg) - mean([r[2] for r in base])
        assert abd >= pel > 5.0
        assert rep["peak_cmH2O"] < pel  # the pelvic floor itself did much less
        assert any(r[5] == 3 for r in seg)


def test_typical_abdominal_rise_is_small_next_to_the_squeeze():
    # Good technique (Perifit's criterion): pelvic rise at least twice the abdominal one.
    rows, truth = run("kegel", "typical")
    for rep in truth["reps"][:10]:
        s = rep["start_ms"]
        base = [r for r in rows if s - 1000 <= r[0] < s]
        seg = [r for r in rows if s + 2000 <= r[0] < s + 5000]
        pel = mean([r[1] for r in seg]) - mean([r[1] for r in base])
        abd = mean([r[2] for r in seg]) - mean([r[2] for r in base])
        assert pel >= 2 * abd


def test_leaky_probe_reading_drifts_down():
    def drift(persona):
        # Reading minus truth: the probe's own drift (warm-up up, leak down) over the session.
        rows, _ = run("kegel", persona)
        first = mean([r[1] - r[3] for r in rows if 5000 <= r[0] < 10000])
        last = mean([r[1] - r[3] for r in rows if r[0] >= 425000])
        return last - first
    typical = drift("typical")
    assert typical > 0.5  # warming only
    assert drift("leaky-probe") < typical - 4.0


def _noise_sd(persona):
    rows, _ = run("kegel", persona, 3, "mpx5010")
    d = [r[1] - r[3] for r in rows if r[0] < 10000 and r[5] == 0]
    diffs = [b - a for a, b in zip(d, d[1:])]
    return statistics.pstdev(diffs)


def test_noisy_sensor_is_noisier():
    typ = _noise_sd("typical")
    assert 0.05 < typ < 0.25  # 3 counts of 0.028 cmH2O, times sqrt(2) for differences
    assert _noise_sd("noisy-sensor") > 3 * typ


def test_spikes_are_single_samples():
    rows, _ = run("kegel", "noisy-sensor", 3, "mpx5010")
    idx = [i for i, r in enumerate(rows) if r[5] == ARTIFACT_SPIKE]
    assert len(idx) > 30
    for i in idx:
        if i == 0 or i == len(rows) - 1:
            continue
        assert rows[i - 1][5] != ARTIFACT_SPIKE and rows[i + 1][5] != ARTIFACT_SPIKE
        here = rows[i][1]
        assert abs(here - rows[i - 1][1]) > 5.0 or here in (0.0, 102.0)


def test_thermal_settling_decays():
    tr = simulate(program.build(REST_6MIN), "typical", 1)
    off = {}
    for t, p, _, true, _, _, _ in tr:
        off[t] = p - true
    values = tr.truth()  # noqa: F841  (a completed pass leaves the sampler in place)
    amp = tr.sampler.values["thermal"]
    assert 2.0 <= amp <= 4.0
    first_minute = off[60000] - off[0]
    fifth_minute = off[300000] - off[240000]
    assert first_minute > 0.5
    assert first_minute > 3 * fifth_minute >= 0
    assert off[359980] < amp


def test_drop_falls_below_rest():
    rows, truth = run("reverse-kegel", "typical")
    tl = builtin.load("reverse-kegel")
    rest = truth["rest_cmH2O"]
    s = tl.start_ms[[tl.muscle[i] for i in range(tl.n)].index(program.M_DROP)]
    assert min(r[3] for r in rows if s <= r[0] < s + 5000) < rest - 1.0


def test_abdominal_follows_the_breath_cues():
    rows, truth = run("resonance", "typical")
    tl = builtin.load("resonance")
    depth = truth["person"]["breath_iap"]
    by_t = dict((r[0], r[2]) for r in rows)
    for i in range(1, tl.n - 1, 2):  # inhale steps, each followed by an exhale
        end_in = tl.start_ms[i] + tl.dur_ms[i] - 20
        end_ex = tl.start_ms[i + 1] + tl.dur_ms[i + 1] - 20
        assert by_t[end_in] - by_t[end_ex] > 0.5 * depth


def test_posture_sets_resting_pressure():
    sup = [Sampler("typical", s).values["iap_rest"] for s in range(1, 31)]
    std = [Sampler("standing", s).values["iap_rest"] for s in range(1, 31)]
    assert 7.0 < mean(sup) < 14.0
    assert 27.0 < mean(std) < 35.0


def test_probe_gain_scales_readings():
    _, typ = run("kegel", "typical")
    _, low = run("kegel", "low-gain-probe")
    assert typ["mvc_cmH2O"] == low["mvc_cmH2O"]  # same person, smaller probe
    ratio = mean([r["peak_cmH2O"] for r in low["reps"]]) / mean(
        [r["peak_cmH2O"] for r in typ["reps"]])
    assert 0.45 < ratio < 0.65


# -- streaming, external cues, motor, faults --

def test_truth_does_not_depend_on_poll_rate():
    tl = short()
    a = Sampler("typical", 4, timeline=tl)
    b = Sampler("typical", 4, timeline=tl)
    for t in range(0, 30000, 5):
        b.sample(t)
        if t % 20 == 0:
            a.sample(t)
            assert a.true_cmH2O == b.true_cmH2O
    with pytest.raises(ValueError):
        a.sample(10)


def test_person_follows_externally_shown_cues():
    s = Sampler("typical", 2)
    s.set_cue(0, B_FREE, 0)
    for t in range(0, 3000, 20):
        s.sample(t)
    rest = s.true_cmH2O
    s.set_cue(3000, B_FREE, M_SQUEEZE, step=7)
    for t in range(3000, 3200, 20):
        s.sample(t)
    assert s.true_cmH2O - rest < 0.5  # not yet: the latency is at least 200 ms
    for t in range(3200, 8000, 20):
        s.sample(t)
    assert s.true_cmH2O - rest > 10.0
    assert s.step == 7
    s.set_cue(8000, B_FREE, M_RELEASE)
    for t in range(8000, 12000, 20):
        s.sample(t)
    assert s.true_cmH2O - rest < 2.0
    reps = s.book.records()
    assert len(reps) == 1 and reps[0].get("relaxed") and reps[0].get("step") == 7


def test_motor_adds_small_steps_and_is_flagged():
    s = Sampler("typical", 3, sensor="mpx5010")
    off, on = [], []
    for t in range(0, 4000, 20):
        if t == 2000:
            s.motor_on(True)
        p, _ = s.sample(t)
        if s.artifact != ARTIFACT_SPIKE:
            (on if s.motor else off).append(p - s.true_cmH2O)
            assert s.artifact == (ARTIFACT_MOTOR if s.motor else 0)
    step = mean(on) - mean(off)
    assert 0.1 < step < 0.5
    assert statistics.pstdev(on) > statistics.pstdev(off)


def test_channels_polled_separately_share_one_sample():
    s = Sampler("cougher", 1, sensor="mpx5010", timeline=short())
    for t in range(0, 5000, 20):
        p = s.pressure(0, t)
        a = s.pressure(1, t)
        assert (p, a) == s._pair


def test_faults_disconnect_saturate_stuck_and_bus():
    faults = [{"kind": "disconnect", "at_ms": 2000, "ms": 1000},
              ("saturate", 6000, 1000), ("stuck", 9000, 2000), ("bus", 20000, 2000, 0.5)]
    tr = simulate(short(), "typical", 1, sensor="mpx5010", faults=faults)
    rows = list(tr)
    win = lambda a, b: [r for r in rows if a <= r[0] < b]  # noqa: E731
    assert all(r[1] is None and r[2] is not None and r[5] == ARTIFACT_FAULT
               for r in win(2000, 3000))
    assert all(r[1] == 102.0 for r in win(6000, 7000))
    stuck = win(9000, 11000)
    assert len(set(r[1] for r in stuck)) == 1 and len(set(r[3] for r in stuck)) > 1
    lost = 100 - len(win(20000, 22000))
    assert 30 <= lost <= 70
    assert len(win(22000, 24000)) == 100
    assert tr.truth()["missing_samples"] == lost
    lines = list(tr.lines())
    assert lines[1 + 100].startswith("2000,,")  # disconnected: an empty pressure cell


def test_bad_fault_and_persona_are_reported():
    with pytest.raises(ValueError, match="kind must be one of"):
        simulate(short(), "typical", 1, faults=[("melt", 0, 10)])
    with pytest.raises(personas.PersonaError) as e:
        personas.get("nobody")
    for name in personas.NAMES:
        assert name in str(e.value)
    with pytest.raises(sensors.SensorError, match="mpx5010"):
        simulate(short(), "typical", 1, sensor="bogus")


@pytest.mark.parametrize("name", personas.NAMES)
def test_every_persona_runs_and_is_described(name):
    assert 10 < len(personas.describe(name)) < 100
    tr = simulate(short(), name, 1, sensor="mpx5010")
    rows = list(tr)
    assert len(rows) == 1501   # 0 to the program end, both included
    assert len(tr.reps) == 4  # three squeezes and a flick
    assert all(r[1] is None or 0.0 <= r[1] <= 102.0 for r in rows)


# -- output format --

def test_csv_and_truth_format():
    tr = simulate(short(), "typical", 1, sensor="hx710b", jitter_ms=4)
    lines = list(tr.lines())
    assert lines[0] == "t_ms,pressure_cmH2O,abdominal_cmH2O,true_cmH2O,activation,artifact,step"
    ts = []
    for line in lines[1:]:
        c = line.split(",")
        assert len(c) == 7
        ts.append(int(c[0]))
        for v in c[1:4]:
            assert len(v.split(".")[1]) == 2
        assert len(c[4].split(".")[1]) == 3
        assert c[6] == "" or 0 <= int(c[6]) < short().n
    assert all(b > a for a, b in zip(ts, ts[1:]))
    assert any(t % 20 for t in ts)  # jittered
    truth = json.loads(tr.truth_json())
    for key in ("persona", "seed", "mvc_cmH2O", "rest_cmH2O", "reps", "coughs", "person"):
        assert key in truth
    rep = truth["reps"][0]
    assert set(rep) == {"step", "muscle", "start_ms", "effort", "missed", "onset_ms",
                        "peak_cmH2O", "relaxed", "relax_ms", "cough", "bear_down"}
    no_abd = list(simulate(short(), "typical", 1, abdominal=False).lines())
    assert no_abd[0] == "t_ms,pressure_cmH2O,true_cmH2O,activation,artifact,step"
    assert truth_path("out/trace.csv") == "out/trace.truth.json"


def test_sim_trace_reads_back_through_the_replay_reader(tmp_path):
    host_trace = pytest.importorskip("host_tools.trace")
    path = tmp_path / "t.csv"
    tr = simulate(short(), "typical", 1, sensor="mpx5010",
                  faults=[("disconnect", 10000, 500)])
    with open(path, "w") as f:
        tr.write_csv(f)
    back = host_trace.read(str(path))
    assert back.has_abd and len(back.samples) == 1501   # 0 to the end, both included


# -- the pacer sim command --

def _cli(*argv):
    from host_tools.commands import sim as cmd
    p = argparse.ArgumentParser()
    cmd.add_arguments(p)
    return cmd.run(p.parse_args(list(argv)))


def test_cli_writes_trace_and_truth(tmp_path, capsys):
    out = tmp_path / "trace.csv"
    assert _cli("--program", "flicks", "--persona", "weak", "--seed", "4", "--out", str(out),
                "--rate", "25", "--jitter", "2", "--sensor", "mprls") == 0
    line = capsys.readouterr().out.strip()
    assert "\n" not in line and "trace.truth.json" in line and "persona weak (seed 4)" in line
    truth = json.loads((tmp_path / "trace.truth.json").read_text())
    assert truth["rate_hz"] == 25 and truth["sensor"] == "mprls" and truth["seed"] == 4
    assert len(out.read_text().splitlines()) == truth["samples"] + 1
    assert not list(tmp_path.glob("*.part"))


def test_cli_program_file_and_options(tmp_path, capsys):
    spec = tmp_path / "p.json"
    spec.write_text(json.dumps(SHORT))
    out = tmp_path / "t.csv"
    assert _cli("--program-file", str(spec), "--out", str(out), "--no-abdominal",
                "--fault", "bus:10:2:0.5", "--set", "mvc=30", "--set", "effort=0.5..0.6",
                "--set", "posture=standing") == 0
    assert out.read_text().startswith("t_ms,pressure_cmH2O,true_cmH2O,")
    truth = json.loads((tmp_path / "t.truth.json").read_text())
    assert truth["mvc_cmH2O"] == 30.0 and truth["posture"] == "standing"
    assert truth["faults"][0]["kind"] == "bus" and truth["missing_samples"] > 0
    capsys.readouterr()
    assert _cli("--personas") == 0
    assert capsys.readouterr().out.count("\n") == len(personas.NAMES)


@pytest.mark.parametrize("argv,message", [
    (["--program", "nope"], "built-ins: kegel"),
    (["--program", "kegel", "--persona", "nobody"], "personas: typical"),
    (["--program", "kegel", "--sensor", "mpx5010", "--set", "nope=1"], "unknown persona parameter"),
    (["--program", "kegel", "--set", "mvc"], "KEY=VALUE"),
    (["--program", "kegel", "--fault", "disconnect:5"], "KIND:START_S:DUR_S"),
    (["--program", "kegel", "--fault", "melt:5:1"], "kind must be one of"),
    (["--program", "kegel", "--jitter", "15"], "jitter_ms"),
    (["--program", "kegel", "--rate", "0"], "rate_hz"),
])
def test_cli_one_line_errors(tmp_path, argv, message):
    with pytest.raises(CliError) as e:
        _cli(*(argv + ["--out", str(tmp_path / "t.csv")]))
    assert message in str(e.value) and "\n" not in str(e.value)
    assert not (tmp_path / "t.csv").exists()


def test_cli_bad_out_and_program_file(tmp_path):
    with pytest.raises(CliError, match="does not exist"):
        _cli("--program", "kegel", "--out", str(tmp_path / "no" / "t.csv"))
    with pytest.raises(CliError, match="is a directory"):
        _cli("--program", "kegel", "--out", str(tmp_path))
    with pytest.raises(CliError, match="--out"):
        _cli("--program", "kegel")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "blocks": [{"steps": [{"s": 1, "muscle": "squish"}]}]}))
    with pytest.raises(CliError, match="muscle: must be one of") as e:
        _cli("--program-file", str(bad), "--out", str(tmp_path / "t.csv"))
    assert "\n" not in str(e.value)
    bad.write_text("{")
    with pytest.raises(CliError, match="not valid JSON"):
        _cli("--program-file", str(bad), "--out", str(tmp_path / "t.csv"))
    with pytest.raises(CliError, match="cannot read"):
        _cli("--program-file", str(tmp_path / "none.json"), "--out", str(tmp_path / "t.csv"))


# -- the same source in the real MicroPython VM --

# 30 s of letting go: rest (with tension episodes for the hypertonic case), a drop, two pushes.
SHORT_PUSH = {"name": "short-push", "blocks": [
    {"steps": [{"ms": 12000, "role": "baseline"}]},
    {"reps": 2, "steps": [{"ms": 3000, "breath": "inhale"}, {"ms": 4000, "muscle": "push"},
                          {"ms": 2000}]},
    {"steps": [{"ms": 3000, "breath": "inhale", "muscle": "drop"}]}]}

PARITY_CASES = [
    ("short", "typical", 11, {"jitter_ms": 3, "sensor": "mpx5010"}),
    ("short", "cougher", 5, {"sensor": "hx710b",
                             "faults": [("disconnect", 4000, 500), ("stuck", 9000, 700),
                                        ("bus", 15000, 1000, 0.5)]}),
    ("short", "bearer-down", 2, {"rate_hz": 40, "sensor": "bmp280"}),
    ("short", "non-relaxer", 9, {"abdominal": False}),
    ("push", "hypertonic", 4, {"sensor": "mpx5010", "overrides": {"episode_per_min": 6.0}}),
    ("push", "paradoxical", 6, {"sensor": "mprls"}),
]

# This VM only garbage-collects when control returns to JavaScript, and the simulator makes a
# float garbage per tick (about 2 kB per CSV line), so the loop hands control back every 10 lines.
_VM_CODE = """
import json
import mpvm_host
from pacer import program
from sim import simulate
progs = json.loads(open('/job/prog.json').read())
for prog, persona, seed, kw in json.loads(open('/job/cases.json').read()):
    if 'faults' in kw:
        kw['faults'] = [tuple(f) for f in kw['faults']]
    tr = simulate(program.build(progs[prog]), persona, seed, **kw)
    print('=== %s' % persona)
    n = 0
    for line in tr.lines():
        print(line)
        n += 1
        if n % 10 == 0:
            await mpvm_host.collect()
    print(tr.truth_json())
"""


def test_micropython_vm_gives_byte_identical_traces(mpvm):
    progs = {"short": SHORT, "push": SHORT_PUSH}
    files = {"/job/prog.json": json.dumps(progs), "/job/cases.json": json.dumps(PARITY_CASES)}
    res = mpvm(_VM_CODE, heap=192 * 1024, dirs={"/simlib/sim": SIM_DIR}, path=["/simlib"],
               files=files)
    assert res.exc_type is None, res.traceback
    expect = []
    for prog, persona, seed, kw in PARITY_CASES:
        tr = simulate(program.build(progs[prog]), persona, seed, **kw)
        expect.append("=== %s" % persona)
        expect.extend(tr.lines())
        expect.append(tr.truth_json())
    expected = "\n".join(expect) + "\n"
    got = res.stdout.replace("\r\n", "\n")
    assert got.count("\n") == expected.count("\n")
    assert got == expected


# -- letting go: drop and push steps, resting tone, tension episodes --

# A push program as the engine's built-in "push" is described (baseline, paced rest breaths,
# inhale + 10 s push + rest, closing baseline), kept here so these tests do not depend on the
# built-in's exact steps.
PUSH = {"name": "push-test", "blocks": [
    {"steps": [{"s": 30, "role": "baseline"}]},
    {"reps": 3, "steps": [{"s": 4, "breath": "inhale"}, {"s": 6, "breath": "exhale"}]},
    {"reps": 5, "sets": 2, "set_rest_s": 30,
     "steps": [{"s": 4, "breath": "inhale"}, {"s": 10, "muscle": "push"},
               {"s": 4, "breath": "exhale"}, {"s": 6}]},
    {"steps": [{"s": 30, "role": "baseline"}]}]}
DROP_KEYS = {"step", "kind", "start_ms", "end_ms", "onset_ms", "rest_cmH2O", "floor_cmH2O",
             "push_cmH2O", "response", "pattern", "cough"}


@functools.cache
def run_spec(name, persona, seed=1, calm=False):
    """calm: without tension episodes (they move a drop's reference when one is under way)."""
    tr = simulate(program.build(PUSH) if name == "push" else builtin.load(name), persona, seed,
                  overrides={"episode_per_min": 0.0} if calm else None)
    rows = list(tr)
    return rows, json.loads(tr.truth_json())


def test_new_personas_are_listed():
    for name in ("relaxer", "hypertonic", "paradoxical", "weak-pusher"):
        assert name in personas.NAMES


@pytest.mark.parametrize("persona,lo,hi", [("typical", -4.1, -2.3), ("relaxer", -5.1, -2.8),
                                           ("hypertonic", -2.6, -1.3)])
def test_drops_let_go_by_the_persona_drop(persona, lo, hi):
    _, truth = run_spec("reverse-kegel", persona, calm=True)
    drops = truth["drops"]
    assert len(drops) == 20 and all(set(d) == DROP_KEYS for d in drops)
    assert [d["kind"] for d in drops] == ["drop"] * 20
    for d in drops:
        assert d["response"] == "let_go" and lo <= d["floor_cmH2O"] <= hi, d
        assert 200 <= d["onset_ms"] <= 800 and d["push_cmH2O"] is None and d["pattern"] is None
        assert d["end_ms"] - d["start_ms"] == 5000


def test_paradoxical_person_tightens_on_drops_and_pushes():
    _, truth = run_spec("reverse-kegel", "paradoxical")
    assert all(d["response"] == "tightened" and d["floor_cmH2O"] >= 2.0 for d in truth["drops"])
    _, truth = run_spec("push", "paradoxical")
    pushes = truth["drops"]
    assert len(pushes) == 10
    for d in pushes:
        assert d["kind"] == "push" and d["pattern"] == "paradoxical"
        assert d["push_cmH2O"] >= 10.0   # type I: an adequate push, the floor tightens


def test_push_patterns_follow_their_definitions():
    seen = set()
    for persona in ("typical", "relaxer", "weak-pusher", "hypertonic", "paradoxical",
                    "non-relaxer"):
        _, truth = run_spec("push", persona)
        for d in truth["drops"]:
            f, p, rest = d["floor_cmH2O"], d["push_cmH2O"], d["rest_cmH2O"]
            want = ("paradoxical" if f >= 2.0 else "weak_push" if p < 10.0
                    else "coordinated" if f <= -0.2 * rest else "incomplete")
            assert d["pattern"] == want, (persona, d)
            seen.add(want)
    assert seen == {"paradoxical", "weak_push", "coordinated", "incomplete"}


def test_persona_push_strengths():
    _, weak = run_spec("push", "weak-pusher")
    assert all(2.0 <= d["push_cmH2O"] <= 6.0 and d["response"] == "let_go"
               for d in weak["drops"])
    _, typ = run_spec("push", "typical")
    assert all(d["push_cmH2O"] >= 10.0 and d["response"] == "let_go" for d in typ["drops"])
    _, rel = run_spec("push", "relaxer")
    assert all(d["pattern"] == "coordinated" for d in rel["drops"])


def test_push_raises_both_channels_and_the_floor_truth_excludes_it():
    rows, truth = run_spec("push", "relaxer")
    d = truth["drops"][0]
    s = d["start_ms"]
    before = [r for r in rows if s - 2000 <= r[0] < s]
    during = [r for r in rows if s + 3000 <= r[0] < s + 10000]
    abd = mean([r[2] for r in during]) - mean([r[2] for r in before])
    pel = mean([r[1] for r in during]) - mean([r[1] for r in before])
    assert abd > 0.8 * d["push_cmH2O"]
    # the probe sees iap_tx of the push, less the floor letting go
    tx = truth["person"]["iap_tx"]
    assert abs(pel - (tx * abd + d["floor_cmH2O"])) < 1.5


def test_drop_floor_is_the_mean_of_the_floor_over_the_window():
    # Recomputed from the sampler's own state: a bug in the window or the reference shows.
    tl = program.build(SHORT_PUSH)
    s = Sampler("hypertonic", 2, timeline=tl)
    gain = s.values["gain"]
    floor = {}
    t = 0
    while t < tl.total_ms:
        s.sample(t)
        floor[t] = gain * s.person.muscle
        t += 10
    s.finish(tl.total_ms)
    assert [d.kind for d in s.drops.drops] == ["push", "push", "drop"]
    d = s.drops.drops[1]
    ref = floor[d.start - 10]
    window = [floor[x] - ref for x in range(d.start + 1000, d.end, 10)]
    assert abs(d.floor() - mean(window)) < 0.05
    assert abs(d.rest - (s.values["rest"] + ref)) < 0.05


def test_hypertonic_rest_tone_eases_and_tension_episodes_come_and_go():
    _, truth = run_spec("relax", "hypertonic")
    p = truth["person"]
    assert 3.0 <= p["tone_rest"] <= 6.0 and 1.0 <= p["tone_ease"] <= 3.0
    minutes = truth["floor_per_min_cmH2O"]
    assert len(minutes) >= 19
    assert abs(minutes[0] - p["tone_rest"]) < 0.3     # no episode in the first minute (seed 1)
    eased = p["tone_rest"] - min(minutes)
    assert p["tone_ease"] - 0.3 <= eased <= p["tone_ease"] + 0.3
    eps = truth["tension"]
    assert 4 <= len(eps) <= 12      # about one per 2-4 minutes over 20 minutes
    for e in eps:
        assert 8000 <= e["end_ms"] - e["start_ms"] <= 40000
        assert 3.0 <= e["peak_cmH2O"] <= 6.0
    gaps = [b["start_ms"] - a["end_ms"] for a, b in zip(eps, eps[1:])]
    assert min(gaps) > 30000


def test_other_personas_have_no_tension_episodes_or_resting_tone():
    _, truth = run_spec("relax", "typical")
    assert truth["tension"] == []
    assert max(truth["floor_per_min_cmH2O"]) < 0.05


def test_a_warming_probe_can_be_asked_for():
    # docs/simulator.md: thermal=5.5, thermal_tau_s=50 gives +5 cmH2O over the first 2 minutes.
    tr = simulate(program.build(REST_6MIN), "typical", 1, overrides={"thermal": 5.5,
                                                                     "thermal_tau_s": 50.0})
    off = {t: p - true for t, p, _, true, _, _, _ in tr}
    assert 4.8 <= off[120000] - off[0] <= 5.2
    assert off[300000] - off[120000] < 0.6


def test_letting_go_parameters_are_checked():
    with pytest.raises(personas.PersonaError, match="push_mode"):
        personas.get("typical", {"push_mode": "maybe"})
    with pytest.raises(personas.PersonaError, match="drop_mode"):
        personas.get("typical", {"drop_mode": "maybe"})


# -- the person in the loop: vibration and colour of the new cues --

FULL, SOFT = 60000, 27000   # duties: soft cues play at about 45 % of full


def _play(w, s, t0, pattern, duty):
    """Drive the watcher as the board does at 50 Hz: a pattern in 10 ms units, on/off from on."""
    on = False
    t = t0
    while True:
        e = (t - t0) // 10
        state = None
        for i, u in enumerate(pattern):
            e -= u
            if e < 0:
                state = i % 2 == 0
                break
        if state is None:
            if on:
                w.see(t, "motor", 0)
            return t
        if state != on:
            w.see(t, "motor", duty if state else 0)
            on = state
        w.poll(t)
        s.sample(t)
        t += 20


def _idle(w, s, t0, t1):
    for t in range(t0, t1, 20):
        w.poll(t)
        s.sample(t)
    return t1


def _pattern_pulses(pattern, soft=False):
    out, t, on = [], 0, True
    for u in pattern:
        if on:
            out.append((t, -(-u * 10 // 20) * 20, soft))
        t += u * 10
        on = not on
    return out


NEW_PATTERNS = {"contract": (25,), "release": (8, 8, 8), "drop": (6, 6, 6, 6, 6),
                "reached": (4,), "done": (20, 10, 20), "fault": (30, 10, 5),
                "push": (10, 10, 10, 10, 10, 10, 10), "nudge": (15, 20, 15), "inhale": (12,),
                "exhale": (6, 6, 6), "hold": (4, 6, 4, 6, 4), "dropped": (4, 8, 4)}


def test_watcher_reads_the_full_and_soft_patterns():
    from host_tools.sim.watch import burst_breath, burst_muscle
    from pacer.program import B_EXHALE, B_HOLD, B_INHALE, M_DROP, M_PUSH, M_REST
    full = {k: burst_muscle(_pattern_pulses(v)) for k, v in NEW_PATTERNS.items()}
    assert full["contract"] == M_SQUEEZE and full["release"] == M_RELEASE
    assert full["drop"] == M_DROP and full["done"] == M_REST and full["push"] == M_PUSH
    assert full["reached"] == M_SQUEEZE and full["fault"] == M_SQUEEZE
    soft = {k: burst_muscle(_pattern_pulses(v, True)) for k, v in NEW_PATTERNS.items()}
    # soft bursts are never muscle cues, except the nudge: "let go"
    assert soft.pop("nudge") == M_RELEASE
    assert set(soft.values()) == {-1}
    breath = {k: burst_breath(_pattern_pulses(v, True)) for k, v in NEW_PATTERNS.items()}
    assert (breath["inhale"], breath["exhale"], breath["hold"]) == (B_INHALE, B_EXHALE, B_HOLD)
    for k in ("dropped", "nudge", "push", "release", "contract"):
        assert breath[k] == -1, k
    assert burst_breath(_pattern_pulses(NEW_PATTERNS["inhale"])) == -1   # full: not a breath


def test_pixel_push_colour_reads_as_push():
    from host_tools.sim.watch import colour_muscle
    from pacer.program import M_DROP, M_PUSH
    def dim(c, level):
        return sum((((c >> sh) & 0xFF) * level // 255) << sh for sh in (16, 8, 0))

    for level in (40, 120, 255):
        assert colour_muscle(dim(0xFF00C0, level)) == M_PUSH
        assert colour_muscle(dim(0x8000FF, level)) == M_DROP


def test_person_in_the_loop_pushes_on_the_push_pattern_and_ignores_soft_cues():
    from host_tools.sim.watch import Watcher
    from pacer.program import B_INHALE, M_PUSH
    s = Sampler("relaxer", 3)
    seen = []
    w = Watcher(s, lambda t, ch, v: seen.append((t, ch, v)), has_led=False)
    t = _idle(w, s, 0, 1000)
    t = _play(w, s, t, (12,), FULL)                      # the self-test buzz: full strength
    t = _idle(w, s, t, 3000)
    # soft cues: inhale, the dropped confirmation, a hold: no muscle change
    t = _play(w, s, t, NEW_PATTERNS["inhale"], SOFT)
    t = _idle(w, s, t, 4000)
    t = _play(w, s, t, NEW_PATTERNS["dropped"], SOFT)
    t = _idle(w, s, t, 5000)
    cues = [v for _, ch, v in seen if ch == "person.cue"]
    assert cues == [{"shown_ms": 3000, "muscle": None, "breath": "inhale"}]
    assert s.person.breath_cue == B_INHALE and w.muscle == 0
    # the push pattern: the person pushes and the floor lets go
    abd0 = s.sample(t)[1]
    t = _play(w, s, t, NEW_PATTERNS["push"], FULL)
    t = _idle(w, s, t, 12000)
    assert w.muscle == M_PUSH and s.person.muscle_cue == M_PUSH
    abd = s.sample(t)[1]
    assert abd - abd0 > 10.0
    assert s.person.muscle < -2.0
    # the soft tension nudge means "let go": release
    t = _play(w, s, t, NEW_PATTERNS["nudge"], SOFT)
    t = _idle(w, s, t, 14000)
    assert s.person.muscle_cue == M_RELEASE
    _idle(w, s, t, 15000)
    drops = [v for _, ch, v in seen if ch == "truth.drop"]
    assert drops and drops[-1]["kind"] == "push" and drops[-1]["end_ms"] is not None
    assert drops[-1]["pattern"] == "coordinated" and drops[-1]["response"] == "let_go"


def test_person_in_the_loop_streams_tension_episodes():
    from host_tools.sim.watch import Watcher
    s = Sampler("hypertonic", 1, overrides={"episode_per_min": 2.0})
    seen = []
    w = Watcher(s, lambda t, ch, v: seen.append((t, ch, v)))
    _idle(w, s, 0, 240000)
    eps = {}
    for _, ch, v in seen:
        if ch == "truth.tension":
            eps[v["n"]] = v
    assert len(eps) >= 2
    done = [e for e in eps.values() if e["end_ms"] is not None]
    assert done and all(e["peak_cmH2O"] >= 3.0 for e in done)
    assert [e.start for e in s.tension.episodes][:len(eps)] == [eps[n]["start_ms"]
                                                                for n in sorted(eps)]
    samples = [v for _, ch, v in seen if ch == "truth"]
    assert max(v[0] for v in samples) > s.values["tone_rest"] - s.values["tone_ease"] + 2.5


def test_vboard_truth_reader_keeps_the_last_drop_and_episode_records(tmp_path):
    from host_tools.vboard import session as vs
    rec = tmp_path / "outputs.jsonl"
    rows = [{"t_ms": 9000, "ch": "truth.drop", "v": {"n": 1, "start_ms": 5000, "end_ms": None}},
            {"t_ms": 10000, "ch": "truth.drop", "v": {"n": 1, "start_ms": 5000, "end_ms": 10000}},
            {"t_ms": 20000, "ch": "truth.drop", "v": {"n": 2, "start_ms": 15000, "end_ms": None}},
            {"t_ms": 30000, "ch": "truth.tension", "v": {"n": 1, "start_ms": 30000,
                                                         "end_ms": None}},
            {"t_ms": 50000, "ch": "truth.tension", "v": {"n": 1, "start_ms": 30000,
                                                         "end_ms": 49000}}]
    rec.write_text("".join(json.dumps(r) + "\n" for r in rows))
    t = vs.read_truth(rec, wait_s=0)
    assert [d["end_ms"] for d in t.drops] == [10000, None]
    assert [e["end_ms"] for e in t.tension] == [49000]
    # a program without reps lines up on its drop cues
    events = [{"type": "phase", "t_ms": 3000 + 10000 * i, "muscle": "drop"} for i in range(2)]
    assert vs.align(events, t) == 2000
