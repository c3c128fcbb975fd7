"""Bench harness that runs INSIDE the MicroPython VM (host_tools/mpvm): the real firmware shell
(pacer_app.App: engine, drivers, cues, telemetry) on the vdev `machine` module, in virtual time.

Only the firmware should allocate: the pressure sensors here are integer-only MPX5010 models
(vdev's own model uses floats), the person works in ints, output recording goes to a no-op
sink, and the pixel is the vdev NeoPixel with its recording left out.
"""
import machine
import neopixel
import world as W

TICK = 20
# pacer.program's muscle codes (the firmware is imported only in make(), so that the heap it
# takes can be told apart from the harness's)
M_SQUEEZE = 1
M_FLICK = 2
M_DROP = 4
M_MAX = 5


def imports():
    """Import the firmware modules the device uses (as main.py would)."""
    from pacer import builtin  # noqa: F401
    from pacer_app import app, board, protocol, storage, usb  # noqa: F401
    from pacer_hw import profiles  # noqa: F401


class Mpx:
    """MPX5010 on an ADC pin, integer maths only (so the world allocates nothing):
    Vout = Vs * (0.09 * P_kPa + 0.04), through the profile's divider."""

    def __init__(self, w, ch, vs_mv, div):
        self.w = w
        self.ch = ch
        self.vs40 = vs_mv * 40
        self.k = vs_mv * 90000 // 1019716   # uV per cp (0.01 cmH2O): 441 at 5 V
        top, bot = div
        g = _gcd(top + bot, bot)
        self.num = bot // g
        self.den = (top + bot) // g

    def pin_uv(self):
        uv = self.vs40 + self.w.pressure(self.ch) * self.k
        return (uv if uv > 0 else 0) * self.num // self.den


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class _QuietNeoPixel(neopixel.NeoPixel):
    """The vdev NeoPixel (micropython-lib's buffer layout) with write() only counted: its
    recording would allocate on the harness side (the same stand-in as tests/board_cases.py)."""

    def write(self):
        self.writes += 1


class _NeoPixelModule:
    NeoPixel = _QuietNeoPixel


class _Poller:
    """select.poll() of a host that reads everything at once: POLLOUT always, POLLIN never.
    ipoll() hands back preallocated tuples (the board's ipoll returns itself), so polling
    allocates nothing here either."""

    def __init__(self):
        self._yes = (self,)
        self._mask = 0

    def register(self, stream, mask):
        self._mask = mask

    def ipoll(self, timeout):
        return self._yes if self._mask & 4 else ()


class _Select:
    POLLIN = 1
    POLLOUT = 4

    def poll(self):
        return _Poller()


class _Host:
    """The USB CDC stream: takes every byte written, never has input."""

    def write(self, mv):
        return len(mv)

    def readinto(self, b):
        return 0


def _counting_usb():
    import vm_usb
    return vm_usb.CountingUsb(_Select(), _Host())


class _Os:
    """os for Store on the VM's in-memory filesystem under /flash."""


def _sink(t, ch, v):
    pass


class Person:
    """Pressure in cp (0.01 cmH2O): squeezes to `level` above `rest` during contraction steps
    (after a latency, first-order with tau 250 ms), relaxes otherwise. Ints only."""

    def __init__(self, tl, rest=1500, level=2500, latency_ms=350):
        self.tl = tl
        self.rest = rest
        self.level = level
        self.lat = latency_ms
        self.t0 = -1
        self.i = 0
        self.p = rest
        self.last = 0

    def __call__(self, t_ms):
        if self.t0 < 0 or t_ms == self.last:
            return self.p
        seen = t_ms - self.t0 - self.lat
        tl = self.tl
        while self.i + 1 < tl.n and seen >= tl.start_ms[self.i + 1]:
            self.i += 1
        m = tl.muscle[self.i] if seen >= 0 else 0
        aim = self.rest
        if m == M_SQUEEZE or m == M_FLICK or m == M_MAX:
            aim += self.level
        elif m == M_DROP:
            aim -= 200
        dt = t_ms - self.last
        self.last = t_ms
        self.p += (aim - self.p) * (dt if dt < 250 else 250) // 250
        return self.p


def make(board="pico", program="assessment", stream=True):
    import os

    from pacer import builtin
    from pacer_app.app import App
    from pacer_app.board import Board
    from pacer_app.storage import Store
    from pacer_hw import profiles
    w = W.World(port=profiles.get(board)["port"], seed=3)
    w.sink = _sink
    machine.world = w
    prof = profiles.get(board)
    for ch, key in ((0, "pressure"), (1, "abdominal")):
        spec = prof.get(key)
        if spec and spec["type"] == "mpx5010":
            w.attach_adc(spec["pin"], Mpx(w, ch, spec.get("vs_mv", 5000), spec["div"]))
    if prof["pressure"]["type"] != "mpx5010":
        raise ValueError("bench boards use the MPX5010 (pico, esp32s3); got %r" % board)
    person = Person(builtin.load(program))
    w.set_pressure(0, person)
    w.set_pressure(1, 900)
    try:
        os.mkdir("/flash")
    except OSError:
        pass
    brd = Board(prof, machine, _NeoPixelModule)
    usb = _counting_usb()
    app = App(brd, Store(os, "/flash"), usb, board)
    app.stream = stream
    return w, app, usb, person


