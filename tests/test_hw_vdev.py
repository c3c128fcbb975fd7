"""The virtual world and virtual `machine` module: clock, faults, recorder, port behaviour."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import bus
import machine
import mprls as v_mprls
import pytest
import world as W

import hw_scenarios as S


def test_clock_internal_and_external():
    w = W.World()
    w.advance_ms(1500)
    assert w.now_ms() == 1500 and w.now_us() == 1500000
    t = [7000]
    w.set_clock(lambda: t[0])
    assert w.now_ms() == 7
    with pytest.raises(RuntimeError):
        w.advance_ms(1)


def test_pressure_sources_and_rng_determinism():
    w = W.World()
    w.set_pressure(1, lambda t: t / 100.0)
    w.advance_ms(250)
    assert w.pressure(1) == 2.5 and w.pressure(0) == 0 and w.pressure(5) == 0
    a, b = W.World(seed=3).rng(), W.World(seed=3).rng()
    xs = [a.noise(50) for _ in range(1000)]
    assert xs == [b.noise(50) for _ in range(1000)]
    assert min(xs) >= -50 and max(xs) <= 50 and abs(sum(xs)) < 1500
    assert len(set(xs)) > 60


def test_fault_targets_and_countdown():
    w = W.World()
    w.set_fault("stuck", True)
    w.set_fault("stuck", 0.5, 1)
    assert w.fault("stuck", 0) is True and w.fault("stuck", 1) == 0.5
    w.set_fault("stuck", False)
    assert w.fault("stuck", 0) == 0 and w.fault("stuck", 1) == 0.5
    w.clear_fault()
    assert w.faults == {}


def test_recorder_bounds_labels_and_sink():
    w = W.World()
    w.max_log = 10
    w.label("pwm14", "motor")
    for i in range(25):
        w.record(i, "pwm14", i)
    assert w.current("motor") == 24 and len(w.log) <= 10 and w.dropped >= 15
    assert w.log[-1] == (24, "motor", 24)
    got = []
    w.sink = lambda t, c, v: got.append((t, c, v))
    w.record(99, "x", 1)
    assert got == [(99, "x", 1)] and w.log[-1][0] == 24


def test_watchdog_and_resets():
    w = S.new_world()
    assert machine.reset_cause() == machine.PWRON_RESET
    with pytest.raises(ValueError):
        machine.WDT(timeout=9000)  # RP2040 maximum is 8388 ms
    w.chip = "rp2350"
    machine.WDT(timeout=9000)
    wdt = machine.WDT(timeout=1000)
    w.advance_ms(900)
    wdt.feed()
    w.advance_ms(900)
    assert not w.check_watchdog()
    w.advance_ms(200)
    assert w.check_watchdog() and w.boot_cause == machine.WDT_RESET
    with pytest.raises(machine.ResetRequested) as e:
        try:
            machine.reset()
        except Exception:  # noqa: BLE001  firmware's broad handlers must not swallow a reset
            pytest.fail("reset caught by except Exception")
    assert e.value.kind == "hard" and machine.reset_cause() == machine.HARD_RESET
    with pytest.raises(machine.ResetRequested):
        machine.soft_reset()
    assert machine.reset_cause() == machine.SOFT_RESET
    w.reboot()
    assert w.wdt_timeout == 0


def test_timer_and_misc():
    w = S.new_world()
    hits = []
    machine.Timer(period=100, callback=lambda t: hits.append(w.now_ms()))
    one = machine.Timer(mode=machine.Timer.ONE_SHOT, period=250, callback=lambda t: hits.append(-1))
    for _ in range(30):
        w.advance_ms(10)
        w.run_timers()
    assert hits == [100, 200, -1, 300]
    assert one not in w.timers
    assert len(machine.unique_id()) == 8 and machine.freq() == 125000000
    st = machine.disable_irq()
    machine.enable_irq(st)
    assert w.irq_disabled == 0
    machine.lightsleep(50)
    assert w.now_ms() == 350


def test_i2c_errno_per_port_and_scan():
    for port, hw, soft in (("rp2", 5, 19), ("esp32", 19, 19)):
        w = S.new_world(port)
        w.bus(5, 4).attach(0x18, v_mprls.MPRLS(w, 0))
        i2c = machine.I2C(0, scl=5, sda=4)
        assert i2c.scan() == [0x18]
        soft_i2c = machine.SoftI2C(scl=machine.Pin(5), sda=machine.Pin(4))
        for obj, errno in ((i2c, hw), (soft_i2c, soft)):
            with pytest.raises(OSError) as e:
                obj.writeto(0x42, b"\x00")
            assert e.value.args[0] == errno
        w.set_fault("bus_held_low", -1)
        with pytest.raises(OSError) as e:
            i2c.readfrom(0x18, 4)
        assert e.value.args[0] == bus.ETIMEDOUT and i2c.scan() == []
        assert machine.Pin(4).value() == 0  # SDA held low is visible on the pin


def test_i2c_default_pins_reach_the_same_bus():
    w = S.new_world()
    w.bus(9, 8).attach(0x18, v_mprls.MPRLS(w, 0))
    assert machine.I2C(0).scan() == [0x18]  # rp2 I2C0 defaults: SCL GP9, SDA GP8


def test_pwm_slice_shares_frequency_on_rp2_only():
    for port, shared in (("rp2", True), ("esp32", False)):
        S.new_world(port)
        a, b = machine.PWM(machine.Pin(14)), machine.PWM(machine.Pin(15))
        a.freq(20000)
        b.freq(1000)
        assert (a.freq() == 1000) == shared
        b.duty_u16(32768)
        assert abs(b.duty_ns() - 500000) < 20
        with pytest.raises(ValueError):
            b.duty_u16(70000)


def test_adc_port_differences():
    S.new_world("rp2")
    with pytest.raises(AttributeError):
        machine.ADC(26).read_uv()
    assert machine.ADC(27).read_u16() in (0, 16, 32, 48)  # floating input: noise near 0
    S.new_world("esp32")
    assert machine.ADC(33, atten=machine.ADC.ATTN_11DB).read_uv() < 3000


def test_pin_inputs_pulls_and_irq():
    w = S.new_world()
    p = machine.Pin(20, machine.Pin.IN, machine.Pin.PULL_UP)
    assert p.value() == 1
    seen = []
    p.irq(lambda pin: seen.append(pin.value()), machine.Pin.IRQ_FALLING)
    w.set_input(20, 0)
    w.set_input(20, 1)
    assert seen == [0] and p() == 1
    w.set_input(20, lambda t: t < 100)
    assert p.value() == 1
    o = machine.Pin("GP7", machine.Pin.OUT)
    o.on()
    o.toggle()
    assert o.id == 7 and [v for _, v in w.history("pin7")] == [1, 0]

