"""Driver-against-virtual-device scenarios, written in the subset of Python that runs both on
CPython and inside the MicroPython VM. Each returns plain data (ints, strings, lists, dicts)
so the tests can assert on it and compare the CPython and VM runs.

Needs firmware/ and host_tools/vdev/ on sys.path.
"""
import bmp280 as v_bmp280
import hx710b as v_hx710b
import machine
import mprls as v_mprls
import mpx5010 as v_mpx5010
import world as W

from pacer_hw import fault
from pacer_hw.bmp280 import BMP280
from pacer_hw.button import Button
from pacer_hw.hx710b import HX710B
from pacer_hw.i2cbus import recover_bus
from pacer_hw.motor import Motor
from pacer_hw.mprls import MPRLS
from pacer_hw.mpx5010 import MPX5010

TICK = 20  # ms, the shell's 50 Hz control rate


def new_world(port="rp2", seed=1, pressure=0.0):
    w = W.World(port=port, seed=seed)
    w.set_pressure(0, pressure)
    machine.world = w
    return w


def step(w, drv, ms=TICK):
    w.advance_ms(ms)
    return drv.update(w.now_ms())


def run(w, drv, n, ms=TICK):
    """n ticks; returns [(t_ms, fault, fresh, cp)]."""
    out = []
    for _ in range(n):
        f = step(w, drv, ms)
        out.append((w.now_ms(), f, 1 if drv.fresh else 0, drv.cp))
    return out


def first(rows, code):
    """Index of the first tick that reported code, or -1."""
    for i in range(len(rows)):
        if rows[i][1] == code:
            return i
    return -1


# -- builders ------------------------------------------------------------------------------------


def mprls_rig(port="rp2", pressure=0.0):
    w = new_world(port, pressure=pressure)
    dev = w.bus(5, 4).attach(0x18, v_mprls.MPRLS(w, 0))
    i2c = machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(4))
    return w, dev, MPRLS(i2c)


def hx_rig(rate=40, pressure=0.0, offset=0):
    w = new_world(pressure=pressure)
    dev = v_hx710b.HX710B(w, 2, 3, 0, offset=offset)
    drv = HX710B(machine.Pin(2, machine.Pin.OUT), machine.Pin(3, machine.Pin.IN), rate=rate)
    return w, dev, drv


def mpx_rig(port="rp2", pressure=0.0, atten=3):
    w = new_world(port, pressure=pressure)
    if port == "rp2":
        v_mpx5010.MPX5010(w, 26, 0, div=(10000, 20000))
        return w, MPX5010(machine.ADC(26), div=(10000, 20000))
    v_mpx5010.MPX5010(w, 1, 0, div=(20000, 30000))
    adc = machine.ADC(1, atten=atten)
    return w, MPX5010(adc, div=(20000, 30000), vref_mv=3100, uv=True, n=8)


def bmp_rig(pressure=0.0, **kw):
    w = new_world("esp32", pressure=pressure)
    dev = w.bus(22, 21).attach(0x76, v_bmp280.BMP280(w, 0, **kw))
    return w, dev, BMP280(machine.I2C(0, scl=22, sda=21))


# -- scenarios -----------------------------------------------------------------------------------


def mprls_track():
    w, dev, s = mprls_rig(pressure=5.0)
    rows = run(w, s, 3)
    s.zero()
    cps = []
    for p in (0.0, 10.0, 35.1, 80.0, -3.0):
        w.set_pressure(0, p + 5.0)
        rows = run(w, s, 2)
        cps.append(rows[-1][3])
    return {"cps": cps, "reads": dev.reads, "conversions": dev.conversions,
            "tx": w.bus(5, 4).transactions, "fault": s.fault}


def mprls_busy_timeout():
    w, dev, s = mprls_rig()
    run(w, s, 3)
    reads0 = dev.reads
    w.set_fault("busy_forever", True, 0)
    rows = run(w, s, 14)
    i = first(rows, fault.BUSY_TIMEOUT)
    polls = dev.reads - reads0
    w.clear_fault("busy_forever", 0)
    after = run(w, s, 3)
    return {"first": i, "polls_by_then": i + 1, "all_polls": polls,
            "during": [r[1] for r in rows], "after": [r[1] for r in after]}


def mprls_status_faults():
    out = {}
    for name in ("integrity_fail", "saturate", "stuck"):
        w, _dev, s = mprls_rig(pressure=3.0)
        run(w, s, 3)
        w.set_fault(name, True, 0)
        rows = run(w, s, 160)
        out[name] = [first(rows, fault.INTEGRITY), first(rows, fault.OVER_RANGE),
                     first(rows, fault.STUCK)]
        w.clear_fault(name, 0)
        out[name + "_after"] = run(w, s, 3)[-1][1]
    return out


