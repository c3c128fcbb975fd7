"""Engine settings: defaults, limits and validation, shared by the device and the host tools.

Values are stored in the units people read (cmH2O, %, seconds); `Settings` converts them once to
the integer units of the tick path (hundredths of cmH2O, ms).
"""

# name: (default, min, max, unit/help). Bools are (default, None, None, help).
FIELDS = {
    "target_pct": (40, 10, 90, "target line as % of MVC above rest"),
    "hold_pct": (60, 20, 100, "% of a squeeze step that must be held above target"),
    "reach_s": (2.0, 0.5, 5.0, "time allowed after the squeeze cue to reach the target"),
    "relax_pct": (10, 2, 50, "within this % of MVC above rest counts as relaxed"),
    "relax_min_cmH2O": (2.0, 0.5, 10.0, "relaxed band never narrower than this"),
    "tension_pct": (20, 5, 80, "tension alarm above this % of MVC in a relax phase"),
    "tension_min_cmH2O": (2.5, 1.0, 20.0, "tension threshold never lower than this"),
    "tension_s": (2.0, 0.5, 10.0, "how long tension must last before the alarm"),
    "release_grace_s": (2.0, 0.0, 5.0, "time to let go after a release cue before tension counts"),
    "overpressure_cmH2O": (100.0, 20.0, 200.0, "over-pressure alarm level (gauge)"),
    "max_hold_s": (90, 10, 300, "over-hold alarm after this long above target"),
    "sensor_max_cmH2O": (102.0, 10.0, 1000.0, "readings at or above are over range (clipped)"),
    "default_mvc_cmH2O": (20.0, 3.0, 150.0, "MVC used before any calibration"),
    "leak_limit_cmH2O": (10.0, 2.0, 50.0, "baseline drift past this raises a leak fault"),
    "cough_rise_cmH2O": (20.0, 5.0, 100.0, "a rise this large within 120 ms is a cough"),
    "bear_ratio_pct": (100, 30, 300, "abdominal rise >= this % of pelvic rise is bearing down"),
    "drop_min_cmH2O": (1.0, 0.3, 10.0, "a drop counts from this far below the resting level"),
    "paradox_cmH2O": (2.0, 0.5, 10.0, "rising this far above rest when asked to let go is "
                      "tightening (paradoxical)"),
    "push_min_cmH2O": (10.0, 2.0, 60.0, "abdominal rise of an adequate push"),
    "vibration_pct": (70, 0, 100, "vibration strength"),
    "brightness_pct": (80, 5, 100, "LED brightness"),
    "haptic_only": (False, None, None, "cues by vibration only (LED off)"),
    "haptic_breath": (True, None, None, "soft pulses on breath transitions"),
}


def _num(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool) and v == v


def check(values):
    """Validate a dict of settings. Returns (clean, errors): clean has every field (defaults for
    bad or missing ones), errors has one line per bad field."""
    clean = {}
    errors = []
    for k in values:
        if k not in FIELDS:
            errors.append("%s: unknown setting" % k)
    for k in FIELDS:
        default, lo, hi, _ = FIELDS[k]
        if k not in values:
            clean[k] = default
            continue
        v = values[k]
        if lo is None:
            if isinstance(v, bool):
                clean[k] = v
            else:
                errors.append("%s: must be true or false, got %r" % (k, v))
                clean[k] = default
        elif not _num(v) or v < lo or v > hi:
            errors.append("%s: must be a number from %s to %s (%s), got %r"
                          % (k, lo, hi, FIELDS[k][3], v))
            clean[k] = default
        elif isinstance(default, int) and not isinstance(default, bool):
            clean[k] = int(v)
        else:
            clean[k] = v
    return clean, errors


def _cp(v):
    return int(round(v * 100))


def _ms(v):
    return int(round(v * 1000))


class Settings:
    """The tick path's view of the settings, all ints."""

    def __init__(self, values=None):
        clean, errors = check(values or {})
        self.values = clean
        self.errors = errors
        self.target_pct = clean["target_pct"]
        self.hold_pct = clean["hold_pct"]
        self.reach_ms = _ms(clean["reach_s"])
        self.relax_pct = clean["relax_pct"]
        self.relax_min_cp = _cp(clean["relax_min_cmH2O"])
        self.tension_pct = clean["tension_pct"]
        self.tension_min_cp = _cp(clean["tension_min_cmH2O"])
        self.tension_ms = _ms(clean["tension_s"])
        self.release_grace_ms = _ms(clean["release_grace_s"])
        self.overpressure_cp = _cp(clean["overpressure_cmH2O"])
        self.max_hold_ms = clean["max_hold_s"] * 1000
        self.sensor_max_cp = _cp(clean["sensor_max_cmH2O"])
        self.default_mvc_cp = _cp(clean["default_mvc_cmH2O"])
        self.leak_limit_cp = _cp(clean["leak_limit_cmH2O"])
        self.cough_rise_cp = _cp(clean["cough_rise_cmH2O"])
        self.bear_ratio_pct = clean["bear_ratio_pct"]
        self.drop_min_cp = _cp(clean["drop_min_cmH2O"])
        self.paradox_cp = _cp(clean["paradox_cmH2O"])
        self.push_min_cp = _cp(clean["push_min_cmH2O"])
        self.vibration = clean["vibration_pct"] * 65535 // 100
        self.brightness = clean["brightness_pct"] * 65535 // 100
        self.haptic_only = clean["haptic_only"]
        self.haptic_breath = clean["haptic_breath"] or clean["haptic_only"]
