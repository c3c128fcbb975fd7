"""Named simulated people. Each persona is the typical person's parameters with a few changed.

A value written as a (lo, hi) pair is a band: the seed draws the person's exact value uniformly
inside it, so one persona and seed always give the same person. Sources for every value are in
docs/simulator.md (anchors.md sections 2, 3, 5 and 6); values marked "assumed" there are not from
a source.
"""

# Angelo 2017 (PLoS ONE e0187045) squeeze bands in cmH2O, Peritron scale.
BAND_VERY_WEAK = (7.5, 14.5)
BAND_WEAK = (14.6, 26.5)
BAND_MODERATE = (26.6, 41.5)
BAND_GOOD = (41.6, 60.5)
BAND_STRONG = (60.6, 85.0)  # open-ended in the paper; capped below the MPX5010's 102 cmH2O

# Intra-abdominal pressure at rest by posture, (mean, sd) in cmH2O. Sitting is not in the
# sources: assumed between supine and standing.
POSTURE_IAP = {"supine": (10.5, 4.7), "sitting": (20.0, 5.5), "standing": (31.0, 6.4)}

TYPICAL = {
    "mvc": BAND_MODERATE,          # maximal squeeze above rest, cmH2O
    "effort": (0.6, 0.8),          # intended fraction of own MVC on squeeze and flick steps
    "max_effort": 1.0,             # fraction of MVC on max steps
    "miss": 0.03,                  # chance a rep is not attempted at all
    "latency_ms": (200, 800),      # reaction to each cue change
    "rise": (25.0, 35.0),          # squeeze slew rate, cmH2O/s (about 30)
    "fall": (35.0, 50.0),          # release slew rate, cmH2O/s
    "flick_speed": 1.5,            # flicks are squeezed faster than holds
    "fat_max": (0.2, 0.3),         # share of force a long hold can lose
    "fat_tau_s": (50.0, 70.0),     # time constant of that loss while contracting
    "rec_tau_s": (15.0, 25.0),     # recovery time constant while resting
    "residual": 0.0,               # share of the effort left as tension after a release
    "tone_tau_s": 5.0,             # how slowly that residual tension fades
    "drop": (2.5, 4.0),            # fall below rest on a drop (reverse Kegel) cue, cmH2O
    "breath_rate": (10.0, 14.0),   # free breathing, breaths/min
    "breath_iap": (3.0, 5.0),      # abdominal pressure rise on a full inhale, cmH2O
    "iap_tx": (0.4, 0.6),          # share of abdominal pressure changes the probe sees
    "cocontract": (0.05, 0.15),    # abdominal rise as a share of the pelvic squeeze
    "posture": "supine",
    "gain": 1.0,                   # probe type and position (1.0 = Peritron-like)
    "inflate": (3.0, 6.0),         # probe inflation pressure, cmH2O
    "cough_per_min": 0.05,
    "cough_amp": (40.0, 100.0),    # abdominal peak of a cough, cmH2O
    "bear_p": 0.0,                 # chance of bearing down instead of squeezing on a rep
    "bear_amp": (20.0, 40.0),      # abdominal rise when bearing down, cmH2O
    "thermal": (2.0, 4.0),         # probe warm-up drift at insertion, cmH2O
    "thermal_tau_s": (60.0, 120.0),
    "leak": 0.0,                   # reading lost per minute through a leak, cmH2O/min
    "noise": 1.0,                  # multiplier on the sensor's noise
    "spikes": 1.0,                 # multiplier on the sensor's single-sample spike rate
    # letting go (drop and push steps) and resting tone
    "drop_mode": "let_go",         # on a drop cue: let_go (fall by drop) or tighten
    "push_mode": "let_go",         # on a push cue: let_go, tighten or incomplete (a small fall)
    "push_amp": (12.0, 25.0),      # abdominal rise of a gentle push, cmH2O
    "tighten": (0.15, 0.3),        # share of MVC squeezed when tightening instead of letting go
    "tone_rest": 0.0,              # extra floor tension in the resting level, cmH2O
    "tone_ease": 0.0,              # how much of it eases over 20 minutes of rest, cmH2O
    "episode_per_min": 0.0,        # spontaneous tension episodes while resting, per minute
    "episode_amp": (3.0, 6.0),     # their rise above the resting level, cmH2O
    "episode_s": (8.0, 30.0),      # how long the floor is held up, s
}

