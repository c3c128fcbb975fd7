"""Bosch BMP280 barometer (I2C 0x76/0x77) used as a sealed-probe pressure sensor.

Runs in normal mode (pressure x4, temperature x1, 0.5 ms standby, no IIR filter): the chip
converts on its own at about 80 Hz, so a read is one 6-byte burst and never waits. The first
update() (and any update after a bus fault) does the setup: chip id 0xD0 must be 0x58 (0x60, a
BME280, has the same pressure path and is accepted), calibration 0x88..0x9F is read once.

Compensation is the datasheet's 32-bit integer version, rearranged only where an intermediate
would exceed MicroPython's small-int range, in ways that give bit-identical results:
(32768 + v1) * P1 >> 15 == P1 + (v1 * P1 >> 15), and the division by v1 is split into quotient
and remainder. At normal temperatures nothing allocates.

Range: 300..1100 hPa absolute. At sea level that leaves only ~90 hPa (~90 cmH2O) above
atmosphere, so a hard squeeze can reach the top: OVER_RANGE from pmax_pa (default 1100 hPa).
Gauge = absolute minus an atmospheric reference (the first valid sample, then a quiet moment
of the boot self-test).
"""
import struct

from pacer_hw import fault
from pacer_hw._compat import const, native
from pacer_hw.sensor import PressureSensor

_REG_ID = const(0xD0)
_REG_CALIB = const(0x88)
_REG_CTRL = const(0xF4)
_REG_CONFIG = const(0xF5)
_REG_DATA = const(0xF7)
_CTRL_NORMAL = const(0x2F)  # osrs_t x1 (001), osrs_p x4 (011), mode normal (11)
_CONFIG = const(0x00)  # t_sb 0.5 ms, filter off, no 3-wire SPI
_SKIPPED = const(0x80000)  # data register reset value: no conversion yet
_PMIN_PA = const(30000)


class BMP280(PressureSensor):
    def __init__(self, i2c, addr=0x76, pmax_pa=110000, stuck_n=150, retries=3):
        self._i2c = i2c
        self._addr = addr
        self._pmax = pmax_pa
        self._buf = bytearray(6)
        self._ready = False
        self.t_fine = 0
        self._cal = (0,) * 12
        # 1 Pa = 1.0197 cp
        super().__init__(10197, 10000, 1 << 17, 0, stuck_n, retries, True)

    def _setup(self):
        i2c = self._i2c
        chip = i2c.readfrom_mem(self._addr, _REG_ID, 1)[0]
        cal = struct.unpack("<HhhHhhhhhhhh", i2c.readfrom_mem(self._addr, _REG_CALIB, 24))
        # Config is only reliably written in sleep mode, hence before ctrl_meas.
        i2c.writeto_mem(self._addr, _REG_CONFIG, b"\x00")
        i2c.writeto_mem(self._addr, _REG_CTRL, bytes((_CTRL_NORMAL,)))
        self._cal = cal
        # Erased or corrupt trim memory reads 0 or 0xFFFF; P1 == 0 would divide by zero.
        ok = chip in (0x58, 0x60) and cal[0] not in (0, 0xFFFF) and cal[3] not in (0, 0xFFFF)
        self._ready = ok
        return ok

    @native
    def update(self, t_ms=0):
        try:
            if not self._ready and not self._setup():
                return self._set(fault.INTEGRITY)
            self._i2c.readfrom_mem_into(self._addr, _REG_DATA, self._buf)
        except OSError as e:
            self._ready = False  # re-check id and calibration once the bus is back
            return self._bus_error(e)
        b = self._buf
        adc_p = (b[0] << 12) | (b[1] << 4) | (b[2] >> 4)
        adc_t = (b[3] << 12) | (b[4] << 4) | (b[5] >> 4)
        if adc_p == _SKIPPED or adc_t == _SKIPPED:
            return self._sample(adc_p, 0, fault.NOT_READY)
        p = self.compensate(adc_p, adc_t)
        bad = fault.OK
        if p == 0 or p >= self._pmax or p < _PMIN_PA:
            bad = fault.OVER_RANGE
        return self._sample(adc_p, p, bad)

    def compensate(self, adc_p, adc_t):
        """Pressure in Pa (int) from raw ADC values; sets self.t_fine (temperature * 5120)."""
        t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9 = self._cal
        v1 = (((adc_t >> 3) - (t1 << 1)) * t2) >> 11
        d = (adc_t >> 4) - t1
        t_fine = v1 + ((((d * d) >> 12) * t3) >> 14)
        self.t_fine = t_fine
        v1 = (t_fine >> 1) - 64000
        q = (v1 >> 2) * (v1 >> 2)
        v2 = ((q >> 11) * p6) + ((v1 * p5) << 1)
        v2 = (v2 >> 2) + (p4 << 16)
        v1 = (((p3 * (q >> 13)) >> 3) + ((p2 * v1) >> 1)) >> 18
        v1 = p1 + ((v1 * p1) >> 15)  # == ((32768 + v1) * p1) >> 15 without the 2**30 overflow
        if v1 <= 0:
            return 0
        x = (1048576 - adc_p) - (v2 >> 12)
        qx = x // v1
        r = x - qx * v1
        if x < 687195:  # x * 3125 < 2**31: the datasheet's (p << 1) / v1 branch
            p = qx * 6250 + (r * 6250) // v1
        else:
            p = (qx * 3125 + (r * 3125) // v1) << 1
        v1 = (p9 * (((p >> 3) * (p >> 3)) >> 13)) >> 12
        v2 = ((p >> 2) * p8) >> 13
        return p + ((v1 + v2 + p7) >> 4)
