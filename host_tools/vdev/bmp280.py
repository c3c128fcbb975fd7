"""Virtual Bosch BMP280 (I2C 0x76/0x77) with the datasheet's example calibration.

Registers: 0x88..0x9F trim (T1..P9, little-endian), 0xD0 id 0x58, 0xE0 reset (0xB6),
0xF3 status (bit 3 measuring), 0xF4 ctrl_meas (osrs_t, osrs_p, mode), 0xF5 config (t_sb,
filter), 0xF7..0xFC press/temp msb, lsb, xlsb[7:4]. Reads auto-increment; writes are
register/data pairs, as on the chip.

Timing (datasheet typical): t_meas = 1 + 2*Nt + (2*Np + 0.5) ms. Forced mode converts once
then returns to sleep; normal mode converts every t_meas + t_standby. Data registers hold
0x80000 until the first conversion and for skipped measurements. The IIR filter is accepted
but not modelled.

Raw values are produced by INVERTING the compensation: a binary search finds the raw code, on
the grid the oversampling setting gives (16 + osrs - 1 bits), whose compensated value is
nearest the true pressure. By default the search uses the datasheet's 32-bit integer formula
(appendix 8.2), written here as in the datasheet, independently of the firmware's version
(rearranged to stay in small ints), so a driver that implements it right recovers the
pressure within 1 Pa. A search starts from the double formula solved for the raw value and
probes a few codes around it: each probe of the integer formula costs ~0.3 KB of big ints
inside the VM, ~3 KB per new pressure. The datasheet also gives a double-precision formula
(8.1), which the 32-bit one follows only to "typically 1 Pa (1-sigma)", about 3 Pa at worst;
formula="double" inverts that one instead. Searches are cached per (pressure, temperature,
oversampling) and noise is added as whole raw steps, so steady reads do not allocate.
Faults: busy_forever (measuring never ends, data never updates), stuck (data frozen),
integrity_fail (trim memory reads 0), saturate (reads as 1200 hPa), nack / disconnect.
"""
import math
import struct

from bus import I2CSlave

# Datasheet section 3.12 example: T1..T3, P1..P9
DATASHEET_CAL = (27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000)
_OSRS = (0, 1, 2, 4, 8, 16, 16, 16)
_T_SB_US = (500, 62500, 125000, 250000, 500000, 1000000, 2000000, 4000000)
_PA_PER_CMH2O = 98.0665


def comp_t_fine(cal, adc_t):
    """Datasheet double-precision temperature compensation; returns t_fine as a float."""
    t1, t2, t3 = cal[0], cal[1], cal[2]
    v1 = (adc_t / 16384.0 - t1 / 1024.0) * t2
    d = adc_t / 131072.0 - t1 / 8192.0
    return v1 + d * d * t3


