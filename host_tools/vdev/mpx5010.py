"""Virtual NXP MPX5010 analog gauge sensor feeding an ADC pin through a divider.

Vout = Vs * (0.09 * P_kPa + 0.04) (datasheet transfer function), ratiometric to the supply, so
supply_sag scales the whole output. The output swings no further than the rails allow: it
clips at about Vs - 0.15 V (4.85 V at 5 V), which is also where `saturate` pins it. With the
sensor unplugged the divider's bottom resistor pulls the pin to 0 V (`disconnect`). `stuck`
freezes the last output. Pressure below zero gauge (suction) gives less than the offset,
down to 0 V.

Float maths only runs when the pressure (or a fault) changes, so a steady reading costs no
allocation inside the MicroPython VM; the ADC adds the noise.
"""

_KPA_PER_CMH2O = 1.0 / 10.19716


class MPX5010:
    def __init__(self, world, pin, ch=0, vs_mv=5000, div=(10000, 20000), offset_mv=None, gain=1.0):
        self.world = world
        self.ch = ch
        self.vs_mv = vs_mv
        top, bot = div
        self.ratio = bot / (top + bot)
        # Offset at nominal supply (datasheet: 0.088..0.313 V, typ 0.2 V at 5 V).
        self.offset_mv = vs_mv * 0.04 if offset_mv is None else offset_mv
        self.gain = gain  # part-to-part sensitivity spread
        self._key = None
        self._uv = 0
        world.attach_adc(pin, self)

    def vout_mv(self, cmh2o, sag=1.0, disconnected=False, saturated=False):
        vs = self.vs_mv * sag
        if disconnected:
            return 0.0
        top = vs - 150.0
        if saturated:
            return top
        v = vs * 0.09 * cmh2o * _KPA_PER_CMH2O * self.gain + self.offset_mv * sag
        return 0.0 if v < 0.0 else min(v, top)

    def pin_uv(self):
        w = self.world
        ch = self.ch
        if w.fault("stuck", ch) and self._key is not None:
            return self._uv
        p = w.pressure(ch)
        sag = w.fault("supply_sag", ch)
        disc = w.fault("disconnect", ch)
        sat = w.fault("saturate", ch)
        k = self._key
        if k is None or k[0] != p or k[1] != sag or k[2] != disc or k[3] != sat:
            self._key = (p, sag, disc, sat)
            mv = self.vout_mv(p, sag if sag else 1.0, disc, sat)
            self._uv = int(mv * self.ratio * 1000.0)
        return self._uv
