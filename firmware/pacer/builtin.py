"""Built-in programs, as specs for program.build(). Durations in ms so no float reaches the board.

Every built-in opens with a rest step in the baseline role: the probe settles, the rest level is
measured and zeroed there, before any effort is asked for. The relaxation programs (reverse-kegel,
push, relax) also close with one, so the rest level after the work can be compared with the one
before it (Glazer pre/post baselines, anchors section 3). The drop and push programs open with a
few paced breaths at rest: the device learns how the person's own breath moves the probe (and the
abdominal channel), so a drop cued on the inhale is judged with the inhale's rise taken out.
"""
from pacer import program


def _st(ms, muscle="rest", breath="free", role=None):
    d = {"ms": ms, "muscle": muscle, "breath": breath}
    if role:
        d["role"] = role
    return d


def _lead(ms=10000):
    return {"steps": [_st(ms, role="baseline")]}


def _hold_release(name, title, hold_ms, rest_ms, reps, sets, set_rest_ms, muscle="squeeze"):
    return {"name": name, "title": title, "blocks": [
        _lead(),
        {"reps": reps, "sets": sets, "set_rest_ms": set_rest_ms,
         "steps": [_st(hold_ms, muscle), _st(rest_ms, "release")]}]}


def _breathing(name, title, pattern, cycles, muscle="rest", lead_ms=5000):
    steps = []
    for breath, ms in pattern:
        steps.append(_st(ms, muscle, breath))
    return {"name": name, "title": title,
            "blocks": [_lead(lead_ms), {"reps": cycles, "steps": steps}]}


def _rest_breaths(n, inhale_ms, exhale_ms):
    return {"reps": n, "steps": [_st(inhale_ms, breath="inhale"), _st(exhale_ms, breath="exhale")]}


def _reverse_kegel():
    # drop and lengthen on the inhale, hold ~5 s, release on the exhale ~5 s, sets of 10 (anchors
    # section 1)
    return {"name": "reverse-kegel", "title": "Reverse Kegel (drop and release)", "blocks": [
        _lead(), _rest_breaths(3, 5000, 5000),
        {"reps": 10, "sets": 2, "set_rest_ms": 30000, "steps": [
            _st(5000, "drop", "inhale"), _st(5000, "release", "exhale")]},
        {"steps": [_st(30000, role="baseline")]}]}


def _push():
    # office coordination practice for dyssynergic defecation (Rao 2007, anchors section 11): a
    # diaphragmatic breath in, then a gentle 10 s push with the floor let go, then rest
    return {"name": "push", "title": "Push coordination (let go while pushing)", "blocks": [
        _lead(30000), _rest_breaths(3, 4000, 6000),
        {"reps": 5, "sets": 2, "set_rest_ms": 30000, "steps": [
            _st(4000, breath="inhale"), _st(10000, "push"), _st(4000, breath="exhale"),
            _st(6000)]},
        {"steps": [_st(30000, role="baseline")]}]}


def _ramp():
    # 11 -> 6 breaths/min over 8 minutes, inhale:exhale 1:1.5, like a sleep pacer.
    steps = []
    t = 0
    span = 480000
    while t < span:
        # breaths per minute x1000, linear in elapsed time
        bpm_milli = 11000 - (5000 * t) // span
        cycle = 60000000 // bpm_milli
        inhale = (cycle * 2) // 5
        steps.append(_st(inhale, breath="inhale"))
        steps.append(_st(cycle - inhale, breath="exhale"))
        t += cycle
    return {"name": "ramp", "title": "Breathing ramp 11 to 6 per minute",
            "blocks": [_lead(5000), {"steps": steps}]}


def _relax():
    # 20 minutes of down-training: slow breathing at 6/min with the floor relaxed and watched.
    lead = 30000
    cycles = (1200000 - 2 * lead) // 10000
    spec = _breathing("relax", "Relaxation (down-training) 20 min",
                      (("inhale", 4000), ("exhale", 6000)), cycles, lead_ms=lead)
    spec["blocks"].append({"steps": [_st(lead, role="baseline")]})
    return spec


def _assessment():
    return {"name": "assessment", "title": "Assessment (Glazer-style)", "blocks": [
        {"steps": [_st(60000, role="baseline")]},
        {"reps": 5, "steps": [_st(1000, "flick"), _st(10000, "release")]},
        {"reps": 5, "steps": [_st(10000, "max", role="mvc"), _st(10000, "release")]},
        {"steps": [_st(60000, "squeeze"), _st(60000, role="baseline")]}]}


def _calibrate():
    return {"name": "calibrate", "title": "Calibrate rest and maximum", "blocks": [
        {"steps": [_st(20000, role="baseline")]},
        {"reps": 3, "steps": [_st(5000, "max", role="mvc"), _st(10000, "release")]}]}


def _specs():
    return {
        "kegel": _hold_release("kegel", "Kegel 5 s hold / 5 s release", 5000, 5000, 10, 3, 60000),
        "kegel-10": _hold_release("kegel-10", "Kegel 10 s hold / 10 s release", 10000, 10000, 10, 3,
                                  60000),
        "flicks": _hold_release("flicks", "Quick flicks", 1000, 2000, 10, 3, 30000, "flick"),
        "endurance": _hold_release("endurance", "Endurance hold 60 s", 60000, 30000, 2, 1, 0),
        "reverse-kegel": _reverse_kegel(),
        "push": _push(),
        "resonance": _breathing("resonance", "Resonance breathing 6/min",
                                (("inhale", 4000), ("exhale", 6000)), 30),
        "box": _breathing("box", "Box breathing 4-4-4-4",
                          (("inhale", 4000), ("hold", 4000), ("exhale", 4000), ("hold", 4000)), 20),
        "478": _breathing("478", "4-7-8 breathing",
                          (("inhale", 4000), ("hold", 7000), ("exhale", 8000)), 8),
        "ramp": _ramp(),
        "relax": _relax(),
        "assessment": _assessment(),
        "calibrate": _calibrate(),
    }


NAMES = ("kegel", "kegel-10", "flicks", "endurance", "reverse-kegel", "push", "resonance", "box",
         "478", "ramp", "relax", "assessment", "calibrate")


def spec(name):
    s = _specs().get(name)
    if s is None:
        raise program.ProgramError(["program %r not found; built-ins: %s"
                                    % (name, ", ".join(NAMES))])
    return s


def load(name):
    return program.build(spec(name))