# name: (one-line description, changes from TYPICAL)
_PERSONAS = {
    "typical": ("Moderate strength (Angelo band 26.6-41.5), squeezes at 60-80% and relaxes fully",
                {}),
    "weak": ("Weak band MVC (14.6-26.5), reaches 45-65% of it, slow rise, misses 1 rep in 10",
             {"mvc": BAND_WEAK, "effort": (0.45, 0.65), "rise": (12.0, 20.0), "miss": 0.1,
              "fat_max": (0.3, 0.4)}),
    "very-weak": ("Very weak band MVC (7.5-14.5): squeezes barely above noise and breathing",
                  {"mvc": BAND_VERY_WEAK, "effort": (0.45, 0.65), "rise": (8.0, 14.0),
                   "miss": 0.15, "fat_max": (0.3, 0.45)}),
    "strong": ("Strong band MVC (60.6-85), fast rise of 40-60 cmH2O/s, quick reactions",
               {"mvc": BAND_STRONG, "effort": (0.7, 0.85), "rise": (40.0, 60.0),
                "fall": (50.0, 70.0), "latency_ms": (200, 500), "miss": 0.0}),
    "non-relaxer": ("Cannot let go: 35-55% of each squeeze stays as tension for minutes, no drop",
                    {"residual": (0.35, 0.55), "tone_tau_s": (150.0, 300.0), "fall": (4.0, 8.0),
                     "drop": 0.0}),
    "fatiguing": ("Force fades fast in holds: can lose 70-85% of it, 15-25 s time constant",
                  {"fat_max": (0.7, 0.85), "fat_tau_s": (15.0, 25.0), "rec_tau_s": (50.0, 70.0)}),
    "late-responder": ("Reacts to every cue 1.5-3 s late", {"latency_ms": (1500, 3000)}),
    "bearer-down": ("Bears down (abdominal push, breath held) on 80% of reps, little real squeeze",
                    {"bear_p": 0.8, "effort": (0.1, 0.3)}),
    "cougher": ("Coughs 2-4 times a minute: sharp pelvic and abdominal spikes",
                {"cough_per_min": (2.0, 4.0)}),
    "leaky-probe": ("Probe loses 0.75-1.5 cmH2O of reading per minute through a slow leak",
                    {"leak": (0.75, 1.5)}),
    "noisy-sensor": ("Sensor noise x4 and 10x more single-sample spikes (poor wiring, ripple)",
                     {"noise": 4.0, "spikes": 10.0}),
    "standing": ("Typical person trained standing: resting abdominal pressure about 31 cmH2O",
                 {"posture": "standing"}),
    "low-gain-probe": ("Typical person on a small probe reading about half (Bo 2005 Camtech)",
                       {"gain": (0.5, 0.6)}),
    "relaxer": ("Lets go well: clear drops of 3-5 cmH2O, coordinated pushes of 15-30 cmH2O",
                {"drop": (3.0, 5.0), "push_amp": (15.0, 30.0)}),
    "hypertonic": ("High resting tone (3-6 cmH2O) that eases slowly, small drops, tension episodes",
                   {"tone_rest": (3.0, 6.0), "tone_ease": (1.0, 3.0), "drop": (1.5, 2.5),
                    "episode_per_min": (0.25, 0.5)}),
    "paradoxical": ("Squeezes when asked to drop; pushes well but the floor tightens (type I)",
                    {"drop_mode": "tighten", "push_mode": "tighten", "push_amp": (15.0, 30.0)}),
    "weak-pusher": ("Pushes only 2-6 cmH2O with the abdomen; the floor lets go",
                    {"push_amp": (2.0, 6.0)}),
}

NAMES = ("typical", "weak", "very-weak", "strong", "non-relaxer", "fatiguing", "late-responder",
         "bearer-down", "cougher", "leaky-probe", "noisy-sensor", "standing", "low-gain-probe",
         "relaxer", "hypertonic", "paradoxical", "weak-pusher")

# The order values are drawn in: fixed, because dict order differs between the runtimes.
KEYS = ("mvc", "effort", "max_effort", "miss", "latency_ms", "rise", "fall", "flick_speed",
        "fat_max", "fat_tau_s", "rec_tau_s", "residual", "tone_tau_s", "drop", "breath_rate",
        "breath_iap", "iap_tx", "cocontract", "posture", "gain", "inflate", "cough_per_min",
        "cough_amp", "bear_p", "bear_amp", "thermal", "thermal_tau_s", "leak", "noise", "spikes",
        "drop_mode", "push_mode", "push_amp", "tighten", "tone_rest", "tone_ease",
        "episode_per_min", "episode_amp", "episode_s")

_LETTING_GO = KEYS.index("drop_mode")

# Drawn once per rep or event rather than once per person.
PER_EVENT = ("effort", "latency_ms", "cough_amp", "bear_amp", "push_amp", "episode_amp",
             "episode_s")

DROP_MODES = ("let_go", "tighten")
PUSH_MODES = ("let_go", "tighten", "incomplete")


class PersonaError(ValueError):
    pass


def describe(name):
    return get(name)["desc"]


def get(name, overrides=None):
    """The persona's parameters (bands not yet drawn) as a new dict, with overrides applied."""
    entry = _PERSONAS.get(name)
    if entry is None:
        raise PersonaError("unknown persona %r; personas: %s" % (name, ", ".join(NAMES)))
    p = {}
    for k in KEYS:
        p[k] = TYPICAL[k]
    for k in entry[1]:
        p[k] = entry[1][k]
    if overrides:
        for k in overrides:
            if k not in TYPICAL:
                raise PersonaError("unknown persona parameter %r; parameters: %s"
                                   % (k, ", ".join(KEYS)))
            p[k] = overrides[k]
    if p["posture"] not in POSTURE_IAP:
        raise PersonaError("posture must be supine, sitting or standing, got %r" % (p["posture"],))
    if p["drop_mode"] not in DROP_MODES:
        raise PersonaError("drop_mode must be let_go or tighten, got %r" % (p["drop_mode"],))
    if p["push_mode"] not in PUSH_MODES:
        raise PersonaError("push_mode must be let_go, tighten or incomplete, got %r"
                           % (p["push_mode"],))
    p["name"] = name
    p["desc"] = entry[0]
    return p


def draw(p, rng):
    """The concrete person: every band drawn once from rng, except the per-event ones."""
    v = {}
    for k in KEYS[:_LETTING_GO]:
        v[k] = p[k] if k in PER_EVENT else rng.band(p[k])
    mean, sd = POSTURE_IAP[v["posture"]]
    # Clamped so an unlucky draw cannot give a negative resting abdominal pressure.
    v["iap_rest"] = max(2.0, rng.gauss(mean, sd))
    # Drawn last, so adding them left every earlier persona's draws as they were.
    for k in KEYS[_LETTING_GO:]:
        v[k] = p[k] if k in PER_EVENT else rng.band(p[k])
    v["rest"] = v["inflate"] + v["gain"] * v["iap_tx"] * v["iap_rest"]
    return v
