# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false
"""The board's surroundings: a vdev World wired as the board profile says, and the virtual
`machine` module hooked to the host (resets, watchdog, sleeps, output recording).

Wiring from the profile (firmware/pacer_hw/profiles.py, passed in by the launcher):
pressure/abdominal sensors (mpx5010 on an ADC pin, hx710b on two GPIOs, mprls/bmp280 on I2C),
the SSD1306 OLED, the supply sense divider; PWM/pin/pixel channels get the names motor, led,
buzzer, pixel in the recording. Pressures: rest (0 cmH2O gauge) unless a persona is given, in
which case a host_tools.sim Sampler supplies both channels, driven by a sim.watch.Watcher: the
person watches the motor, LED and pixel outputs as they change and reacts to the cues they
recognise after their latency (see host_tools/sim/watch.py). Their ground truth is written to
the outputs recording: "truth" [tension_cmH2O, activation, artifact] every 100 ms, "truth.rep"
per rep (the last record per "n" is final) and "person.cue" per perceived cue.

machine hooks: reset()/soft_reset()/deepsleep()/bootloader() reset the VM at once (no finally
blocks run, as on hardware); WDT also arms the host watchdog (checked on every host call, and
by the supervisor for code that never calls the host); lightsleep() sleeps; idle() yields.
"""
import binascii
import json

import _vbhost as _h


def _clock_us():
    return _h.clock_ms() * 1000 + _h.clock_us()


def _enc(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return json.dumps(str(binascii.hexlify(v), "ascii"))
    try:
        return json.dumps(v)
    except TypeError:
        return json.dumps(repr(v))


def _sink(t_ms, channel, value):
    _h.record(t_ms, channel, _enc(value))


def _hook_machine(machine, w):
    def resetter(fn):
        def call(*args):
            try:
                fn(*args)
            except machine.ResetRequested as e:
                ms = args[0] if args and e.kind == "deepsleep" else 0
                _h.reset(e.kind, w.boot_cause, ms)

        return call

    for name in ("reset", "soft_reset", "deepsleep", "bootloader"):
        setattr(machine, name, resetter(getattr(machine, name)))

    base = machine.WDT

    class WDT(base):
        def __init__(self, id=0, timeout=5000):
            base.__init__(self, id, timeout)
            _h.wdt_start(timeout)

        def feed(self):
            base.feed(self)
            _h.wdt_feed()

    machine.WDT = WDT

    def lightsleep(ms=0):
        if ms > 0:
            _h.sleep(ms, 0)

    machine.lightsleep = lightsleep
    machine.idle = _h.idle


def wire(w, prof):
    import wiring

    try:
        wiring.attach_sensors(w, prof)
    except ValueError as e:
        _h.log("vboard: %s" % e)
    wiring.attach_oled(w, prof)
    wiring.attach_vsense(w, prof)
    for key in ("motor", "led", "buzzer"):
        pin = prof.get(key)
        if pin is not None:
            w.label("pwm%d" % pin, key)
            w.label("pin%d" % pin, key + ".pin")
    if prof.get("pixel") is not None:
        w.label("pixel%d" % prof["pixel"], "pixel")


_WATCHED = ("motor", "led", "pixel")


def person(w, persona, seed, abdominal, has_led=True):
    """The simulated person on the pressure channels, watching the device's outputs (the
    sim.watch.Watcher: vibration patterns, pixel colour, light ramps) and reacting after their
    latency. Their truth goes to the outputs recording ("truth", "truth.rep", "person.cue")."""
    from sim import Sampler
    from sim.watch import Watcher

    s = Sampler(persona, seed, abdominal=abdominal)
    watcher = Watcher(s, _sink, has_led=has_led)
    sink = w.sink

    def watching_sink(t_ms, channel, value):
        sink(t_ms, channel, value)
        if channel in _WATCHED:
            watcher.see(t_ms, channel, value)

    w.sink = watching_sink

    def pelvic(t):
        watcher.poll(t)
        return s.pressure(0, t)

    w.set_pressure(0, pelvic)
    if abdominal:
        w.set_pressure(1, lambda t: s.pressure(1, t))
    s.watcher = watcher
    return s


def build(cfg):
    import machine
    import neopixel  # noqa: F401 - loaded now, while the vdev folder is on the path
    import world as W

    prof = cfg["profile"]
    w = W.World(port=prof.get("port", "rp2"), seed=cfg["seed"])
    w.set_clock(_clock_us)
    w.boot_cause = cfg["boot_cause"]
    w.sink = _sink
    machine.world = w
    _hook_machine(machine, w)
    wire(w, prof)
    if cfg.get("persona"):
        try:
            person(w, cfg["persona"], cfg["seed"], bool(prof.get("abdominal")),
                   prof.get("led") is not None)
        except Exception as e:  # noqa: BLE001 - the board still boots, at rest
            _h.log("vboard: persona %r not available: %r" % (cfg["persona"], e))
    return w
