"""Supply watch: VSYS / battery through the profile's sense divider (anchors section 9, fault 12).

A sagging supply (the motor starting on a weak battery, a battery near empty) makes a
ratiometric analog sensor read wrong and can brown the board out. While the supply is below
min_mv, and for hold_ms after it recovers, low(t) is True: the shell then reports the sensor
as not ready, so the engine turns the motor off, shows the fault and rewards nothing. A
reading under 1 V means no divider is fitted (a board cannot run on that): ignored. Reads one
ADC sample per call and allocates nothing.
"""
from pacer_hw._compat import const, native, ticks_diff

_NO_SENSE_MV = const(1000)


class Supply:
    def __init__(self, adc, mult, min_mv, full_mv=3300, hold_ms=2000):
        self._adc = adc
        self._num = full_mv * mult
        self.min_mv = min_mv
        self.mv = 0
        self._hold = hold_ms
        self.sags = 0
        body = self._watching()
        self.low = body.send  # low(t) -> bool, once a tick
        body.send(None)  # to its first yield

    @native
    def _watching(self):
        """low()'s work, resumed once a tick: a generator, so the ADC's read method, the scale
        and the hold time live in locals (an attribute is a hash look-up on the chip)."""
        read = self._adc.read_u16
        num = self._num
        min_mv = self.min_mv
        hold = self._hold
        bad_t = None
        low = False
        while True:
            t = yield low
            mv = read() * num // 65535
            self.mv = mv
            if mv < _NO_SENSE_MV:
                low = False  # a running board has a supply: the divider is not fitted
            elif mv < min_mv:
                if bad_t is None:
                    self.sags += 1
                bad_t = t
                low = True
            elif bad_t is not None:
                low = ticks_diff(t, bad_t) < hold
                if not low:
                    bad_t = None
            else:
                low = False


def from_profile(machine, profile):
    """A Supply for the profile's vsense, or None. Threshold: 90 % of a 5 V ratiometric
    sensor's supply (MPX5010), else 3.0 V (a Li-ion cell near empty, the 3.3 V rail failing)."""
    vs = profile.get("vsense")
    if not vs:
        return None
    spec = profile.get("pressure") or {}
    if spec.get("type") == "mpx5010":
        min_mv = spec.get("vs_mv", 5000) * 9 // 10
    else:
        min_mv = 3000
    adc = machine.ADC(machine.Pin(vs["pin"]))
    info = profile.get("adc") or {}
    if info.get("atten"):
        adc.atten(getattr(machine.ADC, info["atten"]))
    return Supply(adc, vs.get("mult", 3), vs.get("min_mv", min_mv),
                  full_mv=info.get("full_mv", 3300))
