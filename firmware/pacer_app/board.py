"""The board: hardware objects built from a profile (pacer_hw.profiles) and handed to the drivers.

This is the one place that touches `machine`; the module and `neopixel` are passed in, so the
virtual board and tests can supply their own. Everything here allocates only at construction.
"""
from pacer_hw import fault
from pacer_hw.button import Button
from pacer_hw.led import Led
from pacer_hw.motor import Motor
from pacer_hw.pixel import Pixel


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
                       vref_mv=adc_info.get("full_mv", 3300), uv=uv)
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
    def __init__(self, profile, machine, neopixel=None, motor_max_on_ms=2000):
        self.profile = profile
        self.machine = machine
        # outputs first, and off, before anything that could fail
        self.motor = Motor(machine.PWM(machine.Pin(profile["motor"])), max_on_ms=motor_max_on_ms)
        self.led = None
        if profile.get("led") is not None:
            self.led = Led(machine.PWM(machine.Pin(profile["led"])))
            self.led.off()
        self.pixel = None
        if profile.get("pixel") is not None and neopixel is not None:
            self.pixel = Pixel(neopixel.NeoPixel(machine.Pin(profile["pixel"], machine.Pin.OUT), 1))
            self.pixel.off()
        self.button_pin = machine.Pin(profile["button"], machine.Pin.IN, machine.Pin.PULL_UP)
        self.button = Button()
        self.buzzer = None
        if profile.get("buzzer") is not None:
            from pacer_hw.buzzer import Buzzer
            self.buzzer = Buzzer(machine.PWM(machine.Pin(profile["buzzer"])))
        cache = {}
        self.sensor = make_sensor(machine, profile["pressure"], profile["adc"], cache)
        self.abdominal = None
        if profile.get("abdominal"):
            self.abdominal = make_sensor(machine, profile["abdominal"], profile["adc"], cache)

    def outputs_off(self):
        """Safe state: every actuator off. Never raises: it is what error paths call."""
        for part in (self.motor, self.led, self.pixel, self.buzzer):
            if part is not None:
                try:
                    part.off()
                except Exception:  # noqa: BLE001 - the safe state must always be reached
                    pass

    def show(self, t, led, rgb, motor):
        """Copy one tick's cue levels to the outputs; the motor's own cut-off has the last word."""
        self.motor.set(motor)
        self.motor.update(t)
        if self.led is not None:
            self.led.duty(led)
        if self.pixel is not None:
            self.pixel.set(rgb)

    def read(self, t):
        """Returns (fault code, cp, abdominal cp or None)."""
        s = self.sensor
        code = s.update(t)
        abd = None
        if self.abdominal is not None and self.abdominal.update(t) == fault.OK:
            abd = self.abdominal.cp
        return code, s.cp, abd

    def button_event(self, t):
        return self.button.update(t, self.button_pin.value())
