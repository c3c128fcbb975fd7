"""Virtual Avia HX710B bridge ADC with a pressure bridge on its input, driven through its pins.

State machine on SCK edges (datasheet behaviour):
- Conversions complete on a fixed grid: every 100 ms in 25-pulse mode (differential, 10 Hz,
  the power-on default), every 25 ms in 26/27-pulse modes (40 Hz). DOUT is high while the
  current conversion is running and goes low when data is ready.
- Rising edges 1..24 after DOUT went low shift the 24-bit two's-complement word out, MSB first;
  the 25th pulls DOUT high. The number of pulses (25, 26 or 27) selects the mode of the next
  conversion; changing mode restarts the conversion grid.
- SCK held high for >= 60 us powers the chip down; it wakes in the default mode.
Faults: hx_never_ready / disconnect: DOUT stays high (the chip has no other error signal);
saturate: 0x7FFFFF; stuck: the previous word again.
"""

_PERIOD_US = {25: 100000, 26: 25000, 27: 25000}
_POWER_DOWN_US = 60


class HX710B:
    def __init__(self, world, sck, dout, ch=0, counts_per_cmh2o=79000, offset=0, noise=100):
        self.world = world
        self.sck = sck
        self.dout = dout
        self.ch = ch
        self.k = counts_per_cmh2o
        self.offset = offset
        self.noise = noise
        self.rng = world.rng()
        self.mode = 25
        self.next_mode = 25
        self.n = 0  # rising edges in the current read; 0 = not reading
        self.word = 0
        self.sck_level = 0
        self.t_high = 0
        self.reads = 0
        self.power_downs = 0
        self._p = None
        self._base = 0
        now = world.now_us()
        self.t_ready = now + _PERIOD_US[25]
        self.t_conv = now
        self.read_mode = 25
        world.own_pin(sck, self)
        world.own_pin(dout, self)

    def _ready(self, now):
        w = self.world
        if w.fault("hx_never_ready", self.ch) or w.fault("disconnect", self.ch):
            return False
        return now >= self.t_ready

    def _sample(self):
        w = self.world
        ch = self.ch
        if w.fault("stuck", ch) and self.reads:
            return self.word
        if w.fault("saturate", ch):
            return 0x7FFFFF
        if self.mode == 26:
            c = self.rng.noise(self.noise)  # DVDD - AVDD: the module ties them, so ~0
        else:
            p = w.pressure(ch)
            if p != self._p:
                self._p = p
                self._base = int(self.offset + p * self.k)
            c = self._base + self.rng.noise(self.noise)
        if c > 0x7FFFFF:
            c = 0x7FFFFF
        elif c < -0x800000:
            c = -0x800000
        return c & 0xFFFFFF

    def _settle(self, now):
        # After the tail pulses DOUT stays high until the next conversion is done; from then
        # on the next rising edge starts a new word.
        if self.n > 24 and now >= self.t_ready:
            self.n = 0

    def pin_read(self, pin):
        if pin == self.sck:
            return self.sck_level
        self._settle(self.world.now_us())
        if 0 < self.n <= 24:
            return (self.word >> (24 - self.n)) & 1
        if self.n > 24:
            return 1
        return 0 if self._ready(self.world.now_us()) else 1

    def pin_write(self, pin, v):
        if pin != self.sck:
            return  # driving DOUT from the MCU side does nothing to the chip
        now = self.world.now_us()
        if v and not self.sck_level:
            self.sck_level = 1
            self.t_high = now
            self._rise(now)
        elif not v and self.sck_level:
            self.sck_level = 0
            if now - self.t_high >= _POWER_DOWN_US:
                self._power_cycle(now)

    def _rise(self, now):
        self._settle(now)
        n = self.n
        if n == 0:
            if not self._ready(now):
                return  # pulses while converting are ignored
            self.word = self._sample()
            self.reads += 1
            self.t_conv = self.t_ready
            self.read_mode = self.mode
        elif n >= 24:
            if n >= 27:
                return  # too many pulses: a protocol error on the real part
            self._select(n + 1, now)
        self.n = n + 1

    def _select(self, pulses, now):
        """Pulses 25..27 pick the next conversion's mode; schedule when its data is ready."""
        period = _PERIOD_US[pulses]
        if pulses != self.read_mode:
            t = now + period
        else:
            t = self.t_conv + period
            while t <= now:
                t += period
        self.t_ready = t
        self.mode = pulses

    def _power_cycle(self, now):
        self.power_downs += 1
        self.mode = 25
        self.n = 0
        self.t_ready = now + _PERIOD_US[25]
