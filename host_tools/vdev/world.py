"""The virtual world the vdev devices and the virtual `machine` module live in.

Runs on CPython 3.11 and inside MicroPython 1.29 (no dataclasses, typing, random or f-string
`=`). Everything is deterministic: the clock is whatever the host says, noise comes from a
seeded 16-bit PRNG.

World API (for the virtual board and the tests)
-----------------------------------------------
Build:      w = World(port="rp2", seed=1, chip=None)  port "rp2" or "esp32" picks port quirks;
                                                  chip ("rp2040", "rp2350", ...) the WDT limit
            machine.world = w                    the virtual machine module reads this global
Clock:      w.set_clock(fn)      fn() -> virtual time in microseconds (monotonic int)
            w.advance_ms(ms), w.advance_us(us)   only while no clock fn is set (internal clock)
            w.now_us(), w.now_ms()
Physics:    w.set_pressure(ch, src)  src: number or callable(t_ms) -> true gauge cmH2O;
                                     ch 0 = pelvic probe, 1 = abdominal
            w.pressure(ch), w.atm_pa (101325), w.temp_c (25.0), w.vsys_mv (5000)
Inputs:     w.set_input(pin, level_or_callable)  e.g. a button: 0 pressed, 1 released
Faults:     w.set_fault(name, value=True, target=None); w.clear_fault(name=None, target=None)
            w.fault(name, target) -> value (target-specific entry first, then global)
            names: disconnect, stuck, saturate, bus_error, nack, bus_held_low, busy_forever,
            integrity_fail, hx_never_ready, supply_sag. target: a pressure channel (int), an
            I2C bus key (scl, sda), or None for everything (w.faults: {name: {target: value}}).
            Values: True, or for bus_error an int n = "the next n transactions fail"; for
            bus_held_low an int n = "the slave lets go after n SCL pulses" (True = 9, -1:
            shorted, never); supply_sag: remaining fraction of the supply, e.g. 0.85.
Wiring:     w.bus(scl, sda) -> VBus (get or create); bus.attach(addr, device)
            w.attach_adc(pin, device)   device.pin_uv() -> volts at the pin in microvolts
            w.own_pin(pin, device)      device.pin_read(pin) / device.pin_write(pin, v)
Outputs:    w.record(t_ms, channel, value) appends (t_ms, channel, value) to w.log (bounded by
            w.max_log, oldest half dropped, w.dropped counts them) or, if w.sink is set, calls
            w.sink(t_ms, channel, value) instead. w.last[channel] is the latest value.
            Channels default to "pwm<pin>", "pwm<pin>.hz", "pin<pin>", "pixel<pin>", "oled";
            w.label(channel, name) renames one (e.g. "pwm14" -> "motor", which also turns
            "pwm14.hz" into "motor.hz").
Watchdog:   machine.WDT feeds w; w.check_watchdog() -> True once a started WDT was not fed in
            time (also sets w.boot_cause = WDT_RESET for the next boot).
Resets:     machine.reset() etc. raise machine.ResetRequested; w.boot_cause is what
            machine.reset_cause() reports after the host reboots.
"""

from bus import VBus

PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class Rng:
    """xorshift16: tiny, deterministic, and every intermediate stays a small int."""

    def __init__(self, seed):
        self.x = (seed & 0xFFFF) or 0xACE1

    def rand16(self):
        x = self.x
        x ^= (x << 7) & 0xFFFF
        x ^= x >> 9
        x ^= (x << 8) & 0xFFFF
        self.x = x
        return x

    def noise(self, amp):
        """Triangular noise, an int in [-amp, amp]."""
        if amp <= 0:
            return 0
        return ((self.rand16() + self.rand16() - 65535) * amp) >> 16


