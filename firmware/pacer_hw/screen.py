"""SSD1306 128x64 OLED over I2C, and the exercise screen drawn on it.

The frame lives in one preallocated bytearray, a page (8 rows, 128 columns) at a time, each page
preceded by the I2C "data follows" control byte: the framebuf's stride is 129, so it never
draws into those bytes, and each page goes out as one writeto() of a preallocated view with no
copying or allocation (writevto() would allocate on rp2, which joins the pieces into one heap
buffer). A whole frame takes ~25 ms at 400 kHz, longer than a 20 ms control tick, so during an
exercise the shell sends it a page (~3 ms) per tick: start_frame() once the frame is drawn, then
send_page() each tick. Horizontal addressing carries the controller's write pointer from one
page to the next, so only the first page sets the window.

draw() renders the exercise view into the frame (no I/O). It only builds strings when the
number they show changes; otherwise it redraws from cached strings and allocates nothing.
"""
import framebuf

from pacer_hw._compat import const, native

_BAR_Y = const(34)
_BAR_H = const(12)


class SSD1306:
    def __init__(self, i2c, addr=0x3C, width=128, height=64, external_vcc=False):
        self._i2c = i2c
        self._addr = addr
        self.width = width
        self.height = height
        self._pages = height // 8
        self._cmd = bytearray(2)
        self._cmd[0] = 0x80  # Co=1, D/C#=0: one command byte follows
        row = width + 1  # the control byte, then the page's columns
        self._buf = bytearray(row * self._pages)
        for k in range(self._pages):
            self._buf[k * row] = 0x40  # Co=0, D/C#=1: the rest is display data
        mv = memoryview(self._buf)
        self.fb = framebuf.FrameBuffer(mv[1:], width, height, framebuf.MONO_VLSB, row)
        self._page = tuple(mv[k * row:(k + 1) * row] for k in range(self._pages))
        self._ext = external_vcc
        self._next = self._pages  # no frame going out
        self.init()

    @native
    def _c(self, c):
        self._cmd[1] = c
        self._i2c.writeto(self._addr, self._cmd)

    def init(self):
        ext = self._ext
        for c in (
            0xAE,  # display off while configuring
            0x20, 0x00,  # horizontal addressing: show() streams the whole frame
            0x40,  # start line 0
            0xA1,  # column 127 -> SEG0 (module is mounted rotated)
            0xA8, self.height - 1,  # multiplex ratio
            0xC8,  # scan COM from the bottom
            0xD3, 0x00,  # no display offset
            0xDA, 0x02 if self.height == 32 else 0x12,  # COM pin layout
            0xD5, 0x80,  # clock divide / oscillator
            0xD9, 0x22 if ext else 0xF1,  # pre-charge period
            0xDB, 0x30,  # VCOMH deselect level
            0x81, 0xFF,  # contrast
            0xA4,  # display follows RAM
            0xA6,  # not inverted
            0x8D, 0x10 if ext else 0x14,  # charge pump
            0xAF,  # display on
        ):
            self._c(c)
        self.fb.fill(0)
        self.show()

    @native
    def _window(self):
        self._c(0x21)
        self._c(0)
        self._c(self.width - 1)
        self._c(0x22)
        self._c(0)
        self._c(self._pages - 1)

    def show(self):
        """The whole frame now (~25 ms at 400 kHz): at start-up and for the results page."""
        self._next = self._pages
        self._window()
        for page in self._page:
            self._i2c.writeto(self._addr, page)

    def start_frame(self):
        """Send the frame drawn in fb a page at a time (send_page); a frame still going out is
        abandoned, and the new one starts from the top."""
        self._next = 0

    @native
    def send_page(self):
        """Send the next page of the frame begun by start_frame(). True when the whole frame
        has gone out (nothing is sent then)."""
        k = self._next
        if k >= self._pages:
            return True
        if k == 0:
            self._window()
        self._next = k + 1
        self._i2c.writeto(self._addr, self._page[k])
        return False


class Screen:
    """The exercise view: phase name, countdown, rep count, pressure bar with target line."""

    def __init__(self, display):
        self.d = display

    def draw(self, cp, target_cp, full_cp, phase, countdown_s, rep, reps, msg=""):
        fb = self.d.fb
        w = self.d.width
        fb.fill(0)
        fb.text(phase, 0, 0, 1)
        # numbers digit by digit from constant strings: no text is built, nothing allocates
        if countdown_s >= 0:
            x = _num(fb, countdown_s, 0, 16)
            fb.text("s", x, 16, 1)
        if reps > 0:
            x = w - 8 * (_digits(rep) + 1 + _digits(reps))
            x = _num(fb, rep, x, 16)
            fb.text("/", x, 16, 1)
            _num(fb, reps, x + 8, 16)
        inner = w - 4
        fb.rect(0, _BAR_Y, w, _BAR_H, 1)
        fill = _scale(cp, full_cp, inner)
        fb.fill_rect(2, _BAR_Y + 2, fill, _BAR_H - 4, 1)
        if target_cp > 0:
            x = 2 + _scale(target_cp, full_cp, inner)
            x = min(x, w - 1)
            # Taller than the bar and drawn in the inverse colour inside the fill, so the
            # target stays visible whether or not the pressure has passed it.
            fb.vline(x, _BAR_Y - 4, 4, 1)
            fb.vline(x, _BAR_Y + _BAR_H, 4, 1)
            fb.vline(x, _BAR_Y + 2, _BAR_H - 4, 0 if x < 2 + fill else 1)
        if msg:
            fb.text(msg, 0, 56, 1)

    def lines(self, texts):
        """A page of up to 4 text lines (the results view; not drawn in the exercise loop)."""
        fb = self.d.fb
        fb.fill(0)
        for i in range(len(texts)):
            fb.text(texts[i], 0, i * 16, 1)


_DIGIT = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")


def _digits(n):
    k = 1
    while n >= 10:
        n //= 10
        k += 1
    return k


def _num(fb, n, x, y):
    """Draw the non-negative int n at (x, y); returns the x after it."""
    if n < 0:
        n = 0
    p = 1
    while p * 10 <= n:
        p *= 10
    while p:
        fb.text(_DIGIT[(n // p) % 10], x, y, 1)
        x += 8
        p //= 10
    return x


def _scale(v, full, px):
    if v <= 0 or full <= 0:
        return 0
    if v >= full:
        return px
    return v * px // full
