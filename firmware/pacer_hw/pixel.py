"""One WS2812 pixel (through the neopixel module) used as a colour status light.

Colours are 0xRRGGBB ints, scaled by a fixed brightness 0..255 (a full-white WS2812 draws
~60 mA and is glaring in a dim room). The strip is only rewritten when the colour changes: a
write is a ~30 us bit-banged burst with interrupts off, pointless at 50 Hz.
"""
from pacer_hw._compat import native


class Pixel:
    def __init__(self, np, index=0, brightness=64):
        self._np = np
        self._i = index
        self._b = brightness
        self._buf = getattr(np, "buf", None)
        self._order = getattr(np, "ORDER", (1, 0, 2, 3))
        self._off = index * getattr(np, "bpp", 3)
        self.rgb = -1
        self.set(0)

    @native
    def set(self, rgb):
        """Show colour 0xRRGGBB; returns True when the pixel was rewritten."""
        if rgb == self.rgb:
            return False
        self.rgb = rgb
        b = self._b
        buf = self._buf
        if buf is None:  # a neopixel without micropython-lib's buf/ORDER: the tuple way
            self._np[self._i] = ((((rgb >> 16) & 0xFF) * b + 127) // 255,
                           (((rgb >> 8) & 0xFF) * b + 127) // 255,
                           ((rgb & 0xFF) * b + 127) // 255)
        else:
            # write the colour bytes in place (ORDER maps R, G, B to wire positions, GRB on a
            # WS2812): no tuple per colour change, so a breathing status glow never allocates
            o = self._off
            order = self._order
            buf[o + order[0]] = (((rgb >> 16) & 0xFF) * b + 127) // 255
            buf[o + order[1]] = (((rgb >> 8) & 0xFF) * b + 127) // 255
            buf[o + order[2]] = ((rgb & 0xFF) * b + 127) // 255
        self._np.write()
        return True

    def off(self):
        self.set(0)
