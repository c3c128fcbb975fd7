"""Soak: hours of virtual time with telemetry streaming.

- vm_soak: the engine, event formatting and telemetry framing (the per-tick work of the app)
  in the real MicroPython VM with a capped heap, sessions back to back for `hours`; the heap
  in use after a collection at every virtual hour; MemoryError would end the run.
- app_soak: the whole App (drivers, vdev, Store, protocol, telemetry) on CPython through the
  supervisor's fixed-rate loop, sessions back to back for `hours`: pacing drift (every phase
  event exactly on its scheduled time; loop ticks exactly hours*3600*50), no MemoryError.
- vb_soak: the firmware's main.py on the virtual board streaming telemetry for `minutes` of
  virtual time: it keeps answering, frames arrive, no MemoryError/traceback. (The wasm port
  cannot collect garbage during a long main.py run, so hours run in vm_soak/app_soak.)
"""
import json
import time as _wall

import rel_rig as R
from host_tools import mpvm
from pacer.engine import DONE

VM_SOAK = r"""
import gc, json
import mpvm_host
from pacer import builtin, eventfmt
from pacer.engine import DONE, Engine
from pacer.settings import Settings
from pacer_app.telemetry import Telemetry

HOURS = %(hours)s
HOUR = 3600000
names = ("kegel", "flicks", "endurance", "box")
sent = [0]
def write(mv):
    sent[0] += 1
    return len(mv)
tele = Telemetry(write, None)
total = 0
eng = None
t0 = 0
k = 0
drift = 0
events = 0
heap = []
gc.collect()
await mpvm_host.collect()
heap0 = gc.mem_alloc()
nxt = HOUR
while total < HOURS * HOUR:
    if eng is None or eng.state == DONE:
        tl = builtin.load(names[k %% len(names)])
        k += 1
        eng = Engine(tl, Settings(), 3000)
        eng.start()
        t0 = total
    t = total - t0
    i = eng.step
    m = tl.muscle[i] if 0 <= i < tl.n else 0
    p = 1500 + (2500 if (m == 1 or m == 2 or m == 5) and t - tl.start_ms[i] > 400 else 0)
    eng.tick(t, p, 900)
    q = eng.q
    while q.count:
        off = q.pop()
        if off < 0:
            break
        if q.buf[off] == 1:  # phase: on its scheduled time exactly
            d = q.buf[off + 1] - tl.start_ms[q.buf[off + 2]]
            if d < 0:
                d = -d
            if d > drift:
                drift = d
        line = eventfmt.event_line(q.buf, off, 0, eng.summary, tl.name)
        events += 1
    tele.send(t, eng.p, eng.target, eng.step, 1 if eng.cue.motor else 0, 900)
    total += 20
    if total %% 60000 == 0:
        await mpvm_host.collect()
    if total >= nxt:
        nxt += HOUR
        await mpvm_host.collect()
        heap.append(gc.mem_alloc())
# the harness: each `await mpvm_host.collect()` keeps a few bytes in this port; measured here
# with the same number of awaits as one hour and no work (for the report, not subtracted)
eng = None
tl = None
await mpvm_host.collect()
c0 = gc.mem_alloc()
for _ in range(HOUR // 60000 + 1):
    await mpvm_host.collect()
cal = gc.mem_alloc() - c0
print("SOAK", json.dumps({"heap0": heap0, "heap": heap, "frames": sent[0], "events": events,
                          "sessions": k, "drift_ms": drift, "harness_bytes_per_hour": cal}))
"""


def vm_soak(hours=1, heap=192 * 1024, timeout=3600):
    """Returns {"heap": [bytes in use after each hour], "heap_drift_bytes", ...}."""
    res = mpvm.run(VM_SOAK % {"hours": hours}, heap=heap, timeout=timeout)
    line = [x for x in res.stdout.splitlines() if x.startswith("SOAK ")]
    out = {"hours": hours, "memory_errors": 1 if res.exc_type == "MemoryError" else 0,
           "crash": None if res.exc_type is None else "%s: %s" % (res.exc_type, res.exc_message)}
    if line:
        d = json.loads(line[0][5:])
        out.update(d)
        h = d["heap"]
        # reported raw (uncorrected): it includes the harness' ~30 bytes per await, which
        # the separate measurement harness_bytes_per_hour shows (docs/reliability.md)
        out["heap_drift_bytes"] = max(h) - min(h) if h else 0
    return out


