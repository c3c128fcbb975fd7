"""Piezo buzzer on a PWM pin: non-blocking tones ended by update(t_ms)."""
from pacer_hw._compat import ticks_diff


class Buzzer:
    def __init__(self, pwm, volume=32768):
        self._pwm = pwm
        self._vol = volume  # duty; 50 % is loudest for a piezo
        self.hz = 0
        self._t0 = 0
        self._dur = 0
        self.timed = False
        pwm.duty_u16(0)

    def tone(self, hz, t_ms=0, dur_ms=0):
        """Start a tone (or restart its duration); dur_ms 0 plays until off(). Asking again for
        the tone already playing touches no hardware."""
        if hz <= 0:
            self.off()
            return
        self.timed = dur_ms > 0
        self._t0 = t_ms
        self._dur = dur_ms
        if hz != self.hz:
            self._pwm.freq(hz)
            if self.hz == 0:
                self._pwm.duty_u16(self._vol)
            self.hz = hz

    def off(self):
        if self.hz:
            self._pwm.duty_u16(0)
            self.hz = 0
        self.timed = False

    def update(self, t_ms):
        if self.timed and ticks_diff(t_ms, self._t0) >= self._dur:
            self.off()
