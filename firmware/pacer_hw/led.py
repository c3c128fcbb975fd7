"""Status LED on a PWM pin.

Two inputs: duty(d) takes a duty the engine already gamma-corrected; level(v) takes a linear
brightness 0..65535 and corrects it here (gamma 2.2, 33-point table with linear interpolation;
eyes see PWM duty roughly as its 1/2.2 power, so linear ramps look like they jump then stall).
The PWM is only touched when the duty changes, so calling every tick costs nothing.
"""
from pacer_hw._compat import const

# round(65535 * (i / 32) ** 2.2) for i = 0..32
_GAMMA = (
    0, 32, 147, 359, 676, 1104, 1648, 2314, 3104, 4022, 5072, 6255, 7574, 9033, 10632, 12375,
    14263, 16298, 18482, 20816, 23303, 25943, 28739, 31692, 34802, 38072, 41503, 45097, 48853,
    52774, 56860, 61114, 65535,
)
_STEP_BITS = const(11)  # 65536 / 32 levels per table step
_STEP_MASK = const(0x7FF)


def gamma(v):
    """Linear brightness 0..65535 -> PWM duty 0..65535."""
    if v <= 0:
        return 0
    if v >= 65535:
        return 65535
    i = v >> _STEP_BITS
    a = _GAMMA[i]
    return a + (((_GAMMA[i + 1] - a) * (v & _STEP_MASK)) >> _STEP_BITS)


class Led:
    def __init__(self, pwm, freq=1000, invert=False):
        self._pwm = pwm
        self._invert = invert
        self.duty_now = -1
        pwm.freq(freq)
        self.duty(0)

    def duty(self, d):
        """Set a duty 0..65535 that is already gamma-corrected."""
        if d < 0:
            d = 0
        elif d > 65535:
            d = 65535
        if d != self.duty_now:
            self.duty_now = d
            self._pwm.duty_u16(65535 - d if self._invert else d)

    def level(self, v):
        """Set a linear brightness 0..65535."""
        self.duty(gamma(v))

    def off(self):
        self.duty(0)
