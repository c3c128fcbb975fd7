"""A `machine` module backed by a vdev World, for CPython and the MicroPython VM.

Whoever builds the board sets `machine.world = World(...)` before the firmware creates any
hardware object. Behaviour follows the real ports where firmware could notice:
- I2C errors are OSError with the port's errno: NACK/missing device EIO (5) on rp2 hardware
  I2C, ENODEV (19) on esp32 hardware I2C and on SoftI2C; ETIMEDOUT (110) when a slave holds the
  bus low. writeto returns the number of bytes ACKed.
- ADC.read_u16 is the rp2 12-bit code left-justified; read_uv exists on esp32 only and follows
  the attenuation (default ATTN_0DB, so forgetting ATTN_11DB clips at 0.95 V as on hardware).
- On rp2 the two channels of a PWM slice ((gpio >> 1) & 7) share a frequency.
- WDT on rp2 refuses timeouts above 8388 ms (RP2040; 16777 ms on RP2350, world.chip).
- reset(), soft_reset(), deepsleep() and bootloader() raise ResetRequested, a BaseException
  so that firmware's `except Exception` cannot swallow a reset; the host catches it.
Output changes are recorded to the world: PWM duty "pwm<pin>", PWM frequency "pwm<pin>.hz",
plain output pins "pin<pin>" (only pins not owned by a device, e.g. not bit-banged buses).
"""
import analog
from world import DEEPSLEEP_RESET, HARD_RESET, PWRON_RESET, SOFT_RESET, WDT_RESET, World

world = None  # type: World | None

__all__ = ["DEEPSLEEP_RESET", "HARD_RESET", "PWRON_RESET", "SOFT_RESET", "WDT_RESET", "World"]


