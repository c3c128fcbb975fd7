"""Sensor fault codes shared by every pressure driver, the shell and the logs."""
from pacer_hw._compat import const

OK = const(0)
DISCONNECTED = const(1)  # reading below the sensor's zero offset (analog lead off)
OVER_RANGE = const(2)  # outside the sensor's valid output band, or a saturation flag
STUCK = const(3)  # identical raw codes for stuck_n samples: frozen sensor or ADC
BUS_ERROR = const(4)  # OSError from the bus (NACK, timeout, bus held low) after retries
BUSY_TIMEOUT = const(5)  # device stayed busy for too many polls (MPRLS)
NOT_READY = const(6)  # no data within its deadline (HX710B DOUT never low), or not powered
INTEGRITY = const(7)  # device reports bad memory/calibration, or is not the expected chip

NAMES = (
    "ok",
    "disconnected",
    "over_range",
    "stuck",
    "bus_error",
    "busy_timeout",
    "not_ready",
    "integrity",
)


def name(code):
    if 0 <= code < len(NAMES):
        return NAMES[code]
    return f"fault{code}"
