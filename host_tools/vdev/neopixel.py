"""Virtual `neopixel` matching micropython-lib's NeoPixel (buf, ORDER, bpp, write).

write() records the colours to the world as 0xRRGGBB ints: one int for a single pixel, a
tuple for several, on channel "pixel<pin>".
"""
import machine


class NeoPixel:
    ORDER = (1, 0, 2, 3)  # WS2812 wants GRB(W) on the wire

    def __init__(self, pin, n, bpp=3, timing=1):
        self.pin = pin
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self.writes = 0
        pid = pin.id if hasattr(pin, "id") else pin
        self._ch = "pixel" + str(pid)

    def __len__(self):
        return self.n

    def __setitem__(self, i, v):
        offset = i * self.bpp
        for j in range(self.bpp):
            self.buf[offset + self.ORDER[j]] = v[j]

    def __getitem__(self, i):
        offset = i * self.bpp
        return tuple(self.buf[offset + self.ORDER[j]] for j in range(self.bpp))

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def rgb(self, i):
        r, g, b = self[i][:3]
        return (r << 16) | (g << 8) | b

    def write(self):
        self.writes += 1
        w = machine._w()
        if self.n == 1:
            v = self.rgb(0)
        else:
            v = tuple(self.rgb(i) for i in range(self.n))
        w.record(w.now_ms(), self._ch, v)
