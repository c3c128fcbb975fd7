# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false, reportOptionalMemberAccess=false
"""The emulated RP2040's surroundings (host_tools/vboard/rp2040/world.mjs), in the wasm VM of
the chip process: the same vdev World and wiring as the wasm virtual board (vb_wiring.build:
the profile's MPX5010 channels, the supply divider, the persona watching the outputs), asked
by the chip's peripherals instead of by a virtual `machine` module.

build(cfg_json) once per power-on; then adc_code(pin) for every ADC conversion (the 12-bit
code, with the same 2-LSB noise as the vdev ADC), output(channel, value) when the firmware
changes a PWM duty or an output pin, input_level(pin) for a driven input (None: undriven).
"""
import json

import analog
import vb_wiring

_w = None
_rng = {}


def build(cfg_json):
    global _w
    _w = vb_wiring.build(json.loads(cfg_json))


def adc_code(pin):
    dev = _w.adc.get(pin)
    uv = dev.pin_uv() if dev is not None else 0
    rng = _rng.get(pin)
    if rng is None:
        rng = _rng[pin] = _w.rng()
    return analog.rp2_code(uv, rng.noise(2))


def output(channel, value):
    if channel.endswith(".hz"):  # "pwm14.hz" is "motor.hz" once pwm14 is labelled "motor"
        base = channel[:-3]
        channel = _w.labels.get(base, base) + ".hz"
    _w.record(_w.now_ms(), channel, value)


def input_level(pin):
    return _w.input_level(pin)