def comp_p(cal, adc_p, t_fine):
    """Datasheet double-precision pressure compensation (t_fine an int, as there); Pa."""
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = cal[3:]
    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * p6 / 32768.0
    v2 = v2 + v1 * p5 * 2.0
    v2 = v2 / 4.0 + p4 * 65536.0
    v1 = (p3 * v1 * v1 / 524288.0 + p2 * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * p1
    if v1 == 0.0:
        return 0.0
    p = 1048576.0 - adc_p
    p = (p - v2 / 4096.0) * 6250.0 / v1
    v1 = p9 * p * p / 2147483648.0
    v2 = p * p8 / 32768.0
    return p + (v1 + v2 + p7) / 16.0


def t_fine_int32(cal, adc_t):
    """Datasheet 32-bit temperature compensation: t_fine (temperature * 5120)."""
    t1, t2, t3 = cal[0], cal[1], cal[2]
    var1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    d = (adc_t >> 4) - t1
    return var1 + ((((d * d) >> 12) * t3) >> 14)


def comp_int32(cal, adc_p, adc_t):
    """Datasheet 32-bit fixed-point compensation (appendix 8.2) as written there; returns
    (Pa, t_fine). For raw values the chip can produce no 32-bit intermediate overflows, so
    Python's unbounded ints give the C results without emulating the wrap-around."""
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = cal[3:]
    t_fine = t_fine_int32(cal, adc_t)
    var1 = (t_fine >> 1) - 64000
    var2 = (((var1 >> 2) * (var1 >> 2)) >> 11) * p6
    var2 = var2 + ((var1 * p5) << 1)
    var2 = (var2 >> 2) + (p4 << 16)
    var1 = (((p3 * (((var1 >> 2) * (var1 >> 2)) >> 13)) >> 3) + ((p2 * var1) >> 1)) >> 18
    var1 = ((32768 + var1) * p1) >> 15
    if var1 == 0:
        return 0, t_fine
    p = ((1048576 - adc_p) - (var2 >> 12)) * 3125
    if p < 0x80000000:
        p = (p << 1) // var1
    else:
        p = (p // var1) * 2
    var1 = (p9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
    var2 = ((p >> 2) * p8) >> 13
    return p + ((var1 + var2 + p7) >> 4), t_fine


def _shift(osrs):
    """Unused low raw bits: x1 oversampling gives 16 bits of the 20, x16 all 20."""
    return 5 - osrs if 0 < osrs < 5 else 0


def _search(f, target, shift, increasing, guess=-1, window=32):
    """Grid code (k << shift, k < 2**(20-shift)) whose f is nearest target; f monotonic.
    With a guess, search only guess +- window raw steps (if they bracket the target)."""
    top = (1 << (20 - shift)) - 1
    lo, hi = 0, top
    if guess >= 0:
        a = max(0, (guess - window) >> shift)
        b = min(top, (guess + window) >> shift)
        fa, fb = f(a << shift), f(b << shift)
        if (fa <= target <= fb) if increasing else (fb <= target <= fa):
            lo, hi = a, b
    while lo < hi:
        mid = (lo + hi) // 2
        v = f(mid << shift)
        if (v < target) == increasing:
            lo = mid + 1
        else:
            hi = mid
    best = lo
    if lo > 0 and abs(f((lo - 1) << shift) - target) < abs(f(lo << shift) - target):
        best = lo - 1
    return best << shift


def guess_adc_p(cal, pa, t_fine):
    """The double formula solved for adc_p (a quadratic in the intermediate p): a starting
    point a few raw steps from the answer, so the exact search only probes a small window."""
    p1, p2, p3, p4, p5, p6, p7, p8, p9 = cal[3:]
    v1 = t_fine / 2.0 - 64000.0
    v2 = (v1 * v1 * p6 / 32768.0 + v1 * p5 * 2.0) / 4.0 + p4 * 65536.0
    v1 = (1.0 + ((p3 * v1 * v1 / 524288.0 + p2 * v1) / 524288.0) / 32768.0) * p1
    a = p9 / 2147483648.0 / 16.0
    b = 1.0 + p8 / 32768.0 / 16.0
    c = p7 / 16.0 - pa
    p0 = -2.0 * c / (b + math.sqrt(b * b - 4.0 * a * c))
    g = int(1048576.0 - v2 / 4096.0 - p0 * v1 / 6250.0)
    return 0 if g < 0 else min(g, 0xFFFFF)


def invert_t(cal, temp_c, shift_t=0, formula="int32"):
    """Raw adc_t for temp_c."""
    if formula == "int32":
        return _search(lambda a: t_fine_int32(cal, a), temp_c * 5120.0, shift_t, cal[1] > 0)
    return _search(lambda a: comp_t_fine(cal, a), temp_c * 5120.0, shift_t, cal[1] > 0)


def invert(cal, pa, temp_c, shift_p=0, shift_t=0, formula="int32", adc_t=-1):
    """Raw (adc_p, adc_t) that compensate to pa and temp_c; used by the model and tests."""
    if adc_t < 0:
        adc_t = invert_t(cal, temp_c, shift_t, formula)
    if formula == "int32":
        t_fine = t_fine_int32(cal, adc_t)
        f = lambda a: comp_int32(cal, a, adc_t)[0]  # noqa: E731
    else:
        t_fine = int(comp_t_fine(cal, adc_t))
        f = lambda a: comp_p(cal, a, t_fine)  # noqa: E731
    g = guess_adc_p(cal, pa, t_fine)
    return _search(f, pa, shift_p, False, g), adc_t


class BMP280(I2CSlave):
    def __init__(self, world, ch=0, cal=DATASHEET_CAL, noise=1, chip_id=0x58, formula="int32"):
        self.world = world
        self.formula = formula
        self.ch = ch
        self.cal = cal
        self.noise = noise  # in raw steps of the current resolution
        self.rng = world.rng()
        self.regs = bytearray(256)
        struct.pack_into("<HhhHhhhhhhhh", self.regs, 0x88, *cal)
        self.regs[0xD0] = chip_id
        self.ptr = 0
        self.conversions = 0
        self._key = None
        self._tkey = None
        self._adc_t = 0x80000
        self._adc_p = 0x80000
        self._reset()

    def _reset(self):
        r = self.regs
        r[0xF3] = 0
        r[0xF4] = 0
        r[0xF5] = 0
        r[0xF7:0xFD] = b"\x80\x00\x00\x80\x00\x00"
        self.mode = 0
        self.t_start = 0
        self.done = 0  # conversions finished since the mode was set

    # -- timing ---------------------------------------------------------------------------------

    def t_meas_us(self):
        c = self.regs[0xF4]
        nt = _OSRS[c >> 5]
        np_ = _OSRS[(c >> 2) & 7]
        return 1000 + 2000 * nt + (2000 * np_ + 500 if np_ else 0)

    def _cycle_us(self):
        return self.t_meas_us() + _T_SB_US[self.regs[0xF5] >> 5]

    def _advance(self):
        """Apply conversions that have finished by now."""
        if self.mode == 0:
            return
        w = self.world
        now = w.now_us()
        el = now - self.t_start
        meas = self.t_meas_us()
        if w.fault("busy_forever", self.ch):
            self.regs[0xF3] = 0x08
            return
        if self.mode == 3:
            cyc = self._cycle_us()
            n = (el - meas) // cyc + 1 if el >= meas else 0
            self.regs[0xF3] = 0x08 if el % cyc < meas else 0
            if n > self.done:
                self.done = n
                self._convert()
        elif el >= meas:
            self._convert()
            self.mode = 0
            self.regs[0xF4] &= 0xFC
            self.regs[0xF3] = 0
        else:
            self.regs[0xF3] = 0x08

    def _convert(self):
        w = self.world
        ch = self.ch
        self.conversions += 1
        if w.fault("stuck", ch) and self.conversions > 1:
            return
        c = self.regs[0xF4]
        ot = c >> 5
        op = (c >> 2) & 7
        sat = w.fault("saturate", ch)
        p = w.pressure(ch)
        if self._tkey is None or self._tkey[0] != w.temp_c or self._tkey[1] != ot:
            self._tkey = (w.temp_c, ot)
            self._adc_t = invert_t(self.cal, w.temp_c, _shift(ot), self.formula)
            self._key = None
        adc_t = self._adc_t
        k = self._key
        if k is None or k[0] != p or k[1] != sat or k[2] != w.atm_pa or k[3] != op:
            self._key = (p, sat, w.atm_pa, op)
            pa = 120000.0 if sat else w.atm_pa + p * _PA_PER_CMH2O
            self._adc_p = invert(self.cal, pa, 0, _shift(op), 0, self.formula, adc_t)[0]
        adc_p = self._adc_p
        if op:
            adc_p += self.rng.noise(self.noise) << _shift(op)
        else:
            adc_p = 0x80000
        if not ot:
            adc_t = 0x80000
        r = self.regs
        r[0xF7] = (adc_p >> 12) & 0xFF
        r[0xF8] = (adc_p >> 4) & 0xFF
        r[0xF9] = (adc_p << 4) & 0xF0
        r[0xFA] = (adc_t >> 12) & 0xFF
        r[0xFB] = (adc_t >> 4) & 0xFF
        r[0xFC] = (adc_t << 4) & 0xF0

    # -- registers ------------------------------------------------------------------------------

    def _write_reg(self, reg, v):
        if reg == 0xE0:
            if v == 0xB6:
                self._reset()
        elif reg == 0xF4:
            self.regs[0xF4] = v
            self.mode = v & 3
            self.t_start = self.world.now_us()
            self.done = 0
        elif reg == 0xF5 and self.mode != 3:
            # datasheet: config writes in normal mode may be ignored; this model ignores them
            self.regs[0xF5] = v & 0xFD

    def _read(self, reg):
        if 0x88 <= reg < 0xA0 and self.world.fault("integrity_fail", self.ch):
            return 0
        return self.regs[reg & 0xFF]

    def i2c_write(self, buf):
        n = len(buf)
        if n == 0:
            return
        self.ptr = buf[0]
        i = 0
        while i + 1 < n:
            self._write_reg(buf[i], buf[i + 1])
            i += 2

    def i2c_read_into(self, buf):
        self._advance()
        p = self.ptr
        for i in range(len(buf)):
            buf[i] = self._read(p + i)
        self.ptr = (p + len(buf)) & 0xFF

    def i2c_read_unused(self, n):
        self.ptr = (self.ptr - n) & 0xFF

    def i2c_mem_write(self, mem, buf):
        n = len(buf)
        if n:
            self._write_reg(mem, buf[0])
        i = 1
        while i + 1 < n:
            self._write_reg(buf[i], buf[i + 1])
            i += 2

    def i2c_mem_read_into(self, mem, buf):
        self.ptr = mem
        self.i2c_read_into(buf)
