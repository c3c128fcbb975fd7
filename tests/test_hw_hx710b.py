"""HX710B driver against the virtual HX710B: bit-banged protocol, rate selection, timeouts."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import pytest

import hw_scenarios as S
from pacer_hw import fault


@pytest.mark.parametrize("rate,mode,per_half_s", [(40, 27, 20), (10, 25, 5)])
def test_reads_track_pressure_at_the_selected_rate(rate, mode, per_half_s):
    r = S.hx_track(rate)
    assert r["mode"] == mode  # 27 extra-pulse count = differential 40 Hz, 25 = 10 Hz
    assert r["fresh_per_half_s"] == per_half_s  # polled at 50 Hz, never faster than the chip
    assert abs(r["cp"] - 3000) <= 3
    assert r["irq"] == 0 and r["sck"] == 0  # interrupts re-enabled, SCK left low


def test_twos_complement_negative_codes():
    r = S.hx_range_faults()
    assert r["negative_raw"] == pytest.approx(-30 * 79000, abs=1000)


@pytest.mark.parametrize("rate,gap", [(40, 63), (10, 251)])
@pytest.mark.parametrize("name", ["hx_never_ready", "disconnect"])
def test_no_data_becomes_not_ready_after_two_and_a_half_periods(rate, gap, name):
    r = S.hx_timeouts(rate, name)
    assert r["gap"] == gap  # 2.5 sample periods (62 / 250 ms), then the tick after
    assert r["after"] == fault.OK


def test_update_never_waits_for_the_chip():
    w, dev, s = S.hx_rig(40)
    w.set_fault("hx_never_ready", True, 0)
    t0 = w.now_us()
    for _ in range(100):
        s.update(w.now_ms())
    assert w.now_us() == t0  # nothing in the driver sleeps or spins on the virtual clock
    assert dev.reads == 0


def test_saturation_and_stuck():
    r = S.hx_range_faults()
    assert r["saturate"][0] == 1  # the next 40 Hz sample after the fault
    assert r["stuck"][1] > 0  # 3 s of identical codes at 40 Hz


def test_vdev_power_down_when_sck_stays_high():
    w, dev, s = S.hx_rig(40)
    S.run(w, s, 10)
    assert dev.mode == 27
    import machine

    sck = machine.Pin(2)
    sck.value(1)
    w.advance_us(80)
    sck.value(0)
    assert dev.power_downs == 1 and dev.mode == 25
