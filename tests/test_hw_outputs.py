"""Motor cut-off, LED gamma, pixel, buzzer and OLED screen, recorded by the virtual world."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split

import machine
import neopixel
import pytest
import ssd1306 as v_ssd1306

import hw_scenarios as S
from pacer_hw.buzzer import Buzzer
from pacer_hw.led import Led
from pacer_hw.motor import Motor
from pacer_hw.pixel import Pixel
from pacer_hw.screen import SSD1306, Screen

WRAP = 1 << 30  # MicroPython ticks period on 32-bit ports


@pytest.mark.parametrize("start", [0, WRAP - 1000])
def test_motor_cut_off_while_the_caller_keeps_asking(start):
    r = S.motor_cutoff(start)
    assert r["cut_at"] == 2000  # across the ticks wrap too
    assert r["out_while_asked"] == 0 and r["cuts"] == 1
    assert r["again"] == 40000  # an explicit 0 re-arms it


def _motor():
    w = S.new_world()
    w.label("pwm14", "motor")
    return w, Motor(machine.PWM(machine.Pin(14)), max_on_ms=2000)


def test_motor_cut_off_is_recorded_and_latched():
    w, m = _motor()
    for _ in range(150):
        m.set(65535)
        m.update(w.now_ms())
        w.advance_ms(20)
    h = w.history("motor")
    assert h[0] == (0, 65535)
    assert h[1][1] == 0 and 2000 <= h[1][0] <= 2020
    assert len(h) == 2 and m.cut  # stays off, no re-enable by later set() calls


def test_motor_short_pulses_never_cut():
    _w, m = _motor()
    t = 0
    for i in range(500):
        m.set(50000 if i % 50 < 40 else 0)  # 800 ms on / 200 ms off
        assert not m.update(t)
        t += 20
    assert m.cuts == 0


def test_motor_off_and_clamp():
    w, m = _motor()
    m.set(99999)
    assert m.out == 65535
    m.off()
    assert m.out == 0 and w.current("motor") == 0
    assert w.history("motor.hz") == [(0, 20000)]


def test_led_writes_only_on_change():
    w = S.new_world()
    w.label("pwm25", "led")
    led = Led(machine.PWM(machine.Pin(25)))
    for _ in range(10):
        led.duty(20000)
    led.duty(1000)
    led.off()
    assert [v for _, v in w.history("led")] == [20000, 1000, 0]
    inv = Led(machine.PWM(machine.Pin(15)), invert=True)
    inv.duty(1000)
    assert w.current("pwm15") == 64535


def test_pixel_brightness_and_write_on_change():
    w = S.new_world()
    np = neopixel.NeoPixel(machine.Pin(16), 1)
    px = Pixel(np, brightness=128)
    for _ in range(5):
        px.set(0xFF8000)
    assert np.writes == 2  # the initial off, then the colour once
    assert w.current("pixel16") == (128 << 16) | (64 << 8)
    assert np.buf[0] == 64 and np.buf[1] == 128  # GRB on the wire


def test_buzzer_tone_ends_by_itself():
    w = S.new_world()
    bz = Buzzer(machine.PWM(machine.Pin(13)))
    bz.tone(880, 1000, 150)
    bz.tone(880, 1000, 150)
    for t in range(1000, 1300, 20):
        bz.update(t)
    assert bz.hz == 0
    assert [v for _, v in w.history("pwm13")] == [32768, 0]
    assert [v for _, v in w.history("pwm13.hz")] == [880]


def _screen():
    w = S.new_world()
    oled = w.bus(5, 4).attach(0x3C, v_ssd1306.SSD1306(w))
    d = SSD1306(machine.I2C(0, scl=5, sda=4))
    return w, oled, d, Screen(d)


def test_virtual_oled_shows_exactly_the_framebuffer():
    w, oled, d, sc = _screen()
    assert oled.on and oled.charge_pump and oled.mode == 0
    sc.draw(2500, 4000, 10000, "SQUEEZE", 7, 3, 10)
    d.show()
    for y in range(64):
        for x in range(128):
            assert oled.pixel(x, y) == d.fb.pixel(x, y)
    assert oled.frames == 2 and w.history("oled")[-1][1] == 2
    rows = oled.rows()
    # bar fill 2500/10000 of 124 px from x=2; target 4000/10000 at x=51, drawn above, below
    # and through the bar
    assert rows[40][2:33] == "#" * 31 and rows[40][33] == "."
    assert rows[31][51] == rows[40][51] == rows[47][51] == "#"
    sc.draw(6000, 4000, 10000, "SQUEEZE", 7, 3, 10)  # past the target: line inverted in the fill
    d.show()
    rows = oled.rows()
    assert rows[40][50] == "#" and rows[40][51] == "." and rows[31][51] == "#"


def test_screen_numbers_drawn_digit_by_digit_match_the_text():
    # countdown and rep count are drawn from constant digit strings (no text is built):
    # the pixels are those of the whole text
    import framebuf
    _w, _oled, d, sc = _screen()
    for cd, rep, reps in ((5, 1, 10), (0, 0, 3), (123, 30, 30), (-1, 7, 0)):
        sc.draw(0, 0, 10000, "REST", cd, rep, reps)
        ref = framebuf.FrameBuffer(bytearray(128 * 8), 128, 64, framebuf.MONO_VLSB)
        ref.text("REST", 0, 0, 1)
        if cd >= 0:
            ref.text("%ds" % cd, 0, 16, 1)
        if reps > 0:
            t = "%d/%d" % (rep, reps)
            ref.text(t, 128 - 8 * len(t), 16, 1)
        for y in range(0, 30):
            for x in range(128):
                assert d.fb.pixel(x, y) == ref.pixel(x, y), (cd, rep, reps, x, y)


def test_vdev_ssd1306_page_mode_and_display_flags():
    _w, oled, d, _sc = _screen()
    i2c = machine.I2C(0, scl=5, sda=4)
    i2c.writeto(0x3C, bytes([0x00, 0x20, 0x02, 0xB3, 0x05, 0x12]))  # page mode, page 3, col 0x25
    i2c.writeto(0x3C, bytes([0x40, 0xFF, 0x81]))
    assert oled.ram[3 * 128 + 0x25] == 0xFF and oled.ram[3 * 128 + 0x26] == 0x81
    i2c.writeto(0x3C, bytes([0x80, 0xA7]))
    assert oled.inverted
    i2c.writeto(0x3C, bytes([0x80, 0xAE]))   # display off
    assert not oled.on and oled.lit() == 0
