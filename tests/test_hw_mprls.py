"""MPRLS driver against the virtual MPRLS: conversion pacing, every status fault, bus faults."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import machine

import hw_scenarios as S
from pacer_hw import fault
from pacer_hw.i2cbus import recover_bus


def test_tracks_gauge_pressure_after_zeroing():
    r = S.mprls_track()
    assert r["fault"] == fault.OK
    for got, want in zip(r["cps"], [0, 1000, 3510, 8000, -300]):
        assert abs(got - want) <= 3, r["cps"]


def test_first_valid_sample_is_the_atmospheric_reference():
    w, _dev, s = S.mprls_rig(pressure=0.0)
    w.atm_pa = 84000  # ~1600 m altitude: no fixed sea-level assumption
    S.run(w, s, 3)
    assert s.fault == fault.OK and abs(s.cp) <= 3
    w.set_pressure(0, 20.0)
    S.run(w, s, 2)
    assert abs(s.cp - 2000) <= 3


def test_start_then_read_pipeline_never_reads_before_5_ms():
    w, dev, s = S.mprls_rig(pressure=10.0)
    s.update(w.now_ms())  # starts a conversion
    assert dev.converting and dev.reads == 0 and not s.fresh
    w.advance_ms(4)
    s.update(w.now_ms())
    assert dev.reads == 0  # still inside the 5 ms conversion time
    w.advance_ms(1)
    s.update(w.now_ms())
    assert dev.reads == 1 and s.fresh and dev.converting  # read, and the next one started
    # steady state at 50 Hz: one read + one start per tick, every tick fresh
    rows = S.run(w, s, 20)
    assert all(r[2] for r in rows)
    assert w.bus(5, 4).transactions == 1 + 2 + 2 * 20


def test_busy_forever_gives_busy_timeout_after_ten_polls_then_recovers():
    r = S.mprls_busy_timeout()
    assert r["first"] == 9 and r["polls_by_then"] == 10
    assert r["during"][:9] == [fault.OK] * 9  # not a fault yet, only stale ticks
    assert r["after"][-1] == fault.OK


def test_integrity_saturation_and_stuck():
    r = S.mprls_status_faults()
    assert r["integrity_fail"][0] == 0
    assert r["saturate"][1] == 0
    assert r["stuck"][2] == 149  # 150 repeats of the same code at 50 Hz: 3 s
    assert r["integrity_fail_after"] == r["saturate_after"] == r["stuck_after"] == fault.OK


def test_nack_is_bus_error_after_bounded_retries_with_port_errno():
    for port, errno in (("rp2", 5), ("esp32", 19)):
        r = S.mprls_nack(port)
        assert r["during"] == [0, 0, fault.BUS_ERROR, fault.BUS_ERROR, fault.BUS_ERROR]
        assert r["fresh"] == [0] * 5
        assert r["errno"] == errno
        assert r["after"][-1] == fault.OK
        # a single failed transaction costs one stale tick and is not reported as a fault
        assert r["glitch"] == [0, 0, 0] and 0 in r["glitch_fresh"]


def test_bus_held_low_recovered_by_clocking_out():
    r = S.mprls_bus_held_low(9)
    assert r["during"][-1] == fault.BUS_ERROR and r["errno"] == 110
    assert r["released"] == 1 and r["held"] == 0
    assert r["after"][-1] == fault.OK


def test_shorted_bus_stays_faulted_and_recovery_reports_it():
    r = S.mprls_bus_held_low(-1)
    assert r["released"] == 0 and r["held"] == 1
    assert r["after"] == [fault.BUS_ERROR] * 3


def test_recover_bus_stops_as_soon_as_sda_is_released():
    w = S.new_world()
    w.bus(5, 4)
    w.set_fault("bus_held_low", 3)
    scl, sda = machine.Pin(5), machine.Pin(4)
    assert sda.value() == 0
    assert recover_bus(scl, sda)
    assert sda.value() == 1 and scl.value() == 1


def test_garbage_status_byte_counts_as_bus_error():
    w, dev, s = S.mprls_rig()
    S.run(w, s, 3)

    def garbage(buf):
        buf[0] = 0xFF

    dev.i2c_read_into = garbage
    rows = S.run(w, s, 8)
    assert rows[-1][1] == fault.BUS_ERROR
