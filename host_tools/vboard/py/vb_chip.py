# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false, reportOptionalMemberAccess=false
"""The emulated RP2040's surroundings (host_tools/vboard/rp2040/world.mjs), in the wasm VM of
the chip process: the same vdev World and wiring as the wasm virtual board (vb_wiring.build:
the profile's MPX5010 channels, the supply divider, the persona watching the outputs), asked
by the chip's peripherals instead of by a virtual `machine` module.

build(cfg_json) once per power-on; then adc_code(pin) for every ADC conversion (the 12-bit
code, with the same 2-LSB noise as the vdev ADC), output(channel, value) when the firmware
changes a PWM duty or an output pin, input_level(pin) for a driven input (None: undriven).

I2C: the chip clocks transactions byte by byte (rp2040/wires.mjs); they reach the same vdev devices
the wasm board's machine.I2C calls. i2c_buses() names the World's buses, then per transaction
i2c_start(bus, addr) is the address phase (1 = ACK: a device that is present, after the bus
faults VBus.device checks; 0 = NACK), i2c_write(bus, addr, hex) the bytes of a write at its
stop or repeated start, i2c_read(bus, addr, n) n bytes read ahead and i2c_unread(bus, addr, n)
the ones the chip did not clock out (see vdev/bus.py). Bytes cross as hex strings.
pixel(pin, hex): a WS2812 frame decoded from the pin's edges, recorded by the vdev NeoPixel
as the wasm board's neopixel.write() records it ("pixel<pin>", 0xRRGGBB).
"""
import binascii
import json

import analog
import neopixel
import vb_wiring
from bus import EIO

_w = None
_rng = {}
_buses = []
_pixels = {}


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


def i2c_buses():
    global _buses
    _buses = list(_w.buses.values())
    return ";".join("%d,%d" % (b.scl, b.sda) for b in _buses)


def i2c_start(bus, addr):
    try:
        _buses[bus].device(addr, EIO)
    except OSError:
        return 0
    return 1


def i2c_write(bus, addr, data):
    _buses[bus].devices[addr].i2c_write(binascii.unhexlify(data))


def i2c_read(bus, addr, n):
    buf = bytearray(n)
    _buses[bus].devices[addr].i2c_read_into(buf)
    return str(binascii.hexlify(buf), "ascii")


def i2c_unread(bus, addr, n):
    _buses[bus].devices[addr].i2c_read_unused(n)


def pixel(pin, data):
    raw = binascii.unhexlify(data)
    n = len(raw) // 3
    np = _pixels.get(pin)
    if np is None or np.n != n:
        np = _pixels[pin] = neopixel.NeoPixel(pin, n)
    np.buf[:] = raw[:3 * n]
    np.write()
