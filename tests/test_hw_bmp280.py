"""BMP280 driver against the virtual BMP280: compensation accuracy, setup checks, faults."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import bmp280 as v_bmp280
import pytest

import hw_scenarios as S
from pacer_hw import fault
from pacer_hw.bmp280 import BMP280

CAL = v_bmp280.DATASHEET_CAL


def _s32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def _u32(x):
    return x & 0xFFFFFFFF


def c_reference(cal, adc_p, adc_t):
    """Datasheet appendix 8.2, every operation wrapped to C's 32-bit signed/unsigned types:
    a third implementation, independent of both the firmware's and the vdev's."""
    t1, t2, t3, p1, p2, p3, p4, p5, p6, p7, p8, p9 = cal
    var1 = _s32(_s32((adc_t >> 3) - (t1 << 1)) * t2) >> 11
    d = _s32((adc_t >> 4) - t1)
    t_fine = _s32(var1 + (_s32(_s32(_s32(d * d) >> 12) * t3) >> 14))
    var1 = _s32((t_fine >> 1) - 64000)
    q = _s32((var1 >> 2) * (var1 >> 2))
    var2 = _s32(_s32((q >> 11) * p6) + _s32(_s32(var1 * p5) << 1))
    var2 = _s32((var2 >> 2) + _s32(p4 << 16))
    var1 = _s32(_s32(_s32(p3 * (q >> 13)) >> 3) + (_s32(p2 * var1) >> 1)) >> 18
    var1 = _s32(_s32((32768 + var1) * p1) >> 15)
    if var1 == 0:
        return 0
    p = _u32(_u32(_u32(1048576 - adc_p) - (var2 >> 12)) * 3125)
    p = _u32(p << 1) // _u32(var1) if p < 0x80000000 else (p // _u32(var1)) * 2
    var1 = _s32(p9 * _s32(((p >> 3) * (p >> 3)) >> 13)) >> 12
    var2 = _s32(_s32(p >> 2) * p8) >> 13
    return _u32(_s32(p) + ((var1 + var2 + p7) >> 4))


def _driver():
    d = BMP280.__new__(BMP280)  # compensation only, no bus
    d._cal = CAL
    return d


def test_datasheet_example():
    # Datasheet example: adc_T 519888, adc_P 415148 -> 25.08 degC, 100653.27 Pa (double).
    tf = v_bmp280.comp_t_fine(CAL, 519888)
    assert tf / 5120.0 == pytest.approx(25.08, abs=0.005)
    assert v_bmp280.comp_p(CAL, 415148, int(tf)) == pytest.approx(100653.27, abs=0.02)
    d = _driver()
    p = d.compensate(415148, 519888)
    assert d.t_fine == 128422 and (d.t_fine * 5 + 128) >> 8 == 2508
    # the 32-bit formula is "typically 1 Pa (1-sigma)" from the double one
    assert p == v_bmp280.comp_int32(CAL, 415148, 519888)[0] == 100656


def test_driver_and_vdev_are_bit_identical_to_the_datasheet_32_bit_formula():
    d = _driver()
    n = 0
    for adc_t in range(380000, 640000, 13001):
        for adc_p in range(120000, 960000, 9973):
            want = c_reference(CAL, adc_p, adc_t)
            assert d.compensate(adc_p, adc_t) == want
            assert v_bmp280.comp_int32(CAL, adc_p, adc_t)[0] == want
            n += 1
    assert n > 1500


@pytest.mark.parametrize("temp_c", [-5.0, 25.0, 45.0])
def test_recovers_pressure_within_1_pa_over_300_to_1100_hpa(temp_c):
    d = _driver()
    worst = 0.0
    for pa10 in range(300000, 1100001, 1999):
        pa = pa10 / 10.0
        adc_p, adc_t = v_bmp280.invert(CAL, pa, temp_c, shift_p=2)  # x4: 18-bit codes
        worst = max(worst, abs(d.compensate(adc_p, adc_t) - pa))
    assert worst <= 1.0


def test_double_and_int32_formulas_agree_within_a_few_pa():
    worst = 0.0
    for pa in range(30000, 110001, 2500):
        adc_p, adc_t = v_bmp280.invert(CAL, pa, 25.0, formula="double")
        tf = int(v_bmp280.comp_t_fine(CAL, adc_t))
        worst = max(worst, abs(v_bmp280.comp_p(CAL, adc_p, tf) - pa))
        worst_i = abs(v_bmp280.comp_int32(CAL, adc_p, adc_t)[0] - pa)
        assert worst_i <= 4
    assert worst <= 0.2


def test_tracks_gauge_pressure_through_the_bus():
    r = S.bmp_track()
    assert r["first"][0] == fault.NOT_READY  # normal mode just started: data regs at reset
    assert r["first"][1:] == [fault.OK, fault.OK]
    for got, want in zip(r["cps"], [0, 1000, 5000, 8500]):
        assert abs(got - want) <= 3, r["cps"]
    assert r["over"] == fault.OVER_RANGE  # 95 cmH2O at sea level > 1100 hPa
    assert r["t100"] == pytest.approx(2500, abs=2)


def test_setup_rejects_wrong_chip_and_bad_trim():
    w, dev, s = S.bmp_rig()
    dev.regs[0xD0] = 0x55
    assert S.run(w, s, 2)[-1][1] == fault.INTEGRITY
    w, dev, s = S.bmp_rig()
    w.set_fault("integrity_fail", True, 0)
    assert S.run(w, s, 2)[-1][1] == fault.INTEGRITY
    w.clear_fault("integrity_fail", 0)
    assert S.run(w, s, 2)[-1][1] == fault.OK


def test_bme280_id_is_accepted():
    w, dev, s = S.bmp_rig()
    dev.regs[0xD0] = 0x60
    assert S.run(w, s, 2)[-1][1] == fault.OK


def test_saturate_stuck_nack():
    for name, code, at in (("saturate", fault.OVER_RANGE, 0), ("stuck", fault.STUCK, 149),
                           ("nack", fault.BUS_ERROR, 2)):
        w, _dev, s = S.bmp_rig(pressure=1.0)
        S.run(w, s, 3)
        w.set_fault(name, True, 0)
        rows = S.run(w, s, 160)
        assert S.first(rows, code) == at, name
        w.clear_fault(name, 0)
        assert S.run(w, s, 3)[-1][1] == fault.OK, name


def test_setup_is_redone_after_a_bus_fault():
    w, dev, s = S.bmp_rig()
    S.run(w, s, 3)
    dev._reset()  # the sensor browned out and lost its configuration
    w.set_fault("nack", True, 0)
    S.run(w, s, 3)
    w.clear_fault("nack", 0)
    rows = S.run(w, s, 3)
    assert dev.mode == 3 and rows[-1][1] == fault.OK


def test_vdev_forced_mode_timing():
    w, dev, _s = S.bmp_rig(pressure=0.0)
    import machine

    i2c = machine.I2C(0, scl=22, sda=21)
    i2c.writeto_mem(0x76, 0xF4, bytes([(1 << 5) | (3 << 2) | 1]))  # forced, x1 / x4
    assert dev.t_meas_us() == 1000 + 2000 + 8500
    assert i2c.readfrom_mem(0x76, 0xF3, 1)[0] & 0x08  # measuring
    w.advance_us(11400)
    assert i2c.readfrom_mem(0x76, 0xF3, 1)[0] & 0x08  # typical t_meas is 11.5 ms
    w.advance_us(100)
    assert i2c.readfrom_mem(0x76, 0xF3, 1)[0] == 0
    assert i2c.readfrom_mem(0x76, 0xF4, 1)[0] & 3 == 0  # back to sleep
    raw = i2c.readfrom_mem(0x76, 0xF7, 3)
    assert raw != b"\x80\x00\x00"


def test_vdev_read_ahead_gives_back_the_bytes_not_clocked_out():
    """A byte-at-a-time master (the emulated RP2040) reads ahead, then returns the bytes it did
    not clock out: the register pointer must end where a 2-byte burst leaves it."""
    w, dev, _s = S.bmp_rig(pressure=0.0)
    dev.i2c_write(bytes([0x88]))  # the trim: T1 = 27504, T2 = 26435 little-endian
    ahead = bytearray(32)
    dev.i2c_read_into(ahead)
    dev.i2c_read_unused(30)
    assert ahead[:2] == (27504).to_bytes(2, "little") and dev.ptr == 0x8A
    nxt = bytearray(2)
    dev.i2c_read_into(nxt)  # a read with no register write continues the burst
    assert nxt == (26435).to_bytes(2, "little") and dev.ptr == 0x8C
