"""Status LED on a PWM pin.

duty(d) takes a duty the engine already gamma-corrected (pacer.cue). The PWM is only touched
when the duty changes, so calling every tick costs nothing.
"""
from pacer_hw._compat import native


class Led:
    def __init__(self, pwm, freq=1000, invert=False):
        self._pwm = pwm
        self._invert = invert
        self.duty_now = -1
        pwm.freq(freq)
        self.duty(0)

    @native
    def duty(self, d):
        """Set a duty 0..65535 that is already gamma-corrected."""
        if d < 0:
            d = 0
        elif d > 65535:
            d = 65535
        if d != self.duty_now:
            self.duty_now = d
            self._pwm.duty_u16(65535 - d if self._invert else d)

    def off(self):
        self.duty(0)
