"""The board: hardware objects built from a profile (pacer_hw.profiles) and handed to the drivers.

This is the one place that touches `machine`; the module and `neopixel` are passed in, so the
virtual board and tests can supply their own. Everything here allocates only at construction.
"""
from pacer_hw import fault
from pacer_hw._compat import native, ticks_diff
from pacer_hw.button import Button
from pacer_hw.motor import Motor


def _i2c(machine, spec, cache):
    key = (spec.get("i2c", 0), spec["sda"], spec["scl"])
    bus = cache.get(key)
    if bus is None:
        bus = machine.I2C(key[0], sda=machine.Pin(key[1]), scl=machine.Pin(key[2]),
                          freq=spec.get("freq", 400000))
        cache[key] = bus
    return bus


def make_sensor(machine, spec, adc_info, cache):
    """A pressure driver for one sensor spec of a profile."""
    kind = spec["type"]
    if kind == "mpx5010":
        from pacer_hw.mpx5010 import MPX5010
        adc = machine.ADC(machine.Pin(spec["pin"]))
        uv = adc_info["method"] == "read_uv"
        if adc_info.get("atten"):
            adc.atten(getattr(machine.ADC, adc_info["atten"]))
        return MPX5010(adc, div=tuple(spec["div"]), vs_mv=spec.get("vs_mv", 5000),
                       vref_mv=adc_info.get("full_mv", 3300), uv=uv, n=spec.get("n", 8))
    if kind == "hx710b":
        from pacer_hw.hx710b import HX710B
        return HX710B(machine.Pin(spec["sck"], machine.Pin.OUT),
                      machine.Pin(spec["dout"], machine.Pin.IN),
                      counts_per_cmh2o=spec.get("counts_per_cmh2o", 79000),
                      rate=spec.get("rate", 10))
    if kind == "mprls":
        from pacer_hw.mprls import MPRLS
        return MPRLS(_i2c(machine, spec, cache), addr=spec.get("addr", 0x18))
    if kind == "bmp280":
        from pacer_hw.bmp280 import BMP280
        return BMP280(_i2c(machine, spec, cache), addr=spec.get("addr", 0x76))
    raise ValueError("unknown pressure sensor type %r" % kind)


