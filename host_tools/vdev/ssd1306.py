"""Virtual SSD1306 128x64 OLED controller on I2C (0x3C).

Parses the I2C stream the way the controller does: each control byte says whether the next
byte (Co=1) or the rest of the message (Co=0) is command (D/C#=0) or display data (D/C#=1).
Commands keep their parser state between messages, since drivers commonly send a command and
its arguments as separate one-byte writes. Data goes to GDDRAM through the addressing mode
(page, horizontal, vertical) and the column/page windows.

The frame as seen on the glass applies segment remap (0xA0/0xA1), COM scan direction
(0xC0/0xC8), inversion (0xA6/0xA7), entire-display-on (0xA5) and display on/off; a module
is taken to be mounted so that 0xA1 + 0xC8 shows GDDRAM upright, as nearly all are.
A frame is recorded (t_ms, "oled", frame_count) to the world when the write pointer wraps
past the end of the column/page window in horizontal or vertical addressing (a whole frame,
whether it came in one message or a page at a time), and in page addressing per message that
carried display data.
"""
from bus import I2CSlave

_NARGS = {
    0x20: 1, 0x21: 2, 0x22: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0x81: 1, 0x8D: 1,
    0xA3: 2, 0xA8: 1, 0xD3: 1, 0xD5: 1, 0xD9: 1, 0xDA: 1, 0xDB: 1,
}


class SSD1306(I2CSlave):
    def __init__(self, world, width=128, height=64, channel="oled"):
        self.world = world
        self.width = width
        self.height = height
        self.pages = height // 8
        self.ram = bytearray(width * self.pages)
        self.channel = channel
        self.on = False
        self.inverted = False
        self.all_on = False
        self.seg_remap = False
        self.com_rev = False
        self.contrast = 0x7F
        self.charge_pump = False
        self.mode = 2  # page addressing after reset
        self.col0, self.col1 = 0, width - 1
        self.page0, self.page1 = 0, self.pages - 1
        self.col = 0
        self.page = 0
        self.frames = 0
        self.commands = 0
        self._cmd = -1
        self._args = []
        self._need = 0
        self._wrapped = False

    # -- command parser -------------------------------------------------------------------------

    def _command_byte(self, b):
        self.commands += 1
        if self._need:
            self._args.append(b)
            self._need -= 1
            if not self._need:
                self._apply(self._cmd, self._args)
            return
        n = _NARGS.get(b, 0)
        if n:
            self._cmd = b
            self._args = []
            self._need = n
        else:
            self._apply(b, ())

    def _apply(self, c, a):
        if c == 0x20:
            self.mode = a[0] & 3
        elif c == 0x21:
            self.col0, self.col1 = a[0] & 0x7F, a[1] & 0x7F
            self.col = self.col0
        elif c == 0x22:
            self.page0, self.page1 = a[0] & 7, a[1] & 7
            self.page = self.page0
        elif c == 0x81:
            self.contrast = a[0]
        elif c == 0x8D:
            self.charge_pump = bool(a[0] & 0x04)
        elif c in (0xAE, 0xAF):
            self.on = c == 0xAF
        elif c in (0xA6, 0xA7):
            self.inverted = c == 0xA7
        elif c in (0xA4, 0xA5):
            self.all_on = c == 0xA5
        elif c in (0xA0, 0xA1):
            self.seg_remap = c == 0xA1
        elif c in (0xC0, 0xC8):
            self.com_rev = c == 0xC8
        elif 0xB0 <= c <= 0xB7:
            self.page = c & 7
        elif c <= 0x0F:
            self.col = (self.col & 0xF0) | c
        elif c <= 0x1F:
            self.col = (self.col & 0x0F) | ((c & 0x0F) << 4)

    # -- GDDRAM ---------------------------------------------------------------------------------

    def _data_byte(self, b):
        self.ram[self.page * self.width + self.col] = b
        if self.mode == 1:  # vertical
            if self.page >= self.page1:
                self.page = self.page0
                if self.col >= self.col1:
                    self.col = self.col0
                    self._wrapped = True
                else:
                    self.col += 1
            else:
                self.page += 1
        elif self.mode == 0:  # horizontal
            if self.col >= self.col1:
                self.col = self.col0
                if self.page >= self.page1:
                    self.page = self.page0
                    self._wrapped = True
                else:
                    self.page += 1
            else:
                self.col += 1
        elif self.col < self.width - 1:  # page mode: stops at the end of the page
            self.col += 1

    def i2c_write(self, buf):
        i = 0
        n = len(buf)
        data = False
        while i < n:
            ctrl = buf[i]
            i += 1
            dc = ctrl & 0x40
            if ctrl & 0x80:
                if i < n:
                    if dc:
                        self._data_byte(buf[i])
                        data = True
                    else:
                        self._command_byte(buf[i])
                    i += 1
                continue
            while i < n:
                if dc:
                    self._data_byte(buf[i])
                    data = True
                else:
                    self._command_byte(buf[i])
                i += 1
        if self._wrapped or (data and self.mode == 2):
            self._wrapped = False
            self.frames += 1
            w = self.world
            w.record(w.now_ms(), self.channel, self.frames)

    # -- what the glass shows -------------------------------------------------------------------

    def pixel(self, x, y):
        """Lit (1) or dark (0) at glass position x, y."""
        if not self.on:
            return 0
        if self.all_on:
            return 1
        cx = x if self.seg_remap else self.width - 1 - x
        ry = y if self.com_rev else self.height - 1 - y
        v = (self.ram[(ry >> 3) * self.width + cx] >> (ry & 7)) & 1
        return v ^ 1 if self.inverted else v

    def rows(self, on="#", off="."):
        return [
            "".join(on if self.pixel(x, y) else off for x in range(self.width))
            for y in range(self.height)
        ]

    def lit(self):
        n = 0
        for y in range(self.height):
            for x in range(self.width):
                n += self.pixel(x, y)
        return n
