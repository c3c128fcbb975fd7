"""MPX5010 analog driver against the virtual sensor + virtual rp2 / esp32 ADC."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import machine
import mpx5010 as v_mpx5010
import pytest

import hw_scenarios as S
from pacer_hw import fault
from pacer_hw.mpx5010 import MPX5010


@pytest.mark.parametrize("port", ["rp2", "esp32"])
def test_transfer_function_round_trip(port):
    r = S.mpx_track(port)
    assert r["fault"] == fault.OK
    for got, want in zip(r["cps"], [0, 500, 2000, 5000, 9000, -200]):
        assert abs(got - want) <= 10, r["cps"]  # 0.1 cmH2O over a 0..90 cmH2O span


def test_nominal_zero_without_calibration():
    w, s = S.mpx_rig("rp2", pressure=0.0)
    S.run(w, s, 1)
    assert abs(s.cp) <= 10  # 0.2 V nominal offset, through the 10k/20k divider
    w.set_pressure(0, 25.0)
    S.run(w, s, 1)
    assert abs(s.cp - 2500) <= 15


@pytest.mark.parametrize("port", ["rp2", "esp32"])
def test_faults(port):
    r = S.mpx_faults(port)
    assert r["disconnect"] == [0, -1, -1]
    assert r["saturate"] == [-1, 0, -1]
    assert r["stuck"] == [-1, -1, 150]  # stuck_n=150 repeats: 3 s at 50 Hz
    assert r["disconnect_after"] == r["saturate_after"] == r["stuck_after"] == fault.OK
    assert r["over"] == fault.OVER_RANGE  # 110 cmH2O is past the 4.7 V full scale
    # 15 % supply sag: ratiometric output drops ~2 cmH2O at 10 cmH2O, no false disconnect
    assert r["sag"][0] == fault.OK and -260 < r["sag"][1] < -180


def test_mild_suction_is_not_disconnected_but_a_dead_lead_is():
    w, s = S.mpx_rig("rp2", pressure=0.0)
    S.run(w, s, 1)
    s.zero()
    w.set_pressure(0, -2.5)  # margin 120 mV = 2.7 cmH2O below the zero offset
    assert S.run(w, s, 1)[-1][1] == fault.OK
    w.set_pressure(0, -4.0)
    assert S.run(w, s, 1)[-1][1] == fault.DISCONNECTED


def test_readings_at_the_adc_full_scale_are_over_range():
    w = S.new_world("esp32", pressure=40.0)  # 1.18 V at the pin
    v_mpx5010.MPX5010(w, 1, 0, div=(20000, 30000))
    adc = machine.ADC(1)  # default ATTN_0DB: the virtual ADC clips at 0.95 V like the chip
    assert 940000 <= adc.read_uv() <= 950000
    s = MPX5010(adc, div=(20000, 30000), vref_mv=950, uv=True, n=8)
    assert S.run(w, s, 1)[-1][1] == fault.OVER_RANGE


def test_without_divider_the_adc_top_is_over_range():
    w = S.new_world(pressure=80.0)
    v_mpx5010.MPX5010(w, 26, 0, div=(0, 1))  # 5 V part straight into a 3.3 V ADC
    s = MPX5010(machine.ADC(26))
    assert S.run(w, s, 1)[-1][1] == fault.OVER_RANGE
