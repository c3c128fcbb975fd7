"""Virtual Honeywell MPRLS0025PA00001A (I2C 0x18, 0-25 psi absolute).

Writing 0xAA 0x00 0x00 starts a conversion that takes 5 ms of virtual time; the status byte
reads 0x40 (powered) plus 0x20 while busy. Reads return the status and then the 24-bit output
of the last finished conversion, counts = 10 % + 80 % * P / Pmax of 2**24. Output outside
0..2**24-1 is clamped and flags math saturation (0x01).
Faults (target = ch): busy_forever (0x20 never clears), integrity_fail (0x04), saturate (0x01
and a clipped output), stuck (the output stops changing), nack / disconnect (no ACK).
"""
from bus import I2CSlave

_PA_PER_CMH2O = 98.0665
_PA_PER_PSI = 6894.757
_CONV_US = 5000


class MPRLS(I2CSlave):
    def __init__(self, world, ch=0, pmax_psi=25, noise=30):
        self.world = world
        self.ch = ch
        self.pmax = pmax_psi
        self.noise = noise
        self.rng = world.rng()
        self.counts = 0
        self.converting = False
        self.t_done = 0
        self.conversions = 0
        self.reads = 0
        self.sat = False
        self._key = None
        self._base = 0

    def counts_for(self, cmh2o, atm_pa):
        psi = (atm_pa + cmh2o * _PA_PER_CMH2O) / _PA_PER_PSI
        return int(1677721.6 + 13421772.8 * psi / self.pmax + 0.5)

    def i2c_write(self, buf):
        if len(buf) and buf[0] == 0xAA:
            self.converting = True
            self.t_done = self.world.now_us() + _CONV_US

    def _finish(self):
        w = self.world
        ch = self.ch
        self.converting = False
        self.conversions += 1
        if w.fault("stuck", ch) and self.conversions > 1:
            return
        p = w.pressure(ch)
        k = self._key
        if k is None or k[0] != p or k[1] != w.atm_pa:
            self._key = (p, w.atm_pa)
            self._base = self.counts_for(p, w.atm_pa)
        c = self._base + self.rng.noise(self.noise)
        sat = bool(w.fault("saturate", ch))
        if sat or c > 0xFFFFFF:
            c = 0xFFFFFF
            sat = True
        elif c < 0:
            c = 0
            sat = True
        self.counts = c
        self.sat = sat

    def i2c_read_into(self, buf):
        w = self.world
        self.reads += 1
        busy = self.converting and (w.fault("busy_forever", self.ch) or w.now_us() < self.t_done)
        if self.converting and not busy:
            self._finish()
        st = 0x40
        if busy:
            st |= 0x20
        if w.fault("integrity_fail", self.ch):
            st |= 0x04
        if self.sat:
            st |= 0x01
        n = len(buf)
        buf[0] = st
        c = self.counts
        if n > 1:
            buf[1] = (c >> 16) & 0xFF
        if n > 2:
            buf[2] = (c >> 8) & 0xFF
        if n > 3:
            buf[3] = c & 0xFF
        for i in range(4, n):
            buf[i] = 0