def mprls_nack(port="rp2"):
    w, _dev, s = mprls_rig(port)
    run(w, s, 3)
    w.set_fault("nack", True, 0)
    rows = run(w, s, 5)
    errno = s.errno
    w.clear_fault("nack", 0)
    after = run(w, s, 3)
    # one transient glitch: a single stale tick, no fault
    w.set_fault("bus_error", 1)
    glitch = run(w, s, 3)
    return {"during": [r[1] for r in rows], "fresh": [r[2] for r in rows], "errno": errno,
            "after": [r[1] for r in after], "glitch": [r[1] for r in glitch],
            "glitch_fresh": [r[2] for r in glitch]}


def mprls_bus_held_low(clocks=9):
    w, _dev, s = mprls_rig()
    run(w, s, 3)
    w.set_fault("bus_held_low", clocks)
    rows = run(w, s, 4)
    errno = s.errno
    # the shell's recovery: plain pins on the bus lines, clock it free, rebuild the I2C object
    ok = recover_bus(machine.Pin(5), machine.Pin(4))
    s._i2c = machine.I2C(0, scl=machine.Pin(5), sda=machine.Pin(4))
    after = run(w, s, 3)
    return {"during": [r[1] for r in rows], "errno": errno, "released": 1 if ok else 0,
            "after": [r[1] for r in after], "held": 1 if w.fault("bus_held_low") else 0}


def hx_track(rate=40):
    w, dev, s = hx_rig(rate, pressure=12.0, offset=-250000)
    rows = run(w, s, 50)  # 1 s at 50 Hz
    n1 = 0
    for r in rows[25:]:
        n1 += r[2]
    s.zero()
    w.set_pressure(0, 42.0)
    rows = run(w, s, 10)
    return {"first_ok": first(rows, fault.OK), "fresh_per_half_s": n1, "mode": dev.mode,
            "cp": rows[-1][3], "value": s.value, "irq": w.irq_disabled,
            "sck": w.pin_owner[2].sck_level}


def hx_timeouts(rate=40, name="hx_never_ready"):
    """How long after its last sample the driver declares NOT_READY, and whether it recovers."""
    w, _dev, s = hx_rig(rate, pressure=5.0)
    before = run(w, s, 30)
    w.set_fault(name, True, 0)
    rows = run(w, s, 400, 1)  # 1 ms steps to see exactly when it gives up
    t_ok = -1
    for r in before:
        if r[2]:
            t_ok = r[0]
    gap = -1
    for t, f, fresh, _cp in rows:
        if fresh:
            t_ok = t
        if f == fault.NOT_READY:
            gap = t - t_ok
            break
    w.clear_fault(name, 0)
    after = run(w, s, 15)
    return {"gap": gap, "after": after[-1][1]}


def hx_range_faults():
    out = {}
    for name in ("saturate", "stuck"):
        w, _dev, s = hx_rig(40, pressure=5.0)
        run(w, s, 10)
        w.set_fault(name, True, 0)
        rows = run(w, s, 200)
        out[name] = [first(rows, fault.OVER_RANGE), first(rows, fault.STUCK)]
    w, _dev, s = hx_rig(40, pressure=-30.0)
    rows = run(w, s, 10)
    out["negative_raw"] = s.raw
    return out


def mpx_track(port="rp2"):
    w, s = mpx_rig(port)
    run(w, s, 2)
    s.zero()
    cps = []
    for p in (0.0, 5.0, 20.0, 50.0, 90.0, -2.0):
        w.set_pressure(0, p)
        cps.append(run(w, s, 1)[-1][3])
    return {"cps": cps, "fault": s.fault}


def mpx_faults(port="rp2"):
    w, s = mpx_rig(port, pressure=10.0)
    out = {}
    run(w, s, 2)
    s.zero()
    for name in ("disconnect", "saturate", "stuck"):
        w.set_fault(name, True, 0)
        rows = run(w, s, 160)
        out[name] = [first(rows, fault.DISCONNECTED), first(rows, fault.OVER_RANGE),
                     first(rows, fault.STUCK)]
        w.clear_fault(name, 0)
        out[name + "_after"] = run(w, s, 1)[-1][1]
    w.set_pressure(0, 110.0)  # 110 cmH2O: above the 4.7 V full-scale output
    out["over"] = run(w, s, 1)[-1][1]
    w.set_pressure(0, 10.0)
    w.set_fault("supply_sag", 0.85)
    out["sag"] = [run(w, s, 1)[-1][1], s.cp]
    return out


def bmp_track():
    w, _dev, s = bmp_rig(pressure=2.0)
    rows = run(w, s, 3)
    s.zero()
    cps = []
    for p in (2.0, 12.0, 52.0, 87.0):
        w.set_pressure(0, p)
        cps.append(run(w, s, 2)[-1][3])
    w.set_pressure(0, 95.0)  # 101325 + 9316 Pa > 110000: the top of the BMP280's range
    over = run(w, s, 2)[-1][1]
    return {"first": [r[1] for r in rows], "cps": cps, "over": over,
            "t100": (s.t_fine * 5 + 128) >> 8}   # the datasheet's temperature from t_fine


