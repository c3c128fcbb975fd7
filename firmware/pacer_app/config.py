"""The app's settings: their schema beside the engine's (pacer.settings), the check that turns
any dict into a complete, valid config with one error line per bad field, and the text that
config.json holds. pacer_app.storage keeps the file; `pacer config` checks with the same code
before it sends anything to a board.
"""
import json

from pacer import settings as _settings
from pacer.program import is_name

# App settings beside the engine's (pacer.settings.FIELDS): (default, kind, lo, hi, help).
# For names lo/hi bound the length.
APP_FIELDS = {
    "user": ("default", "name", 1, 16, "whose calibration is used"),
    "program": ("kegel", "name", 1, 24, "program the button starts"),
    "loop_hz": (50, "int", 10, 100, "control loop rate in Hz"),
    "stream": (False, "bool", None, None, "telemetry frames on at boot"),
}
# The board profile is board.txt, written by `pacer flash --board`; older builds also kept it
# in config.json, where it is now dropped on load and refused on save.
READ_ONLY = "board: read-only; `pacer flash --board NAME` sets the board profile"


def show(v):
    s = repr(v)
    return s if len(s) <= 40 else s[:37] + "..."


def _check_app(key, v):
    default, kind, lo, hi, what = APP_FIELDS[key]
    if kind == "bool":
        if isinstance(v, bool):
            return v, None
        return default, "%s: must be true or false (%s), got %s" % (key, what, show(v))
    if kind == "int":
        if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi:
            return v, None
        return default, "%s: must be a whole number from %d to %d (%s), got %s" % (
            key, lo, hi, what, show(v))
    if is_name(v, hi):
        return v, None
    return default, "%s: must be %d to %d characters of a-z 0-9 - _ (%s), got %s" % (
        key, lo, hi, what, show(v))


def validate(values):
    """Check a config dict. Returns (clean, errors): clean has every engine and app field, with
    the default for each missing or bad one; errors has one line per bad or unknown field."""
    if not isinstance(values, dict):
        clean, _ = validate({})
        return clean, ["config: must be a JSON object of settings"]
    engine = {}
    clean = {}
    errors = []
    for k in values:
        if k == "board":
            errors.append(READ_ONLY)
        elif k in APP_FIELDS:
            v, err = _check_app(k, values[k])
            clean[k] = v
            if err:
                errors.append(err)
        else:
            v = engine[k] = values[k]  # unknown keys are reported by settings.check
            d = _settings.FIELDS.get(k)
            # settings.check would store 33.7 as 33: refused, so what is echoed is what is
            # stored (33.0 is whole, stored as 33); NaN and the range are settings.check's
            if d and type(d[0]) is int and type(v) is float and d[1] <= v <= d[2] \
                    and v != int(v):
                errors.append("%s: must be a whole number (%s), got %s" % (k, d[3], v))
    ec, ee = _settings.check(engine)
    clean.update(ec)
    for k in APP_FIELDS:
        if k not in clean:
            clean[k] = APP_FIELDS[k][0]
    errors.extend(ee)
    errors.sort()  # dict order differs between runtimes; keep messages reproducible
    return clean, errors


def defaults():
    return validate({})[0]


def config_text(clean):
    # Only the changed settings are stored, so a firmware update's new defaults take effect.
    base = defaults()
    keys = sorted([k for k in clean if clean[k] != base[k]])
    return "{" + ", ".join(["%s: %s" % (json.dumps(k), json.dumps(clean[k])) for k in keys]) + "}\n"
