"""I2C bus recovery for a slave that holds SDA low.

A slave reset or glitched mid-byte keeps driving SDA low while it waits for the rest of its
clocks, and every later transaction then times out. The standard cure (NXP UM10204 3.1.16):
clock SCL up to nine times until the slave lets SDA go, then make a STOP. The shell deinits or
drops its I2C object, calls this with plain Pin objects for the two lines, then builds the I2C
object again (which gives the pins back to the I2C peripheral) and re-initialises the devices.
"""
from pacer_hw._compat import sleep_us


def recover_bus(scl, sda, pulses=9, half_us=5):
    """scl, sda: machine.Pin for the bus lines. Returns True when SDA is high (bus released)."""
    scl.init(scl.OPEN_DRAIN, value=1)
    sda.init(sda.OPEN_DRAIN, value=1)
    sleep_us(half_us)
    for _ in range(pulses):
        if sda.value():
            break
        scl.value(0)
        sleep_us(half_us)
        scl.value(1)
        sleep_us(half_us)
    # STOP: SDA rises while SCL is high; leaves every slave idle and the bus free.
    scl.value(0)
    sleep_us(half_us)
    sda.value(0)
    sleep_us(half_us)
    scl.value(1)
    sleep_us(half_us)
    sda.value(1)
    sleep_us(half_us)
    return sda.value() == 1