class ResetRequested(BaseException):
    """Raised by reset-like calls; .kind is "hard", "soft", "deepsleep" or "bootloader"."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind


def _w():
    if world is None:
        raise RuntimeError("machine.world is not set (build a vdev World first)")
    return world


def _pin_id(p):
    if isinstance(p, Pin):
        return p.id
    if isinstance(p, str) and p.startswith("GP") and p[2:].isdigit():
        return int(p[2:])
    return p


class Pin:
    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8

    def __init__(self, id, mode=-1, pull=-1, value=None, alt=-1, **kw):
        self.id = _pin_id(id)
        self._mode = Pin.IN
        self._pull = None
        self._level = 0
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, value=None, **kw):
        if mode != -1:
            self._mode = mode
        if pull != -1:
            self._pull = pull
        if value is not None:
            self.value(value)
        elif mode == Pin.OPEN_DRAIN:
            self.value(self._level)

    def value(self, v=None):
        w = _w()
        owner = w.pin_owner.get(self.id)
        if v is None:
            if owner is not None:
                return owner.pin_read(self.id)
            lv = w.input_level(self.id)
            if lv is not None:
                return lv
            if self._mode == Pin.OUT:
                return self._level
            if self._mode == Pin.OPEN_DRAIN:
                return self._level if self._level == 0 or self._pull != Pin.PULL_DOWN else 0
            return 1 if self._pull == Pin.PULL_UP else 0
        v = 1 if v else 0
        changed = v != self._level
        self._level = v
        if owner is not None:
            owner.pin_write(self.id, v)
        elif changed:
            w.record(w.now_ms(), "pin" + str(self.id), v)
        return None

    def __call__(self, v=None):
        return self.value(v)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def low(self):
        self.value(0)

    def high(self):
        self.value(1)

    def toggle(self):
        self.value(1 - self._level)

    def irq(self, handler=None, trigger=12, hard=False):
        w = _w()
        if handler is None:
            w.irqs.pop(self.id, None)
        else:
            w.irqs[self.id] = (handler, trigger, self)


class Signal:
    def __init__(self, pin, invert=False):
        self.pin = pin if isinstance(pin, Pin) else Pin(pin)
        self.invert = invert

    def value(self, v=None):
        if v is None:
            return (self.pin.value() or 0) ^ (1 if self.invert else 0)
        self.pin.value((1 if v else 0) ^ (1 if self.invert else 0))
        return None

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)


class PWM:
    def __init__(self, dest, freq=None, duty_u16=None, duty_ns=None, invert=False, **kw):
        self.pin = _pin_id(dest)
        self._freq = 1000
        self._duty = 0
        self._on = True
        self._ch = "pwm" + str(self.pin)
        _w().pwms[self.pin] = self
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        elif duty_ns is not None:
            self.duty_ns(duty_ns)

    def init(self, freq=None, duty_u16=None, duty_ns=None, **kw):
        self._on = True
        if freq is not None:
            self.freq(freq)
        if duty_u16 is not None:
            self.duty_u16(duty_u16)
        elif duty_ns is not None:
            self.duty_ns(duty_ns)

    def freq(self, f=None):
        if f is None:
            return self._freq
        w = _w()
        targets = [self]
        if w.port == "rp2":
            s = (self.pin >> 1) & 7 if isinstance(self.pin, int) else -1
            targets = [
                p for p in w.pwms.values() if isinstance(p.pin, int) and (p.pin >> 1) & 7 == s
            ]
        for p in targets:
            if p._freq != f:
                p._freq = f
                w.record(w.now_ms(), w.labels.get(p._ch, p._ch) + ".hz", f)
        return None

    def duty_u16(self, d=None):
        if d is None:
            return self._duty
        if d < 0 or d > 65535:
            raise ValueError("duty_u16 must be 0..65535")
        if d != self._duty:
            self._duty = d
            w = _w()
            w.record(w.now_ms(), self._ch, d)
        return None

    def duty_ns(self, ns=None):
        period = 1000000000 // self._freq
        if ns is None:
            return self._duty * period // 65535
        return self.duty_u16(min(65535, ns * 65535 // period))

    def deinit(self):
        self.duty_u16(0)
        self._on = False


class ADC:
    ATTN_0DB = 0
    ATTN_2_5DB = 1
    ATTN_6DB = 2
    ATTN_11DB = 3
    WIDTH_9BIT = 9
    WIDTH_10BIT = 10
    WIDTH_11BIT = 11
    WIDTH_12BIT = 12
    CORE_TEMP = 4

    def __init__(self, pin, atten=None, **kw):
        w = _w()
        self.pin = _pin_id(pin)
        self._atten = 0 if atten is None else atten
        self._rng = w.rng()
        self._last = -1
        self.noise_lsb = 2

    def atten(self, a):
        self._atten = a

    def width(self, bits):
        pass

    def _code(self):
        """12-bit code; the `stuck` fault on the sensor's channel freezes the conversion."""
        w = _w()
        dev = w.adc.get(self.pin)
        if dev is None:
            uv = 0
        else:
            if self._last >= 0 and w.fault("stuck", getattr(dev, "ch", None)):
                return self._last
            uv = dev.pin_uv()
        n = self._rng.noise(self.noise_lsb)
        if w.port == "rp2":
            c = analog.rp2_code(uv, n)
        else:
            c = analog.esp32_code(uv, self._atten, n)
        self._last = c
        return c

    def read_u16(self):
        return analog.rp2_u16(self._code())

    def read_uv(self):
        if _w().port == "rp2":
            raise AttributeError("rp2 ADC has no read_uv")
        return self._code() * analog.esp32_step(self._atten)

    def read(self):
        return self.read_u16() >> 4


# Port default (scl, sda) for I2C(0) and I2C(1) when no pins are given.
_I2C_DEFAULTS = {"rp2": ((9, 8), (7, 6)), "esp32": ((18, 19), (25, 26))}


