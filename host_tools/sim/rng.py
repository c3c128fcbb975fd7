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


def _avalanche(x):
    # A 32-bit integer hash (Mueller): neighbouring seeds give unrelated states.
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    x = ((x >> 16) ^ x) * 0x45D9F3B & _M32
    return (x >> 16) ^ x


class Rng:
    def __init__(self, seed, stream=0):
        x = _avalanche((seed & _M32) ^ _avalanche(stream * 0x9E3779B9 & _M32))
        self.x = x if x else 0x6D2B79F5

    def u32(self):
        x = self.x
        x ^= (x << 13) & _M32
        x ^= x >> 17
        x ^= (x << 5) & _M32
        self.x = x
        return x

    def random(self):
        """Uniform in [0, 1)."""
        return self.u32() * _INV32

    def uniform(self, lo, hi):
        return lo + (hi - lo) * (self.u32() * _INV32)

    def randint(self, lo, hi):
        """Uniform integer in lo..hi inclusive."""
        return lo + self.u32() % (hi - lo + 1)

    def chance(self, p):
        return p > 0 and self.u32() * _INV32 < p

    def gauss(self, mu, sigma):
        # Sum of four uniforms (Irwin-Hall) instead of Box-Muller: Box-Muller needs log and cos,
        # whose last bits differ between runtimes. Tails stop at 3.5 sd, fine for sensor noise.
        a = self.u32()
        b = self.u32()
        s = (a >> 16) + (a & 0xFFFF) + (b >> 16) + (b & 0xFFFF)
        return mu + sigma * ((s - _GAUSS_MEAN) * _GAUSS_SCALE)

    def band(self, v):
        """A persona value: a (lo, hi) pair is drawn uniformly, anything else is taken as is."""
        if isinstance(v, tuple):
            return self.uniform(v[0], v[1])
        return v