def start(w, app, person, program="assessment"):
    app.start(program)
    person.t0 = w.now_ms()
    person.last = person.t0


def tick(w, app):
    w.advance_ms(TICK)
    app.tick(w.now_ms(), TICK)


async def session(board="pico", program="assessment", alloc=True, collect_every=1,
                  max_ticks=200000):
    """Run one whole session (until the engine is DONE) on the firmware loop.

    Heap: mem_alloc after setup (b0: runtime + harness), after the firmware imports (b1), after
    the app is built and the session started (b2), and the peak sampled after every tick,
    before the collection that follows it (every `collect_every` ticks; this port collects only
    when control returns to JavaScript). alloc=True also records each tick's allocation: a
    tick is "steady" when it sent no text to the host (no event, reply or record) and stayed
    in the same program step.
    """
    import gc

    import mpvm_host
    await mpvm_host.collect()
    b0 = gc.mem_alloc()
    imports()
    await mpvm_host.collect()
    b1 = gc.mem_alloc()
    w, app, usb, person = make(board, program)
    start(w, app, person, program)
    await mpvm_host.collect()
    b2 = gc.mem_alloc()
    peak = b2
    steady = steady_n = steady_nz = steady_worst = 0
    event_bytes = event_n = 0
    n = 0
    eng = app.engine
    mem = gc.mem_alloc
    while eng.state != 3 and n < max_ticks:   # 3: engine.DONE
        tx = usb.texts
        st = eng.step
        a = mem() if alloc else 0
        w.advance_ms(TICK)
        app.tick(w.now_ms(), TICK)
        m = mem()
        if alloc:
            d = m - a
            if usb.texts != tx or eng.step != st:
                event_n += 1
                event_bytes += d
            else:
                steady_n += 1
                steady += d
                if d:
                    steady_nz += 1
                    if d > steady_worst:
                        steady_worst = d
        if m > peak:
            peak = m
        n += 1
        if n % collect_every == 0:
            await mpvm_host.collect()
    return {"board": board, "program": program, "ticks": n, "done": eng.state == 3,
            "b0": b0, "b1": b1, "b2": b2, "peak": peak, "steady_ticks": steady_n,
            "steady_bytes": steady, "steady_nonzero_ticks": steady_nz,
            "steady_worst": steady_worst, "event_ticks": event_n, "event_bytes": event_bytes,
            "frames": usb.frames, "frame_bytes": usb.frame_bytes, "max_frame": usb.max_frame,
            "texts": usb.texts}


def cost(board="pico", program="assessment", warm_ms=70000, n=500, trace=False):
    """Median us per tick over n ticks after warm_ms of the session (no collection needed:
    steady ticks allocate nothing). trace=True counts settrace line events instead, split into
    firmware (/fw) and the rest (virtual hardware, harness)."""
    import sys
    import time
    w, app, usb, person = make(board, program)
    start(w, app, person, program)
    for _ in range(warm_ms // 200):   # fast-forward (the settrace build is ~100x slower)
        w.advance_ms(200)
        app.tick(w.now_ms(), 200)
    if trace:
        counts = [0, 0, 0, 0]   # firmware lines, other lines, firmware calls, hardware calls
        per = []
        hw = ("read_u16", "read_uv", "duty_u16", "value", "write", "readfrom_into", "writeto",
              "readfrom", "readfrom_mem_into", "writeto_mem", "init", "freq", "ipoll",
              "readinto")

        def tr(frame, event, arg):
            code = frame.f_code
            f = code.co_filename   # "/fw/pacer/x.py" from source, "pacer/x.py" from .mpy
            fw = f.startswith("/fw/") or f.startswith("pacer")
            if event == "line":
                counts[0 if fw else 1] += 1
            elif event == "call":
                if fw:
                    counts[2] += 1
                elif code.co_name in hw and (code.co_filename.endswith("machine.py")
                                             or code.co_filename.endswith("vm_app.py")):
                    counts[3] += 1   # a machine/neopixel call: C code on a board
            return tr

        sys.settrace(tr)
        for _ in range(n):
            c = counts[0]
            tick(w, app)
            per.append(counts[0] - c)
        sys.settrace(None)
        per.sort()
        return {"fw_lines": counts[0], "other_lines": counts[1], "fw_calls": counts[2],
                "hw_calls": counts[3],
                "ticks": n, "fw_lines_median": per[n // 2], "fw_lines_max": per[-1]}
    # this port's ticks_us moves in whole milliseconds: time batches of 25 ticks
    us = []
    for _ in range(n // 25):
        t0 = time.ticks_us()
        for _ in range(25):
            tick(w, app)
        us.append(time.ticks_diff(time.ticks_us(), t0) // 25)
    us.sort()
    return {"us_median": us[len(us) // 2], "us_max": us[-1], "ticks": len(us) * 25}
