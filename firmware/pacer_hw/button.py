"""Debounced push button with short, long and very long presses.

Pure logic: the shell passes the time and the pin level, so it can be driven from tests, the
virtual board or an IRQ-free poll at the control rate. A level change only counts once it has
been stable for debounce_ms (contact bounce lasts a few ms; at 50 Hz that is two samples).

Events (returned by update, at most one per call):
  SHORT  released after < short_ms
  LONG   released after >= long_ms (and before vlong_ms)
  VLONG  fired WHILE still held, as soon as vlong_ms is reached, so the user gets the
         "calibrating" feedback without guessing when to let go; its release is silent.
Presses between short_ms and long_ms are deliberately ambiguous and give nothing.
"""
from pacer_hw._compat import const, native, ticks_diff

NONE = const(0)
SHORT = const(1)
LONG = const(2)
VLONG = const(3)


class Button:
    def __init__(self, debounce_ms=30, short_ms=600, long_ms=1500, vlong_ms=5000, active_low=True):
        self._deb = debounce_ms
        self._short = short_ms
        self._long = long_ms
        self._vlong = vlong_ms
        self._active = 0 if active_low else 1
        self._raw = -1
        self._t_raw = 0
        self.pressed = False
        self._t_down = 0
        self._fired = False

    @native
    def update(self, t_ms, value):
        if value == self._raw and not self.pressed and value != self._active:
            return NONE  # released and steady: nearly every tick
        down = value == self._active
        if value != self._raw:
            self._raw = value
            self._t_raw = t_ms
        elif down != self.pressed and ticks_diff(t_ms, self._t_raw) >= self._deb:
            self.pressed = down
            if down:
                # The press began when the level first changed, not when it was confirmed.
                self._t_down = self._t_raw
                self._fired = False
                return NONE
            if self._fired:
                return NONE
            held = ticks_diff(self._t_raw, self._t_down)
            if held < self._short:
                return SHORT
            if held >= self._long:
                return LONG
            return NONE
        if self.pressed and not self._fired and ticks_diff(t_ms, self._t_down) >= self._vlong:
            self._fired = True
            return VLONG
        return NONE
