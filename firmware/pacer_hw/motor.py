"""Vibration motor (ERM) on a PWM pin driving a transistor, with an independent on-time limit.

set(duty) follows the engine's cues. update(t_ms), called every tick, enforces a maximum
CONTINUOUS on-time (ISO 14971 hazard: prolonged vibration; anchors fault 25) whatever the
caller keeps asking: once the motor has been on for max_on_ms without a zero in between it is
switched off and latched off (self.cut) until the caller itself sets 0 or calls off(). Duty
changes while on (pulse patterns) do not restart the clock. The limit lives here, not in the
engine, so a bug in the cue code cannot defeat it. Time comes in; ticks_diff handles wrap.

20 kHz PWM keeps the drive inaudible; the transistor and flyback diode handle it easily.
"""
from pacer_hw._compat import native, ticks_diff


class Motor:
    def __init__(self, pwm, max_on_ms=2000, freq=20000):
        self._pwm = pwm
        self._max = max_on_ms
        self.duty = 0  # what the caller asked for
        self.out = 0  # what the pin is driving
        self.cut = False
        self.cuts = 0
        self._timing = False
        self._t_on = 0
        pwm.freq(freq)
        pwm.duty_u16(0)

    @native
    def _drive(self, d):
        if d != self.out:
            self.out = d
            self._pwm.duty_u16(d)

    @native
    def set(self, duty):
        if duty <= 0:
            self.off()
            return
        duty = min(duty, 65535)
        self.duty = duty
        if not self.cut:
            self._drive(duty)

    @native
    def off(self):
        self.duty = 0
        self.cut = False
        self._timing = False
        self._drive(0)

    @native
    def follow(self, duty, t_ms):
        """set(duty) then update(t_ms): the loop's call every tick. Off and staying off (most
        ticks) touches nothing, so it returns at once."""
        if duty <= 0 and not self.out and not self.duty and not self.cut and not self._timing:
            return False
        self.set(duty)
        return self.update(t_ms)

    @native
    def update(self, t_ms):
        """Enforce the on-time limit; returns True while the motor is latched off by it."""
        if self.out == 0:
            self._timing = False
            return self.cut
        if not self._timing:
            self._timing = True
            self._t_on = t_ms
        elif ticks_diff(t_ms, self._t_on) >= self._max:
            self._drive(0)
            self._timing = False
            self.cut = True
            self.cuts += 1
        return self.cut
