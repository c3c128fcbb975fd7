"""A seeded xorshift32 generator that gives the same sequence on CPython and MicroPython.

The `random` module is not used: MicroPython's differs from CPython's, and the simulator must
produce byte-identical traces on both. Only integer ops and float + - * / appear here, because
those are exact IEEE operations on both runtimes, while libm functions (exp, cos, pow) differ in
the last bit between CPython and the WebAssembly build of MicroPython.
"""

_M32 = 0xFFFFFFFF
_INV32 = 1.0 / 4294967296.0
# Four 16-bit uniforms summed: variance 4 * (65536^2 - 1) / 12, so sd is about 65536 / sqrt(3).
_GAUSS_SCALE = 1.7320508075688772 / 65536.0
_GAUSS_MEAN = 2 * 65535

# Independent streams per concern, so that (say) choosing another sensor does not change the
# person's drawn MVC or efforts for the same seed.
DRAW = 1
PERSON = 2
EVENTS = 3
SENSOR = 4
JITTER = 5
BREATH = 6   # latencies of breath-only cues (person in the loop)
RELAX = 7    # pushes and tension episodes


def _avalanche(x):
    # A 32-bit integer hash (Mueller): neighbouring seeds give unrelated states.
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    return (x >> 16) ^ x


class Rng:
    """xorshift32 (13, 17, 5), kept as two 16-bit halves: on 32-bit MicroPython ints above 2**30
    are heap objects, and the halves keep every intermediate a small int (no allocation)."""

    def __init__(self, seed, stream=0):
        x = _avalanche((seed & _M32) ^ _avalanche(stream * 0x9E3779B9 & _M32))
        x = x if x else 0x6D2B79F5
        self.h = x >> 16
        self.l = x & 0xFFFF

    def _next(self):
        hi = self.h
        lo = self.l
        # x ^= x << 13
        hi ^= ((hi << 13) | (lo >> 3)) & 0xFFFF
        lo ^= (lo << 13) & 0xFFFF
        # x ^= x >> 17
        lo ^= hi >> 1
        # x ^= x << 5
        hi ^= ((hi << 5) | (lo >> 11)) & 0xFFFF
        lo ^= (lo << 5) & 0xFFFF
        self.h = hi
        self.l = lo

    def u32(self):
        self._next()
        return (self.h << 16) | self.l

    def random(self):
        """Uniform in [0, 1)."""
        self._next()
        return (self.h * 65536.0 + self.l) * _INV32

    def uniform(self, lo, hi):
        return lo + (hi - lo) * self.random()

    def randint(self, lo, hi):
        """Uniform integer in lo..hi inclusive (a span below 16384)."""
        n = hi - lo + 1
        self._next()
        return lo + ((self.h % n) * 65536 + self.l) % n

    def chance(self, p):
        return p > 0 and self.random() < p

    def gauss(self, mu, sigma):
        # Sum of four uniforms (Irwin-Hall) instead of Box-Muller: Box-Muller needs log and cos,
        # whose last bits differ between runtimes. Tails stop at 3.5 sd, fine for sensor noise.
        self._next()
        s = self.h + self.l
        self._next()
        s += self.h + self.l
        return mu + sigma * ((s - _GAUSS_MEAN) * _GAUSS_SCALE)

    def band(self, v):
        """A persona value: a (lo, hi) pair is drawn uniformly, anything else is taken as is."""
        if isinstance(v, tuple):
            return self.uniform(v[0], v[1])
        return v
