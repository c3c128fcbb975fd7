"""A virtual I2C bus (two wires plus the slaves on them) and the slave base class.

Buses are identified by their pins, as on a real board: hardware I2C(0) and a SoftI2C on the
same two GPIOs reach the same devices. machine.I2C turns a transaction into calls on the slave
(i2c_write / i2c_read_into / i2c_mem_write / i2c_mem_read_into) after the bus-level checks:

  bus_held_low   every transaction raises OSError(ETIMEDOUT); SDA reads 0 on its pin. The
                 stuck slave lets go after n SCL pulses clocked through machine.Pin (n from the
                 fault value; True = 9, the worst case; -1 = shorted, never).
  bus_error      OSError(EIO), every transaction (True) or the next n transactions (int n).
  nack / disconnect (per device channel) or no device: OSError(EIO) from rp2 hardware I2C,
                 OSError(ENODEV) from esp32 hardware I2C and from SoftI2C, like the real ports.

A master that clocks bytes one at a time (the emulated RP2040's I2C, host_tools/vboard/rp2040)
does not know how long a read will be when its first byte is due: it reads ahead with
i2c_read_into and then calls i2c_read_unused(n) with the n bytes it never clocked out, so a
device that auto-increments (the BMP280's register pointer) ends where the real one would.
"""

ETIMEDOUT = 110
EIO = 5
ENODEV = 19


class I2CSlave:
    """Base for virtual I2C devices. ch is the fault target for device faults."""

    ch = None

    def i2c_write(self, buf):
        pass

    def i2c_read_into(self, buf):
        for i in range(len(buf)):
            buf[i] = 0xFF

    def i2c_read_unused(self, n):
        pass

    def i2c_mem_write(self, mem, buf):
        b = bytearray(1 + len(buf))
        b[0] = mem
        b[1:] = buf
        self.i2c_write(b)

    def i2c_mem_read_into(self, mem, buf):
        b = bytearray(1)
        b[0] = mem
        self.i2c_write(b)
        self.i2c_read_into(buf)

    def present(self, world):
        return not (world.fault("nack", self.ch) or world.fault("disconnect", self.ch))


class VBus:
    def __init__(self, world, scl, sda):
        self.world = world
        self.scl = scl
        self.sda = sda
        self.key = (scl, sda)
        self.devices = {}
        self.scl_level = 1
        self.sda_level = 1
        self.transactions = 0

    def attach(self, addr, device):
        self.devices[addr] = device
        return device

    def held(self):
        return self.world.fault("bus_held_low", self.key)

    def device(self, addr, nack_errno):
        """The slave at addr after bus-level fault checks; raises OSError like the ports do."""
        w = self.world
        if self.held():
            raise OSError(ETIMEDOUT)
        if w.fault("bus_error", self.key):
            w.count_down("bus_error", self.key)
            raise OSError(EIO)
        d = self.devices.get(addr)
        if d is None or not d.present(w):
            raise OSError(nack_errno)
        self.transactions += 1
        return d

    def scan(self):
        if self.held():
            return []
        w = self.world
        return sorted(a for a, d in self.devices.items() if d.present(w))

    # -- the wires, when the MCU drives them as plain pins (bus recovery) ------------------------

    def pin_write(self, pin, v):
        if pin == self.scl:
            rising = v and not self.scl_level
            self.scl_level = 1 if v else 0
            if rising:
                self._clock_pulse()
        else:
            self.sda_level = 1 if v else 0

    def pin_read(self, pin):
        if pin == self.scl:
            return self.scl_level
        if self.held():
            return 0
        return self.sda_level

    def _clock_pulse(self):
        self.world.count_down("bus_held_low", self.key, 9)
