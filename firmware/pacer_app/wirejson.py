"""JSON on the USB link (docs/protocol.md): one writer whose text is the same on MicroPython
and CPython, and a reader that refuses what no setting or program would hold."""
import json

NUM_LIMIT = 1000000000      # no setting or program field comes near; bigger is a typo or attack
_JSON_DEPTH = 8


def dumps(v, depth=0):
    """JSON text with sorted keys and NaN/infinity as null: the same text on both runtimes, and
    never the bare `nan` MicroPython's json would write."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "null" if v != v or v - v != 0 else json.dumps(v)
    if isinstance(v, str):
        return json.dumps(v)
    if depth > _JSON_DEPTH:
        return "null"
    if isinstance(v, dict):
        return "{" + ", ".join([json.dumps(str(k)) + ": " + dumps(v[k], depth + 1)
                                for k in sorted(v, key=str)]) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join([dumps(x, depth + 1) for x in v]) + "]"
    return json.dumps(str(v))


def _check_json(v, depth, what):
    if depth > _JSON_DEPTH:
        raise ValueError("%s: nested more than %d deep" % (what, _JSON_DEPTH))
    if isinstance(v, float) and (v != v or v - v != 0):
        raise ValueError("%s: NaN and infinity are not accepted; send a finite number" % what)
    if (isinstance(v, int) or isinstance(v, float)) and not isinstance(v, bool) \
            and (v > NUM_LIMIT or v < -NUM_LIMIT):
        raise ValueError("%s: %s is out of range; numbers must be within +-%d"
                         % (what, v, NUM_LIMIT))
    if isinstance(v, dict):
        for k in v:
            _check_json(v[k], depth + 1, what)
    elif isinstance(v, list):
        for x in v:
            _check_json(x, depth + 1, what)


def loads(text, what):
    """Parse a JSON argument, refusing NaN, infinity, absurd numbers and deep nesting."""
    try:
        v = json.loads(text)
    except ValueError:
        raise ValueError("%s: not valid JSON (strings need double quotes, e.g. \"kegel\")" % what)
    _check_json(v, 0, what)
    return v