class Board:
    def __init__(self, profile, machine, neopixel=None, motor_max_on_ms=2000, with_screen=True):
        self.profile = profile
        self.machine = machine
        # outputs first, and off, before anything that could fail
        self.motor = Motor(machine.PWM(machine.Pin(profile["motor"])), max_on_ms=motor_max_on_ms)
        self.led = None
        if profile.get("led") is not None:
            # driver imports follow the profile: `pacer flash` deploys only the parts it names
            from pacer_hw.led import Led
            self.led = Led(machine.PWM(machine.Pin(profile["led"])))
            self.led.off()
        self.pixel = None
        if profile.get("pixel") is not None and neopixel is not None:
            from pacer_hw.pixel import Pixel
            self.pixel = Pixel(neopixel.NeoPixel(machine.Pin(profile["pixel"], machine.Pin.OUT), 1))
            self.pixel.off()
        self.button_pin = machine.Pin(profile["button"], machine.Pin.IN, machine.Pin.PULL_UP)
        self.button = Button()
        self.buzzer = None
        if profile.get("buzzer") is not None:
            from pacer_hw.buzzer import Buzzer
            self.buzzer = Buzzer(machine.PWM(machine.Pin(profile["buzzer"])))
        cache = {}
        self._i2c_cache = cache
        self.sensor = make_sensor(machine, profile["pressure"], profile["adc"], cache)
        self.abdominal = None
        if profile.get("abdominal"):
            self.abdominal = make_sensor(machine, profile["abdominal"], profile["adc"], cache)
        self.bus_recoveries = 0
        from pacer_hw import supply
        self.supply = supply.from_profile(machine, profile)  # None without a sense divider
        self.screen = None
        oled = profile.get("oled")
        if oled and with_screen:
            # optional: only when a display answers at its address
            try:
                bus = _i2c(machine, oled, cache)
                if oled["addr"] in bus.scan():
                    from pacer_hw.screen import SSD1306, Screen
                    self.screen = Screen(SSD1306(bus, oled["addr"]))
            except Exception:  # noqa: BLE001 - no screen is a normal configuration
                self.screen = None
        self.cp = 0
        self.abd = None
        self._recover_t = None
        body = self._sampling()
        self.sample = body.send
        body.send(None)  # to its first yield

    def _recover_i2c(self, t):
        """A bus error on an I2C sensor: at most once a second, clock a held SDA free and give
        the drivers fresh I2C objects (anchors section 9, fault 5; the watchdog is the backstop)."""
        if self._recover_t is not None and ticks_diff(t, self._recover_t) < 1000:
            return
        self._recover_t = t
        from pacer_hw.i2cbus import recover_bus
        m = self.machine
        for key in list(self._i2c_cache):
            try:
                recover_bus(m.Pin(key[2]), m.Pin(key[1]))
                bus = m.I2C(key[0], sda=m.Pin(key[1]), scl=m.Pin(key[2]))
            except Exception:  # noqa: BLE001 - recovery must never take the loop down
                continue
            old = self._i2c_cache[key]
            self._i2c_cache[key] = bus
            for s in (self.sensor, self.abdominal):
                if s is not None and getattr(s, "_i2c", None) is old:
                    s._i2c = bus  # pyright: ignore[reportAttributeAccessIssue]
        self.bus_recoveries += 1

    def outputs_off(self):
        """Safe state: every actuator off. Never raises: it is what error paths call."""
        for part in (self.motor, self.led, self.pixel, self.buzzer):
            if part is not None:
                try:
                    part.off()
                except Exception:  # noqa: BLE001 - the safe state must always be reached
                    pass

    @native
    def show(self, t, led, rgb, motor):
        """Copy one tick's cue levels to the outputs; the motor's own cut-off has the last word.
        Called every tick: a part whose level did not change is not called at all (a call costs
        more on the chip than the comparison)."""
        self.motor.follow(motor, t)
        d = self.led
        if d is not None and led != d.duty_now:
            d.duty(led)
        d = self.pixel
        if d is not None and rgb != d.rgb:
            d.set(rgb)
        d = self.buzzer
        if d is not None and d.timed:
            d.update(t)

    # sample(t) reads the sensors without allocating: returns the fault code and leaves the
    # readings in self.cp and self.abd (abdominal cp, or None when absent or faulty). It is the
    # send of this generator, which holds the sensors' update methods in its locals: looked up
    # through each sensor every tick, they would cost two failed hash look-ups a call.
    @native
    def _sampling(self):
        s = self.sensor
        s_update = s.update
        sup = self.supply
        low = sup.low if sup is not None else None
        a = self.abdominal
        a_update = a.update if a is not None else None
        code = fault.OK
        while True:
            t = yield code
            code = s_update(t)
            # fault.OK is 0: `not code` spares the module look-up on every tick
            if code and code == fault.BUS_ERROR and self._i2c_cache:
                self._recover_i2c(t)
            if low is not None and low(t) and not code:
                code = fault.NOT_READY  # supply sag / low battery: readings are not trustworthy
            self.cp = s.cp
            if a is not None and a_update is not None and not a_update(t):
                self.abd = a.cp
            elif self.abd is not None:
                self.abd = None

    def zero_at_rest(self):
        """Zero the absolute sensors (MPRLS, BMP280) on their last reading: the caller has seen
        the probe quiet. Gauge sensors keep their factory zero. Returns how many were zeroed."""
        n = 0
        for s in (self.sensor, self.abdominal):
            if s is not None and s.absolute and s.fault == fault.OK:
                s.zero()
                n += 1
        return n

    def read(self, t):
        """Returns (fault code, cp, abdominal cp or None). Allocates a tuple: the loop uses
        sample()."""
        code = self.sample(t)
        return code, self.cp, self.abd

    @native
    def button_event(self, t):
        return self.button.update(t, self.button_pin.value())
