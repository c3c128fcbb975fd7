"""Programs are data: a spec (a dict from JSON or a built-in) is validated and expanded into a
Timeline of steps held in compact arrays, so the tick path only indexes ints.

Spec format (also the JSON accepted for custom programs)::

    {"name": "my-kegel", "title": "optional", "blocks": [
        {"steps": [{"s": 10, "muscle": "rest", "role": "baseline"}]},
        {"sets": 3, "reps": 10, "set_rest_s": 60,
         "steps": [{"s": 5, "muscle": "squeeze"},
                   {"s": 5, "breath": "inhale", "muscle": "release"}]}]}

A step's duration is "s" (seconds, may be fractional) or "ms" (integer). Breath defaults to "free",
muscle to "rest", role to none. After every set but the last of a block a rest step of set_rest_s
is inserted.
"""
from array import array

from pacer._compat import native

BREATHS = ("free", "inhale", "hold", "exhale")
MUSCLES = ("rest", "squeeze", "flick", "release", "drop", "max", "push")
ROLES = ("", "baseline", "mvc")

B_FREE = 0
B_INHALE = 1
B_HOLD = 2
B_EXHALE = 3
M_REST = 0
M_SQUEEZE = 1
M_FLICK = 2
M_RELEASE = 3
M_DROP = 4
M_MAX = 5
M_PUSH = 6
R_NONE = 0
R_BASELINE = 1
R_MVC = 2

# Safe limits. Holds past a minute, flicks past 3 s, maximal efforts past 10 s or pushes past 20 s
# (straining longer is what the coordination practice unlearns) are not exercises this device
# should pace; sessions are capped at an hour; sets of contractions need real rest.
MIN_STEP_MS = 200
MAX_STEP_MS = 600000
MAX_SQUEEZE_MS = 60000
MAX_FLICK_MS = 3000
MAX_MAX_MS = 10000
MAX_PUSH_MS = 20000
MAX_SESSION_MS = 3600000
MIN_SET_REST_MS = 10000
MAX_REPS = 200
MAX_SETS = 10
MAX_STEPS = 2000
MAX_NAME = 24
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789-_"


class ProgramError(ValueError):
    """Raised with every problem found; str() gives one line per bad field."""

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = errors


def is_contraction(muscle):
    """A squeeze, flick or max step: each gives one rep record (a maximal hold is measured like
    any hold: peak, hold time, release)."""
    return muscle == M_SQUEEZE or muscle == M_FLICK or muscle == M_MAX


@native
def is_relaxing(muscle):
    return muscle == M_REST or muscle == M_RELEASE or muscle == M_DROP


@native
def is_letgo(muscle):
    """One drop record per drop or push step: the floor is asked to let go below its rest."""
    return muscle == M_DROP or muscle == M_PUSH


def _is_num(v):
    return (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool)


def _int(spec, key, default, lo, hi, where, errors):
    v = spec.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < lo or v > hi:
        errors.append("%s.%s: must be a whole number from %d to %d, got %r"
                      % (where, key, lo, hi, v))
        return default
    return v


def _duration(spec, where, errors, key_s="s", key_ms="ms", lo=MIN_STEP_MS, hi=MAX_STEP_MS,
              required=True):
    if key_ms in spec:
        v = spec[key_ms]
        if not isinstance(v, int) or isinstance(v, bool):
            errors.append("%s.%s: must be a whole number of milliseconds, got %r"
                          % (where, key_ms, v))
            return 0
        ms = v
        shown = "%s.%s" % (where, key_ms)
    elif key_s in spec:
        v = spec[key_s]
        if not _is_num(v) or v != v:
            errors.append("%s.%s: must be a number of seconds, got %r" % (where, key_s, v))
            return 0
        if v > hi or v < -1:
            ms = hi + 1
        else:
            ms = int(round(v * 1000))
        shown = "%s.%s" % (where, key_s)
    elif required:
        errors.append("%s: needs a duration, \"s\" (seconds) or \"ms\"" % where)
        return 0
    else:
        return 0
    if ms < lo or ms > hi:
        errors.append("%s: must be from %g to %g seconds, got %r"
                      % (shown, lo / 1000, hi / 1000, v))
        return 0
    return ms


def _choice(spec, key, names, default, where, errors, allow_none=False):
    v = spec.get(key, default)
    if v is None and allow_none:
        return 0
    if isinstance(v, str) and v in names and v != "":
        return names.index(v)
    shown = ", ".join([n for n in names if n])
    errors.append("%s.%s: must be one of %s, got %r" % (where, key, shown, v))
    return 0