class I2C:
    _soft = False

    def __init__(self, id=-1, scl=None, sda=None, freq=400000, timeout=50000, **kw):
        w = _w()
        if scl is None or sda is None:
            d = _I2C_DEFAULTS.get(w.port, ((9, 8), (7, 6)))[id if id in (0, 1) else 0]
            scl, sda = d
        self.id = id
        self.freq = freq
        self._bus = w.bus(_pin_id(scl), _pin_id(sda))
        self._nack = 19 if (self._soft or w.port != "rp2") else 5

    def _dev(self, addr):
        return self._bus.device(addr, self._nack)

    def scan(self):
        return self._bus.scan()

    def writeto(self, addr, buf, stop=True):
        self._dev(addr).i2c_write(buf)
        return len(buf)

    def writevto(self, addr, vector, stop=True):
        b = bytearray()
        for v in vector:
            b.extend(v)
        self._dev(addr).i2c_write(b)
        return len(b)

    def readfrom_into(self, addr, buf, stop=True):
        self._dev(addr).i2c_read_into(buf)

    def readfrom(self, addr, n, stop=True):
        b = bytearray(n)
        self._dev(addr).i2c_read_into(b)
        return bytes(b)

    def writeto_mem(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).i2c_mem_write(memaddr, buf)

    def readfrom_mem_into(self, addr, memaddr, buf, addrsize=8):
        self._dev(addr).i2c_mem_read_into(memaddr, buf)

    def readfrom_mem(self, addr, memaddr, n, addrsize=8):
        b = bytearray(n)
        self._dev(addr).i2c_mem_read_into(memaddr, b)
        return bytes(b)

    def deinit(self):
        pass


class SoftI2C(I2C):
    _soft = True

    def __init__(self, scl, sda, freq=400000, timeout=50000, **kw):
        I2C.__init__(self, -1, scl, sda, freq, timeout)


class WDT:
    def __init__(self, id=0, timeout=5000):
        w = _w()
        if w.port == "rp2" and timeout > (16777 if w.chip == "rp2350" else 8388):
            raise ValueError("timeout exceeds maximum")
        w.wdt_start(timeout)

    def feed(self):
        _w().wdt_feed()


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1, mode=1, period=-1, freq=-1, callback=None, **kw):
        self._cb = None
        if callback is not None:
            self.init(mode=mode, period=period, freq=freq, callback=callback)

    def init(self, mode=1, period=-1, freq=-1, callback=None, **kw):
        w = _w()
        self._mode = mode
        self._period = period if period > 0 else (1000 // freq if freq > 0 else 1000)
        self._cb = callback
        self._next = w.now_ms() + self._period
        if self not in w.timers:
            w.timers.append(self)

    def _poll(self, now):
        while self._cb is not None and now >= self._next:
            cb = self._cb
            if self._mode == Timer.ONE_SHOT:
                self.deinit()
            else:
                self._next += self._period
            cb(self)

    def deinit(self):
        w = _w()
        self._cb = None
        if self in w.timers:
            w.timers.remove(self)


def reset():
    _w().boot_cause = HARD_RESET
    raise ResetRequested("hard")


def soft_reset():
    _w().boot_cause = SOFT_RESET
    raise ResetRequested("soft")


def bootloader(*args):
    raise ResetRequested("bootloader")


def deepsleep(ms=0):
    _w().boot_cause = DEEPSLEEP_RESET
    raise ResetRequested("deepsleep")


def lightsleep(ms=0):
    w = _w()
    if ms and w._clock is None:
        w.advance_ms(ms)


def idle():
    pass


def reset_cause():
    return _w().boot_cause


def unique_id():
    s = _w().seed
    return bytes(((s * 37 + i * 101) & 0xFF) for i in range(8))


def freq(hz=None):
    w = _w()
    if hz is not None:
        w.cpu_hz = hz
        return None
    return w.cpu_hz


def disable_irq():
    w = _w()
    w.irq_disabled += 1
    return w.irq_disabled - 1


def enable_irq(state=0):
    _w().irq_disabled = state


def time_pulse_us(pin, level, timeout_us=1000000):
    return -2
