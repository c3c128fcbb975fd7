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


def _sensor(w, ch, spec):
    t = spec["type"]
    if t == "mpx5010":
        import mpx5010

        w.attach_adc(spec["pin"], mpx5010.MPX5010(w, spec["pin"], ch, vs_mv=spec.get("vs_mv", 5000),
                                                  div=tuple(spec["div"])))
    elif t == "hx710b":
        import hx710b

        hx710b.HX710B(w, spec["sck"], spec["dout"], ch,
                      counts_per_cmh2o=spec.get("counts_per_cmh2o", 79000))
    elif t == "mprls":
        import mprls

        w.bus(spec["scl"], spec["sda"]).attach(spec["addr"], mprls.MPRLS(w, ch))
    elif t == "bmp280":
        import bmp280

        w.bus(spec["scl"], spec["sda"]).attach(spec["addr"], bmp280.BMP280(w, ch))
    else:
        _h.log("vboard: unknown sensor type %r" % t)


def wire(w, prof):
    for ch, key in ((0, "pressure"), (1, "abdominal")):
        if prof.get(key):
            _sensor(w, ch, prof[key])
    oled = prof.get("oled")
    if oled:
        import ssd1306

        w.bus(oled["scl"], oled["sda"]).attach(oled["addr"], ssd1306.SSD1306(w))
    vs = prof.get("vsense")
    if vs:
        import analog

        analog.VSense(w, vs["pin"], vs.get("mult", 3))
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
