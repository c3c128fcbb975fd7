"""The engine's relaxation verdicts against the simulator's truth, on the project's own personas
(host_tools/sim; MPX5010 sensor model: noise, quantisation, spikes; probe warm-up as drawn).

Targets (issue 11) and tolerances:
- drop verdict accuracy >= 0.95: the device's `achieved` against the truth (the floor's own mean
  over the judged window let go by at least drop_min, 1 cmH2O);
- paradoxical recall >= 0.95, false rate <= 0.05 (truth: the floor rose 2 cmH2O or more);
- push pattern accuracy >= 0.9 with two channels;
- tension episode recall >= 0.9 (a nudge between an episode's start and 3 s after it eased), at
  most 1 false nudge per 10 minutes;
- rest tone change within 0.5 cmH2O of the floor's own (last minute minus first minute);
- with a warming probe (+5 cmH2O, 1-minute time constant) relax_ms within 500 ms of the truth
  for >= 90 % of relaxed reps, median error <= 400 ms, kegel and flicks.
make test runs one seed of a few personas; PACER_SLOW=1 runs three seeds of every relevant one.
"""
import json
import os

import pytest

from host_tools.sim import simulate
from pacer import builtin, replay
from pacer.events import NONE
from pacer.settings import Settings

SLOW = os.environ.get("PACER_SLOW") == "1"
SEEDS = (1, 2, 3) if SLOW else (1,)
DROP_MIN = 1.0
PARADOX = 2.0


def _run(prog, persona, seed, abdominal=True, overrides=None, tl=None):
    tl = tl or builtin.load(prog)
    tr = simulate(tl, persona, seed, sensor="mpx5010", abdominal=abdominal, overrides=overrides)
    rows = [(t, int(round((p if p is not None else 0.0) * 100)),
             NONE if a is None else int(round(a * 100))) for t, p, a, *_ in tr]
    lines = []
    replay.run(tl, Settings(), rows, lines.append, 0, 0)
    return tl, [json.loads(x) for x in lines], json.loads(tr.truth_json())


DROP_PERSONAS = (("relaxer", "typical", "hypertonic", "paradoxical", "non-relaxer", "weak-pusher")
                 if SLOW else ("relaxer", "hypertonic", "paradoxical", "non-relaxer"))


@pytest.mark.parametrize("abdominal", [True, False])
def test_drop_verdicts_and_paradoxical_steps_match_the_truth(abdominal):
    n = agree = para_true = para_hit = not_para = para_false = 0
    for persona in DROP_PERSONAS:
        for seed in SEEDS:
            _tl, ev, truth = _run("reverse-kegel", persona, seed, abdominal)
            dev = [e for e in ev if e["type"] == "drop"]
            assert len(dev) == len(truth["drops"]) == 20
            for e, t in zip(dev, truth["drops"]):
                floor = t["floor_cmH2O"]
                n += 1
                agree += e["achieved"] == (floor is not None and floor <= -DROP_MIN)
                if floor is not None and floor >= PARADOX:
                    para_true += 1
                    para_hit += "paradoxical" in e["flags"]
                else:
                    not_para += 1
                    para_false += "paradoxical" in e["flags"]
    assert agree / n >= 0.95, (agree, n)
    assert para_true and para_hit / para_true >= 0.95, (para_hit, para_true)
    assert para_false / not_para <= 0.05, (para_false, not_para)


def test_push_patterns_match_the_truth_with_two_channels():
    n = ok = 0
    personas = ("relaxer", "typical", "hypertonic", "paradoxical", "weak-pusher") if SLOW else (
        "relaxer", "paradoxical", "weak-pusher", "hypertonic")
    seen = set()
    for persona in personas:
        for seed in SEEDS:
            _tl, ev, truth = _run("push", persona, seed)
            dev = [e for e in ev if e["type"] == "drop"]
            assert len(dev) == len(truth["drops"]) == 10
            for e, t in zip(dev, truth["drops"]):
                n += 1
                ok += e["pattern"] == t["pattern"]
                seen.add(t["pattern"])
    assert {"coordinated", "paradoxical", "weak_push"} <= seen   # the check compared something
    assert ok / n >= 0.9, (ok, n)


@pytest.mark.parametrize("persona", ["hypertonic", "relaxer"])
def test_tension_episodes_and_rest_tone_in_a_relax_session(persona):
    for seed in SEEDS:
        tl, ev, truth = _run("relax", persona, seed)
        nudges = [e for e in ev if e["type"] == "alarm" and e["kind"] == "tension"]
        used = set()
        hit = 0
        for ep in truth["tension"]:
            end = ep["end_ms"] if ep["end_ms"] is not None else tl.total_ms
            match = [k for k, e in enumerate(nudges)
                     if ep["start_ms"] <= e["t_ms"] <= end + 3000 and k not in used]
            if match:
                hit += 1
                used.add(match[0])
        false = len(nudges) - len(used)
        if persona == "hypertonic":
            assert truth["tension"] and hit / len(truth["tension"]) >= 0.9
        assert false <= tl.total_ms // 600000, (false, len(nudges))
        sm = ev[-1]
        per_min = truth["floor_per_min_cmH2O"]
        assert sm["rest_tone_change_cmH2O"] is not None
        assert abs(sm["rest_tone_change_cmH2O"] - (per_min[-1] - per_min[0])) <= 0.5
        assert sm["overhold_alarms"] == 0


@pytest.mark.parametrize("prog", ["kegel", "flicks"])
def test_relax_times_with_a_warming_probe(prog):
    errors = []
    relaxed = 0
    for seed in SEEDS:
        _tl, ev, truth = _run(prog, "typical", seed,
                              overrides={"thermal": 5.0, "thermal_tau_s": 60.0})
        reps = [e for e in ev if e["type"] == "rep"]
        assert len(reps) == len(truth["reps"]) == 30
        for e, t in zip(reps, truth["reps"]):
            if t["relax_ms"] is None:
                continue
            relaxed += 1
            if e["relax_ms"] is not None:
                errors.append(abs(e["relax_ms"] - t["relax_ms"]))
    within = sum(1 for x in errors if x <= 500)
    assert relaxed and within / relaxed >= 0.9, (within, relaxed)
    assert sorted(errors)[len(errors) // 2] <= 400
