"""Board profiles: the single source of truth for what is wired where.

get(name) builds a fresh dict for one board, so only the board in use costs RAM. Keys:

  name, chip, port ("rp2" | "esp32"), arch (mpy-cross -march), flash_mb, wdt_max_ms
  pressure    dict: {"type": "mpx5010" | "hx710b" | "mprls" | "bmp280", ...pins and parameters}
  abdominal   same shape, or None (second sensor watching the abdomen, Perifit-style)
  led         PWM-capable GPIO for the status LED, or None
  pixel       GPIO of a WS2812 status pixel, or None
  motor       PWM GPIO driving the vibration motor transistor (gate/base)
  button      GPIO of the push button, to GND, internal pull-up
  buzzer      PWM GPIO for a piezo, or None
  oled        {"i2c", "sda", "scl", "addr", "freq"} for an SSD1306 128x64, or None
  adc         {"method": "read_u16" | "read_uv", "full_mv" (full scale at the pin, the
              drivers' vref_mv), "atten" (name of the machine.ADC constant to set)}
  vsense      {"pin", "mult"}: supply/battery sense (volts at pin * mult), or None

Sensor dicts: mpx5010 {"pin", "div": (top_ohm, bottom_ohm), "vs_mv", "n": ADC reads averaged per
sample}; hx710b {"sck", "dout", "rate", "counts_per_cmh2o"}; mprls and bmp280 {"i2c", "sda",
"scl", "addr", "freq"}. Wiring-sheet notes live in tools/hardware.py.

Pin choices, and why:
- Pico family: ADC only on GP26-28 (GP29 is VSYS/3 on Pico and Pico 2, the radio clock on
  Pico W). Outputs sit on different PWM slices ((gpio >> 1) & 7) because the two channels of a
  slice share one frequency: motor 20 kHz, LED 1 kHz, buzzer variable. I2C0 on GP4/GP5.
  Pico W's LED hangs off the radio chip (not PWM-capable), so an external LED is used.
  RP2350 A2 erratum E9 (pad latching with pull-downs) is why every input here uses pull-ups.
- MPX5010 oversampling: 8 reads for the pelvic channel (RP2040 ADC noise ~0.3 cmH2O per read ->
  ~0.1 after averaging, the engine's smoothing does the rest), 4 for the abdominal channel, which
  only has to see bearing down. 16 + 16 reads were 32 of the 34 machine calls in a tick.
- ESP32: ADC1 (GPIO32-39) only, ADC2 is unusable while WiFi runs; no outputs on strapping
  pins 0, 2, 5, 12, 15 or flash pins 6-11; GPIO34-39 are input-only without pull-ups.
- ESP32-S3: ADC1 is GPIO1-10; strapping pins 0, 3, 45, 46, USB 19/20, UART0 43/44 and
  octal-PSRAM 35-37 avoided. The DevKitC-1 v1.0 pixel is GPIO48 (v1.1 moved it to GPIO38).

The MPX5010 is a 5 V part with outputs up to 4.7 V: the divider keeps the ADC pin below its
range (Pico 10k/20k: 4.7 V -> 3.13 V < 3.3 V; S3 20k/30k: -> 2.82 V, inside the 11 dB range).
"""

NAMES = ("pico", "pico_w", "pico2", "esp32", "esp32s3")

_RP2_ADC = {
    "method": "read_u16",
    "full_mv": 3300,
    "atten": None,
}


def _pico_family(name, chip, arch, flash_mb, wdt_max_ms):
    return {
        "name": name,
        "chip": chip,
        "port": "rp2",
        "arch": arch,
        "flash_mb": flash_mb,
        "wdt_max_ms": wdt_max_ms,
        "pressure": {"type": "mpx5010", "pin": 26, "div": (10000, 20000), "vs_mv": 5000, "n": 8},
        "abdominal": {"type": "mpx5010", "pin": 27, "div": (10000, 20000), "vs_mv": 5000,
                      "n": 4},
        "led": 25,
        "pixel": None,
        "motor": 14,
        "button": 20,
        "buzzer": 13,
        "oled": {"i2c": 0, "sda": 4, "scl": 5, "addr": 0x3C, "freq": 400000},
        "adc": dict(_RP2_ADC),
        "vsense": {"pin": 29, "mult": 3},
    }


def _pico():
    return _pico_family("pico", "rp2040", "armv6m", 2, 8388)


def _pico_w():
    p = _pico_family("pico_w", "rp2040", "armv6m", 2, 8388)
    p["pressure"] = {"type": "mprls", "i2c": 0, "sda": 4, "scl": 5, "addr": 0x18, "freq": 400000}
    # The MPRLS address is fixed, so the second one needs the other bus.
    p["abdominal"] = {"type": "mprls", "i2c": 1, "sda": 6, "scl": 7, "addr": 0x18, "freq": 400000}
    p["led"] = 16
    p["vsense"] = None
    return p


def _pico2():
    p = _pico_family("pico2", "rp2350", "armv7m", 4, 16777)
    p["pressure"] = {"type": "hx710b", "sck": 2, "dout": 3, "rate": 40,
                     "counts_per_cmh2o": 79000}
    p["abdominal"] = {"type": "hx710b", "sck": 10, "dout": 11, "rate": 40,
                      "counts_per_cmh2o": 79000}
    p["pixel"] = 16
    return p


def _esp32():
    return {
        "name": "esp32",
        "chip": "esp32",
        "port": "esp32",
        "arch": "xtensawin",
        "flash_mb": 4,
        "wdt_max_ms": 60000,
        "pressure": {"type": "bmp280", "i2c": 0, "sda": 21, "scl": 22, "addr": 0x76,
                     "freq": 400000},
        "abdominal": {"type": "bmp280", "i2c": 0, "sda": 21, "scl": 22, "addr": 0x77,
                      "freq": 400000},
        "led": 25,
        "pixel": None,
        "motor": 26,
        "button": 33,
        "buzzer": 27,
        "oled": {"i2c": 0, "sda": 21, "scl": 22, "addr": 0x3C, "freq": 400000},
        "adc": {
            "method": "read_uv",
            "full_mv": 3100,
            "atten": "ATTN_11DB",
        },
        "vsense": {"pin": 35, "mult": 2},
    }


def _esp32s3():
    return {
        "name": "esp32s3",
        "chip": "esp32s3",
        "port": "esp32",
        "arch": "xtensawin",
        "flash_mb": 8,
        "wdt_max_ms": 60000,
        "pressure": {"type": "mpx5010", "pin": 1, "div": (20000, 30000), "vs_mv": 5000, "n": 8},
        "abdominal": {"type": "mpx5010", "pin": 2, "div": (20000, 30000), "vs_mv": 5000, "n": 4},
        "led": None,
        "pixel": 48,
        "motor": 15,
        "button": 14,
        "buzzer": 16,
        "oled": {"i2c": 0, "sda": 8, "scl": 9, "addr": 0x3C, "freq": 400000},
        "adc": {
            "method": "read_uv",
            "full_mv": 3100,
            "atten": "ATTN_11DB",
        },
        "vsense": {"pin": 7, "mult": 2},
    }


_BUILDERS = (_pico, _pico_w, _pico2, _esp32, _esp32s3)


def get(name):
    """A fresh profile dict for the board called name."""
    for i in range(len(NAMES)):
        if NAMES[i] == name:
            return _BUILDERS[i]()
    raise ValueError("unknown board profile {!r}; valid: {}".format(name, ", ".join(NAMES)))