class World:
    def __init__(self, port="rp2", seed=1, chip=None):
        self.port = port
        self.chip = chip
        self.seed = seed
        self._clock = None
        self._t_us = 0
        self._src = [0, 0]
        self.atm_pa = 101325
        self.temp_c = 25.0
        self.vsys_mv = 5000
        self.faults = {}
        self.buses = {}
        self.pin_owner = {}
        self.adc = {}
        self.inputs = {}
        self.irqs = {}
        self.labels = {}
        self.last = {}
        self.log = []
        self.max_log = 200000
        self.dropped = 0
        self.sink = None
        self.wdt_timeout = 0
        self.wdt_fed = 0
        self.boot_cause = PWRON_RESET
        self.irq_disabled = 0
        self.timers = []
        self.pwms = {}
        self.cpu_hz = 125000000 if port == "rp2" else 160000000
        self._rng_n = 0

    # -- clock ----------------------------------------------------------------------------------

    def set_clock(self, fn):
        self._clock = fn

    def now_us(self):
        c = self._clock
        return c() if c is not None else self._t_us

    def now_ms(self):
        return self.now_us() // 1000

    def advance_us(self, us):
        if self._clock is not None:
            raise RuntimeError("world clock is external")
        self._t_us += us

    def advance_ms(self, ms):
        self.advance_us(ms * 1000)

    def rng(self):
        """A fresh PRNG for one device; devices get different, reproducible streams."""
        self._rng_n += 1
        return Rng(self.seed * 7919 + self._rng_n * 104729)

    # -- physics and inputs ---------------------------------------------------------------------

    def set_pressure(self, ch, src):
        while len(self._src) <= ch:
            self._src.append(0)
        self._src[ch] = src

    def pressure(self, ch):
        s = self._src[ch] if ch < len(self._src) else 0
        if callable(s):
            return s(self.now_ms())
        return s

    def set_input(self, pin, level):
        old = self.input_level(pin)
        self.inputs[pin] = level
        new = self.input_level(pin)
        irq = self.irqs.get(pin)
        if irq is not None and old != new:
            handler, trigger, obj = irq
            if (new and trigger & 8) or (not new and trigger & 4):  # IRQ_RISING / IRQ_FALLING
                handler(obj)

    def input_level(self, pin):
        v = self.inputs.get(pin)
        if v is None:
            return None
        if callable(v):
            return 1 if v(self.now_ms()) else 0
        return 1 if v else 0

    # -- faults ---------------------------------------------------------------------------------

    def set_fault(self, name, value=True, target=None):
        if value is None or value is False or value == 0:
            self.clear_fault(name, target)
            return
        d = self.faults.get(name)
        if d is None:
            d = self.faults[name] = {}
        d[target] = value

    def clear_fault(self, name=None, target=None):
        if name is None:
            self.faults = {}
            return
        d = self.faults.get(name)
        if d is not None and target in d:
            del d[target]
            if not d:
                del self.faults[name]

    def fault(self, name, target=None):
        # {name: {target: value}}: lookups build no tuples, so polling faults every read
        # allocates nothing inside the VM
        d = self.faults.get(name)
        if d is None:
            return 0
        if target is not None:
            v = d.get(target)
            if v is not None:
                return v
        v = d.get(None)
        return 0 if v is None else v

    def count_down(self, name, target, n_true=0):
        """Consume one event of a fault that lasts n events (the entry fault() reads). True
        means n_true events, or forever when n_true is 0; -1 is forever. Returns the value
        before counting."""
        d = self.faults.get(name)
        if d is None:
            return 0
        key = target if target is not None and target in d else None
        v = d.get(key)
        if v is None or v == -1 or (v is True and not n_true):
            return 0 if v is None else v
        n = n_true if v is True else v
        if n <= 1:
            self.clear_fault(name, key)
        else:
            d[key] = n - 1
        return v

    # -- wiring ---------------------------------------------------------------------------------

    def bus(self, scl, sda):
        key = (scl, sda)
        b = self.buses.get(key)
        if b is None:
            b = VBus(self, scl, sda)
            self.buses[key] = b
            self.pin_owner[scl] = b
            self.pin_owner[sda] = b
        return b

    def attach_adc(self, pin, device):
        self.adc[pin] = device

    def own_pin(self, pin, device):
        self.pin_owner[pin] = device

    # -- outputs --------------------------------------------------------------------------------

    def label(self, channel, name):
        self.labels[channel] = name

    def record(self, t_ms, channel, value):
        channel = self.labels.get(channel, channel)
        self.last[channel] = value
        if self.sink is not None:
            self.sink(t_ms, channel, value)
            return
        log = self.log
        log.append((t_ms, channel, value))
        if len(log) > self.max_log:
            n = len(log) // 2
            del log[:n]
            self.dropped += n

    def current(self, channel, default=None):
        return self.last.get(channel, default)

    def history(self, channel):
        """[(t_ms, value)] still in the log for one channel."""
        return [(t, v) for (t, c, v) in self.log if c == channel]

    # -- watchdog -------------------------------------------------------------------------------

    def wdt_start(self, timeout_ms):
        self.wdt_timeout = timeout_ms
        self.wdt_fed = self.now_ms()

    def wdt_feed(self):
        self.wdt_fed = self.now_ms()

    def check_watchdog(self):
        if self.wdt_timeout and self.now_ms() - self.wdt_fed > self.wdt_timeout:
            self.boot_cause = WDT_RESET
            return True
        return False

    def reboot(self):
        """Host side of a reset: forget everything the running firmware set up."""
        self.wdt_timeout = 0
        self.irq_disabled = 0
        self.irqs = {}
        self.timers = []

    # -- timers ---------------------------------------------------------------------------------

    def run_timers(self):
        """Fire due machine.Timer callbacks (the host calls this as it advances time)."""
        now = self.now_ms()
        for t in list(self.timers):
            t._poll(now)