def app_soak(tmp, hours=1.0):
    """The App with telemetry on, sessions back to back, through supervisor.loop."""
    rig = R.DevRig(tmp, board="pico")
    rig.app.stream = True
    names = ["kegel", "flicks", "endurance", "box"]
    st = {"k": 0, "t0": 0, "drift": 0, "sessions": 0, "phase_seen": 0}
    vt = R.VTime(rig.w)
    real_tick = rig.app.tick
    rig.usb.frames_n = 0

    def press(t):  # a person who squeezes 25 cmH2O during squeeze steps
        eng = rig.app.engine
        if eng is None:
            return 15.0
        i = eng.step
        m = eng.tl.muscle[i] if 0 <= i < eng.tl.n else 0
        return 40.0 if m in (1, 2, 5) and eng.tl.start_ms[i] + 400 < rig.app.el else 15.0
    rig.w.set_pressure(0, press)

    def tick(now, dt):
        eng = rig.app.engine
        if eng is None or eng.state == DONE:
            name = names[st["k"] % len(names)]
            st["k"] += 1
            rig.app.start(name)
            st["sessions"] += 1
        real_tick(now, dt)
        # phase events on schedule (engine time) and frames drained (the host reads)
        out = rig.usb.out
        if out:
            for x in out:
                if '"type": "phase"' in x:
                    e = json.loads(x)
                    d = abs(e["t_ms"] - rig.app.engine.tl.start_ms[e["step"]])
                    st["drift"] = max(st["drift"], d)
                    st["phase_seen"] += 1
            del out[:]
        rig.usb.frames_n += len(rig.usb.frames)
        del rig.usb.frames[:]
    rig.app.tick = tick
    n = int(hours * 3600 * 50)
    t_start = rig.w.now_ms()
    mem_errors = 0
    try:
        R.run_loop(rig.app, vt, None, max_ticks=n)
    except MemoryError:
        mem_errors = 1
    elapsed = rig.w.now_ms() - t_start
    # the loop's own schedule: n ticks of 20 ms take exactly n * 20 ms of virtual time
    loop_drift = abs(elapsed - n * 20)
    return {"hours": hours, "frames": rig.usb.frames_n, "sessions": st["sessions"],
            "phases": st["phase_seen"], "drift_ms": max(st["drift"], loop_drift),
            "memory_errors": mem_errors, "telemetry_dropped": rig.app.tele.dropped}


def vb_soak(tmp, minutes=10):
    """main.py on the virtual board, telemetry on, sessions back to back, `minutes` virtual."""
    from host_tools.vboard import start as vb_start
    flash = R.install_firmware(tmp / "flash", mpy=True)
    with vb_start(board="pico", flash_dir=flash, log=tmp / "vb.log", persona=None) as vb:
        link = R.Link(vb.port)
        try:
            link.wait_boot(20, "boot")
            assert link.command("stream on")["ok"]
            t_virtual = 0
            sessions = 0
            frames = 0
            end = _wall.monotonic() + 60 * minutes  # real-time guard
            while t_virtual < minutes * 60000:
                st = link.command("status")
                if st["state"] != "running":
                    if st["state"] == "done" and "t_ms" in st:
                        t_virtual += st["t_ms"]
                    if t_virtual >= minutes * 60000:
                        break
                    assert link.command("start kegel")["ok"]
                    sessions += 1
                assert _wall.monotonic() < end, "virtual board too slow"
                _wall.sleep(0.2)
            frames = sum(1 for x in link.lines if x.startswith("T"))
            st = link.command("status")
            bad = [x for x in link.lines if "Traceback" in x or "MemoryError" in x]
        finally:
            link.close()
    return {"minutes": minutes, "sessions": sessions, "frames": frames,
            "state": st["state"], "tracebacks": len(bad)}
