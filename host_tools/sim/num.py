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
    if n < 0:
        return "-" + fixed(-n, places)
    q = _POW10[places]
    return _FORMATS[places] % (n // q, n % q)


_POW10 = (1, 10, 100, 1000, 10000)
_FORMATS = ("%d", "%d.%01d", "%d.%02d", "%d.%03d", "%d.%04d")


class Dec:
    """A number to be written with fixed decimals into JSON."""

    def __init__(self, x, places=2):
        self.n = scaled(x, _POW10[places])
        self.places = places


def _str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scalar(v):
    return not (isinstance(v, Obj) or isinstance(v, list) or isinstance(v, tuple)
                or isinstance(v, Rows))


class Rows:
    """A JSON list whose items are made one at a time while it is written (one per line)."""

    def __init__(self, make, items):
        self.make = make
        self.items = items

    def __iter__(self):
        for x in self.items:
            yield self.make(x)


def dumps(v):
    """JSON text for None, bool, int, str, Dec, lists, and objects given as Obj (ordered pairs):
    dicts are avoided so the key order is the same on both runtimes. Lists of scalars, and flat
    objects inside lists, are written on one line."""
    parts = []
    dump(v, parts.append)
    return "".join(parts)


def dump(v, write, indent=""):
    """dumps() in pieces through write(str): a long truth record never has to fit in one string
    (it may not, in the board VM's heap)."""
    if isinstance(v, Obj):
        if not v.pairs:
            write("{}")
            return
        inner = indent + "  "
        sep = "{\n"
        for k, x in v.pairs:
            write(sep + inner + _str(k) + ": ")
            dump(x, write, inner)
            sep = ",\n"
        write("\n" + indent + "}")
    elif isinstance(v, list) or isinstance(v, tuple) or isinstance(v, Rows):
        flat = not isinstance(v, Rows)
        if flat:
            for x in v:
                if not _scalar(x):
                    flat = False
        if flat:
            write("[" + ", ".join([_scalar_text(x) for x in v]) + "]")
            return
        inner = indent + "  "
        sep = "[\n"
        for x in v:
            write(sep + inner)
            if isinstance(x, Obj) and _flat(x):
                write("{" + ", ".join([_str(k) + ": " + _scalar_text(y) for k, y in x.pairs]) + "}")
            else:
                dump(x, write, inner)
            sep = ",\n"
        if sep == "[\n":
            write("[]")
        else:
            write("\n" + indent + "]")
    else:
        write(_scalar_text(v))


def _flat(obj):
    for _k, x in obj.pairs:
        if not _scalar(x):
            return False
    return True


def _scalar_text(v):
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
    raise TypeError("cannot write %r as JSON" % (v,))


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