def motor_cutoff(start=0):
    w = new_world()
    w.label("pwm14", "motor")
    m = Motor(machine.PWM(machine.Pin(14)), max_on_ms=2000)
    t = start
    cut_at = -1
    for i in range(200):
        m.set(30000 if i % 10 < 5 else 50000)  # a pulsing pattern the caller never stops
        if m.update(t & 0x3FFFFFFF) and cut_at < 0:
            cut_at = t - start
        t += TICK
    still = m.out
    m.set(0)
    m.update(t & 0x3FFFFFFF)
    m.set(40000)
    again = m.out
    return {"cut_at": cut_at, "out_while_asked": still, "again": again, "cuts": m.cuts}


def button_events(start=0):
    b = Button()
    ev = []
    t = [start]

    def feed(level, ms):
        for _ in range(ms // 10):
            e = b.update(t[0] & 0x3FFFFFFF, level)
            if e:
                ev.append((t[0] - start, e))
            t[0] += 10

    feed(1, 100)
    feed(0, 10)  # bounce
    feed(1, 10)
    feed(0, 10)
    feed(1, 200)
    feed(0, 300)  # short
    feed(1, 300)
    feed(0, 1000)  # ambiguous
    feed(1, 300)
    feed(0, 2000)  # long
    feed(1, 300)
    feed(0, 6000)  # very long, fires while held
    feed(1, 300)
    return ev


def alloc(name):
    """Bytes allocated by 50 steady-state reads (MicroPython only: gc.mem_alloc)."""
    import gc

    if name == "mprls":
        w, _dev, s = mprls_rig(pressure=20.0)
    elif name == "hx710b":
        w, _dev, s = hx_rig(40, pressure=20.0)
    elif name == "mpx5010":
        w, s = mpx_rig("rp2", pressure=20.0)
    elif name == "mpx5010_esp32":
        w, s = mpx_rig("esp32", pressure=20.0)
    else:
        w, _dev, s = bmp_rig(pressure=20.0)
    run(w, s, 5)  # warm-up: auto-zero, first conversions, device caches
    fresh = 0
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(50):
        w.advance_ms(TICK)
        s.update(w.now_ms())
        fresh += 1 if s.fresh else 0
    b = gc.mem_alloc()
    gc.enable()
    return {"bytes": b - a, "fresh": fresh, "fault": s.fault}


def alloc_outputs():
    """Bytes allocated by 50 steady-state calls of each output's per-tick method (VM only)."""
    import gc

    import neopixel
    import ssd1306 as v_ssd1306

    from pacer_hw.led import Led
    from pacer_hw.pixel import Pixel
    from pacer_hw.screen import SSD1306 as Oled
    from pacer_hw.screen import Screen

    w = new_world()
    m = Motor(machine.PWM(machine.Pin(14)), max_on_ms=100000)
    led = Led(machine.PWM(machine.Pin(25)))
    px = Pixel(neopixel.NeoPixel(machine.Pin(16), 1))
    b = Button()
    w.bus(5, 4).attach(0x3C, v_ssd1306.SSD1306(w))
    sc = Screen(Oled(machine.I2C(0, scl=5, sda=4)))
    m.set(40000)
    led.duty(30000)
    px.set(0x00FF00)
    out = {}

    def motor(t):
        m.set(40000)
        m.update(t)

    def screen(t):
        sc.draw(2500, 4000, 10000, "SQUEEZE", 7, 3, 10)

    calls = (
        ("motor", motor),
        ("led", lambda t: led.duty(30000)),
        ("pixel", lambda t: px.set(0x00FF00)),
        ("button", lambda t: b.update(t, 1)),
        ("screen", screen),
    )
    for name, fn in calls:
        fn(0)
        fn(20)
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        for i in range(50):
            fn(40 + i * 20)
        out[name] = gc.mem_alloc() - a
        gc.enable()
    return out


def screen_bytes():
    """The exercise screen's frame buffer as hex (compares CPython's framebuf stand-in with
    MicroPython's)."""
    import ssd1306 as v_ssd1306

    from pacer_hw.screen import SSD1306 as Oled
    from pacer_hw.screen import Screen

    w = new_world()
    w.bus(5, 4).attach(0x3C, v_ssd1306.SSD1306(w))
    d = Oled(machine.I2C(0, scl=5, sda=4))
    sc = Screen(d)
    sc.draw(6100, 4000, 10000, "Hold ~{|}", 12, 7, 10, "abc XYZ 09 !?")
    import binascii

    return binascii.hexlify(d._buf).decode()


def import_cost():
    """Heap bytes to import every pacer_hw module (VM only)."""
    import gc

    gc.collect()
    a = gc.mem_alloc()
    import pacer_hw.bmp280
    import pacer_hw.button
    import pacer_hw.buzzer
    import pacer_hw.fault
    import pacer_hw.hx710b
    import pacer_hw.i2cbus
    import pacer_hw.led
    import pacer_hw.motor
    import pacer_hw.mprls
    import pacer_hw.mpx5010
    import pacer_hw.pixel
    import pacer_hw.profiles
    import pacer_hw.screen
    import pacer_hw.sensor  # noqa: F401

    gc.collect()
    return gc.mem_alloc() - a