def _step(spec, where, errors):
    if not isinstance(spec, dict):
        errors.append("%s: must be an object like {\"s\": 5, \"muscle\": \"squeeze\"}" % where)
        return None
    for k in spec:
        if k not in ("s", "ms", "breath", "muscle", "role", "say"):
            errors.append("%s.%s: unknown field (use s, ms, breath, muscle, role)" % (where, k))
    ms = _duration(spec, where, errors)
    breath = _choice(spec, "breath", BREATHS, "free", where, errors)
    muscle = _choice(spec, "muscle", MUSCLES, "rest", where, errors)
    role = _choice(spec, "role", ROLES, None, where, errors, allow_none=True)
    if ms:
        cap = 0
        if muscle == M_SQUEEZE:
            cap = MAX_SQUEEZE_MS
        elif muscle == M_FLICK:
            cap = MAX_FLICK_MS
        elif muscle == M_MAX:
            cap = MAX_MAX_MS
        elif muscle == M_PUSH:
            cap = MAX_PUSH_MS
        if cap and ms > cap:
            errors.append("%s: a %s step may last at most %d s, got %g s"
                          % (where, MUSCLES[muscle], cap // 1000, ms / 1000))
    if role == R_MVC and not is_contraction(muscle):
        errors.append("%s.role: \"mvc\" needs a squeeze, flick or max step" % where)
    if role == R_BASELINE and muscle != M_REST:
        errors.append("%s.role: \"baseline\" needs a rest step" % where)
    return (ms, breath, muscle, role)


class Timeline:
    """An expanded program: parallel arrays indexed by step number."""

    def __init__(self, name, title, steps):
        n = len(steps)
        self.name = name
        self.title = title
        self.n = n
        self.start_ms = array("i", [0] * n)
        self.dur_ms = array("i", [0] * n)
        self.breath = bytearray(n)
        self.muscle = bytearray(n)
        self.role = bytearray(n)
        t = 0
        reps = 0
        drops = 0
        calib = False
        for i in range(n):
            ms, b, m, r = steps[i]
            self.start_ms[i] = t
            self.dur_ms[i] = ms
            self.breath[i] = b
            self.muscle[i] = m
            self.role[i] = r
            t += ms
            if is_contraction(m):
                reps += 1
            elif is_letgo(m):
                drops += 1
            if r == R_MVC:
                calib = True
        self.total_ms = t
        self.reps = reps
        self.drops = drops
        self.has_mvc_steps = calib


def is_name(v, longest=MAX_NAME):
    """True for 1..longest characters of a-z 0-9 - _ (what keeps names safe as file names).
    Program, user and board names all follow it."""
    if not isinstance(v, str) or not v or len(v) > longest:
        return False
    for c in v:
        if c not in _NAME_CHARS:
            return False
    return True


def _check_name(spec, errors):
    name = spec.get("name")
    if not isinstance(name, str) or not is_name(name):
        errors.append("name: must be 1 to %d characters of a-z 0-9 - _, got %r" % (MAX_NAME, name))
        return "custom"
    return name


def build(spec):
    """Validate a program spec and expand it. Raises ProgramError listing every bad field."""
    errors = []
    if not isinstance(spec, dict):
        raise ProgramError(["program: must be a JSON object with \"name\" and \"blocks\""])
    for k in spec:
        if k not in ("name", "title", "description", "blocks"):
            errors.append("%s: unknown field (use name, title, description, blocks)" % k)
    name = _check_name(spec, errors)
    title = spec.get("title", name)
    if not isinstance(title, str) or len(title) > 60:
        errors.append("title: must be text of at most 60 characters")
        title = name
    blocks = spec.get("blocks")
    steps = []
    if not isinstance(blocks, list) or not blocks:
        errors.append("blocks: must be a non-empty list of blocks")
        blocks = []
    for bi in range(len(blocks)):
        _expand_block(blocks[bi], "blocks[%d]" % bi, steps, errors)
        if len(steps) > MAX_STEPS:
            errors.append("blocks: more than %d steps in all" % MAX_STEPS)
            break
    total = 0
    for s in steps:
        total += s[0]
    if total > MAX_SESSION_MS:
        errors.append("program: lasts %d min, more than the %d min limit"
                      % (total // 60000, MAX_SESSION_MS // 60000))
    if errors:
        raise ProgramError(errors)
    return Timeline(name, title, steps)


def _expand_block(block, where, steps, errors):
    if not isinstance(block, dict):
        errors.append("%s: must be an object with \"steps\"" % where)
        return
    for k in block:
        if k not in ("steps", "reps", "sets", "set_rest_s", "set_rest_ms", "label"):
            errors.append("%s.%s: unknown field (use steps, reps, sets, set_rest_s)" % (where, k))
    reps = _int(block, "reps", 1, 1, MAX_REPS, where, errors)
    sets = _int(block, "sets", 1, 1, MAX_SETS, where, errors)
    rest = _duration(block, where, errors, "set_rest_s", "set_rest_ms", 0, MAX_STEP_MS, False)
    raw = block.get("steps")
    if not isinstance(raw, list) or not raw:
        errors.append("%s.steps: must be a non-empty list of steps" % where)
        return
    one = []
    contraction = False
    for si in range(len(raw)):
        st = _step(raw[si], "%s.steps[%d]" % (where, si), errors)
        if st is not None:
            one.append(st)
            if is_contraction(st[2]):
                contraction = True
    if sets > 1 and contraction and rest < MIN_SET_REST_MS:
        errors.append("%s.set_rest_s: sets of contractions need at least %d s of rest between them"
                      % (where, MIN_SET_REST_MS // 1000))
    if len(one) * reps * sets > MAX_STEPS:
        errors.append("%s: expands to more than %d steps" % (where, MAX_STEPS))
        return
    for k in range(sets):
        for _ in range(reps):
            steps.extend(one)
        if k < sets - 1 and rest:
            steps.append((rest, B_FREE, M_REST, R_NONE))
