"""Pressure sensor models: range, resolution, noise, conversion rate and glitches, in cmH2O gauge.

Rough but per datasheet (anchors.md section 6); the numbers and their derivations are in
docs/simulator.md. "Gauge" limits of the absolute sensors assume sea-level air (1033 cmH2O).
"""
import math

DEFAULT = "mpx5010"
# No sensor model: the physical gauge pressure at the probe port, unquantised and noise-free, for
# a host (the virtual board's vdev devices) that models the sensor electronics itself. Only the
# saturate fault uses its limits.
NONE = "none"

# lsb: cmH2O per count as read; sd: noise (1 sd) in cmH2O; rate_hz: new conversions per second
# (0 = a fresh reading on every poll); spike_rate: chance per poll of a single-sample glitch;
# motor_step: offset while the vibration motor runs (supply ripple on the reference).
SENSORS = {
    # 0-10 kPa analog, 5 V supply through a 5 V -> 3.3 V divider into a 12-bit ADC:
    # 3.3 V / 4096 at the ADC = 1.22 mV at the sensor; 0.45 V/kPa -> 0.0277 cmH2O per count.
    "mpx5010": {"lo": 0.0, "hi": 102.0, "lsb": 0.0277, "sd": 0.083, "rate_hz": 0,
                "spike_rate": 0.0005, "spike": (10.0, 40.0), "motor_step": 0.25},
    # 24-bit bridge ADC on the usual 0-40 kPa module, 40 samples/s; far finer than its noise.
    "hx710b": {"lo": -408.0, "hi": 408.0, "lsb": 0.001, "sd": 0.05, "rate_hz": 40,
               "spike_rate": 0.0002, "spike": (10.0, 40.0), "motor_step": 0.05},
    # 0-25 psi absolute, 24-bit over 10-90% of counts; conversions take 5 ms.
    "mprls": {"lo": -1033.0, "hi": 724.0, "lsb": 0.001, "sd": 0.3, "rate_hz": 100,
              "spike_rate": 0.0002, "spike": (10.0, 40.0), "motor_step": 0.1},
    # 300-1100 hPa absolute: only about 88 cmH2O above sea-level air; 0.16 Pa steps, 1.3 Pa noise.
    "bmp280": {"lo": -727.0, "hi": 88.0, "lsb": 0.0016, "sd": 0.0133, "rate_hz": 50,
               "spike_rate": 0.0002, "spike": (10.0, 40.0), "motor_step": 0.02},
    NONE: {"lo": -1000.0, "hi": 1000.0, "lsb": 0.0, "sd": 0.0, "rate_hz": 0,
           "spike_rate": 0.0, "spike": (0.0, 0.0), "motor_step": 0.0},
}

NAMES = ("mpx5010", "hx710b", "mprls", "bmp280", NONE)


class SensorError(ValueError):
    pass


def get(name):
    spec = SENSORS.get(name)
    if spec is None:
        raise SensorError("unknown sensor %r; sensors: %s" % (name, ", ".join(NAMES)))
    return spec


class Sensor:
    """One sensor channel: turns a pressure into what the driver would report."""

    def __init__(self, name):
        spec = get(name)
        self.name = name
        self.lo = spec["lo"]
        self.hi = spec["hi"]
        self.lsb = spec["lsb"]
        self.sd = spec["sd"]
        self.rate = spec["rate_hz"]
        self.spike_rate = spec["spike_rate"]
        self.spike = spec["spike"]
        self.motor_step = spec["motor_step"]
        self._k = -1
        self._held = 0.0

    def clip(self, x):
        if x > self.hi:
            return self.hi
        if x < self.lo:
            return self.lo
        return x

    def convert(self, t_ms, p, rng, noise_mult):
        """Quantised, clipped, noisy reading of pressure p. A sensor slower than the poll rate
        returns its last conversion until the next one is due, as real drivers do."""
        if self.rate:
            k = t_ms * self.rate // 1000
            if k == self._k:
                return self._held
            self._k = k
        if not self.lsb:
            return self.clip(p)
        x = p + rng.gauss(0.0, self.sd * noise_mult)
        x = self.clip(math.floor(x / self.lsb + 0.5) * self.lsb)
        self._held = x
        return x
