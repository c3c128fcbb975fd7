"""Fixed-decimal rounding and text output that is identical on CPython and MicroPython.

Float repr, round() and "%.2f" are not used for output: MicroPython rounds some halves and
formats some floats differently from CPython. Values are turned into scaled ints by one floor and
formatted from those ints.
"""
import math


def scaled(x, scale):
    """Round half up to an int count of 1/scale units (100 -> hundredths)."""
    return int(math.floor(x * scale + 0.5))


def fixed(n, places):
    """Text of the scaled int n with the given number of decimals, e.g. fixed(-105, 2) -> -1.05."""
    q = _POW10[places]
    sign = "-" if n < 0 else ""
    n = -n if n < 0 else n
    frac = str(n % q)
    return sign + str(n // q) + "." + "0" * (places - len(frac)) + frac


_POW10 = (1, 10, 100, 1000, 10000)


class Dec:
    """A number to be written with fixed decimals into JSON."""

    def __init__(self, x, places=2):
        self.n = scaled(x, _POW10[places])
        self.places = places


def _str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar(v):
    return not (isinstance(v, Obj) or isinstance(v, list) or isinstance(v, tuple))


def dumps(v, indent=""):
    """JSON text for None, bool, int, str, Dec, lists, and objects given as Obj (ordered pairs):
    dicts are avoided so the key order is the same on both runtimes. Lists of scalars, and flat
    objects inside lists, are written on one line."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Dec):
        return fixed(v.n, v.places)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _str(v)
    inner = indent + "  "
    if isinstance(v, Obj):
        if not v.pairs:
            return "{}"
        parts = [inner + _str(k) + ": " + dumps(x, inner) for k, x in v.pairs]
        return "{\n" + ",\n".join(parts) + "\n" + indent + "}"
    if isinstance(v, list) or isinstance(v, tuple):
        flat = True
        for x in v:
            if not _scalar(x):
                flat = False
        if flat:
            return "[" + ", ".join([dumps(x) for x in v]) + "]"
        return "[\n" + ",\n".join([inner + _line(x, inner) for x in v]) + "\n" + indent + "]"
    raise TypeError("cannot write %r as JSON" % (v,))


def _line(v, indent):
    if isinstance(v, Obj):
        flat = True
        for k, x in v.pairs:
            if not _scalar(x):
                flat = False
        if flat:
            return "{" + ", ".join([_str(k) + ": " + dumps(x) for k, x in v.pairs]) + "}"
    return dumps(v, indent)


class Obj:
    """A JSON object with a fixed key order."""

    def __init__(self, pairs):
        self.pairs = pairs

    def get(self, key, default=None):
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def __getitem__(self, key):
        for k, v in self.pairs:
            if k == key:
                return v
        raise KeyError(key)
