"""The MCU side of analog inputs: how a pin voltage becomes what machine.ADC returns.

rp2: 12-bit SAR against 3.3 V; read_u16 left-justifies the 12-bit code the way the port does
(code << 4 | code >> 8). esp32: read_uv returns factory-calibrated microvolts; modelled as a
12-bit code across the attenuation's span, converted back to uV (calibration is assumed
perfect, only quantisation and noise remain). Both add a few LSB of noise (RP2040's ADC has
an ENOB around 8.7-9 bits). Everything is integer maths so a read allocates nothing.

Analog devices (sensors, dividers) implement pin_uv() -> microvolts at the pin.
"""

# esp32 attenuation spans in uV: ATTN_0DB, ATTN_2_5DB, ATTN_6DB, ATTN_11DB
ESP32_SPAN_UV = (950000, 1250000, 1750000, 3100000)
RP2_VREF_UV = 3300000


def rp2_code(uv, noise):
    # uv * 4096 / 3.3e6 without leaving small-int range: 4096/16 and 3.3e6/16 are exact
    c = (uv * 256) // (RP2_VREF_UV // 16) + noise
    return 0 if c < 0 else min(c, 4095)


def rp2_u16(code):
    return (code << 4) | (code >> 8)


def esp32_step(atten):
    return ESP32_SPAN_UV[atten] // 4095


def esp32_code(uv, atten, noise):
    c = uv // esp32_step(atten) + noise
    return 0 if c < 0 else min(c, 4095)


class VSense:
    """A resistor divider from the supply (VSYS, battery) to an ADC pin: pin = vsys * sag / mult."""

    def __init__(self, world, pin, mult=3):
        self.world = world
        self.mult = mult
        world.attach_adc(pin, self)

    def pin_uv(self):
        w = self.world
        sag = w.fault("supply_sag")
        mv = w.vsys_mv * sag if sag else w.vsys_mv
        return int(mv * 1000) // self.mult
