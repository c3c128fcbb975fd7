"""NXP MPX5010 analog gauge pressure sensor (0-10 kPa) on an MCU ADC pin.

Transfer function (datasheet): Vout = Vs * (0.09 * P_kPa + 0.04), so 0.2 V at 0 and 4.7 V at
10 kPa for Vs = 5 V. The part runs from 5 V while the ADC tops out near 3.3 V, hence a resistor
divider (top, bottom ohms) in front of the pin. The output is ratiometric: a sagging 5 V rail
scales every reading, which the shell has to judge from a supply measurement.

rp2: uv=False, oversampled read_u16 (12-bit ADC left-justified). esp32: uv=True, read_uv (the
factory-calibrated path; raw codes are nonlinear), ADC set to 11 dB attenuation by the shell.
vref_mv is the ADC's full scale at the pin (3300 on rp2, ~3100 on esp32 at 11 dB): readings
within 20 mV of it are clipped, hence OVER_RANGE whatever the pressure would give.

All thresholds are converted once to the unit actually read (a sum of n samples), so the read
path is n ADC calls, two compares and one int multiply.
"""
from pacer_hw import fault
from pacer_hw._compat import const, native
from pacer_hw.sensor import PressureSensor

_CP_PER_KPA_X1000 = const(1019716)  # 1 kPa = 10.19716 cmH2O = 1019.716 cp


class MPX5010(PressureSensor):
    def __init__(
        self,
        adc,
        div=(0, 1),
        vs_mv=5000,
        vref_mv=3300,  # ADC full scale at the pin
        uv=False,
        n=16,
        zero_mv=None,
        margin_mv=120,
        stuck_n=150,
    ):
        top, bot = div
        self._top, self._bot = top, bot
        self._rd = adc.read_uv if uv else adc.read_u16
        self._n = n
        # code(v) = sum of n readings for v microvolts at the sensor output
        if uv:
            cnum, cden = n * bot, top + bot
        else:
            cnum, cden = n * bot * 65536, (top + bot) * vref_mv * 1000
        self._cnum, self._cden = cnum, cden
        if zero_mv is None:
            zero_mv = vs_mv * 40 // 1000  # 0.04 * Vs
        ref = self._code(zero_mv * 1000)
        # Below the zero offset by more than the margin: lead off / sensor unpowered.
        self._margin = self._code(margin_mv * 1000)
        # Above 4.7 V at 5 V (0.94 * Vs): beyond the specified output; also the ADC's own top.
        hi = self._code(vs_mv * 940)
        self._hi = min(hi, self._code_at_pin((vref_mv - 20) * 1000))
        # cp per code = (cden / cnum uV) * 1019716 / (90000 * vs_mv): one ratio, scaled in sensor
        super().__init__(cden * _CP_PER_KPA_X1000, cnum * 90 * vs_mv * 1000, self._hi, ref, stuck_n)
        body = self._reading()
        # update(t_ms) -> fault code, as every driver's; t_ms is not needed by an ADC read
        self.update = body.send
        body.send(None)  # to its first yield

    def _code(self, uv_at_sensor):
        return uv_at_sensor * self._cnum // self._cden

    def _code_at_pin(self, uv_at_pin):
        return uv_at_pin * self._cnum * (self._top + self._bot) // (self._cden * self._bot)

    @native
    def _reading(self):
        """update()'s work, resumed once a tick: a generator, so the driver's constants and its
        stuck count live in locals (each attribute is a hash look-up on the chip) and the
        sensor's published fields are stored only when they change. The same accounting as
        PressureSensor._sample for a gauge that never has bus errors."""
        rd = self._rd
        n = self._n
        margin = self._margin
        hi = self._hi
        stuck_n = self._stuck_n
        pre = self._pre
        m = self._m
        half = self._half
        shift = self._s
        ok = fault.OK
        disconnected = fault.DISCONNECTED
        over = fault.OVER_RANGE
        stuck = fault.STUCK
        raw = self.raw
        value = self.value
        cp = self.cp
        fresh = self.fresh
        code = self.fault
        same = 0
        while True:
            yield code
            s = 0
            for _ in range(n):
                s += rd()
            if s == raw:
                same += 1
            else:
                same = 0
                raw = s
                self.raw = s
            ref = self.ref  # zero() may move it
            if s < ref - margin:
                new = disconnected
            elif s > hi:
                new = over
            elif same >= stuck_n:
                new = stuck
            else:
                new = ok
            if new != code:
                code = new
                self.fault = new
            if code:
                if fresh:
                    fresh = False
                    self.fresh = False
            else:
                if s != value:
                    value = s
                    self.value = s
                c = (((s - ref) >> pre) * m + half) >> shift
                if c != cp:
                    cp = c
                    self.cp = c
                if not fresh:
                    fresh = True
                    self.fresh = True
