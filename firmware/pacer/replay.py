"""Run the engine over a recorded sample stream: the same code in CPython and in MicroPython.

Samples are (t_ms, pressure_cp, abdominal_cp) ints with t relative to the first sample; a pressure
of MISSING marks a sample the sensor could not give (the engine is told of a disconnected sensor
and time still advances, so the schedule never stalls).
"""
from pacer import events as ev
from pacer.engine import ABSENT, DONE, Engine
from pacer.eventfmt import event_line

MISSING = -2000000


def drain(engine, write, t0=0):
    """Format and hand every pending event to write(line)."""
    q = engine.q
    while True:
        off = q.pop()
        if off < 0:
            return
        write(event_line(q.buf, off, t0, engine.summary, engine.tl.name))


class Replayer:
    """Feed samples one at a time (so a caller can yield between them), then end()."""

    def __init__(self, timeline, settings, write, t0=0, stored_mvc_cp=0):
        self.eng = Engine(timeline, settings, stored_mvc_cp)
        self.eng.start()
        self.write = write
        self.t0 = t0
        self.last_p = 0
        self.last_t = 0

    def feed(self, t, p, a):
        """Returns True once the program has ended."""
        eng = self.eng
        self.last_t = t
        if p == MISSING:
            eng.sensor_fault(t, ev.FAULT_DISCONNECTED)
            p = self.last_p
        else:
            if eng.fault_kind == ev.FAULT_DISCONNECTED:
                eng.sensor_fault(t, 0)
            self.last_p = p
        eng.tick(t, p, a if a != MISSING else ABSENT)
        drain(eng, self.write, self.t0)
        return eng.state == DONE

    def end(self):
        if self.eng.state != DONE:
            self.eng.stop(self.last_t)
            drain(self.eng, self.write, self.t0)
        return self.eng


def run(timeline, settings, samples, write, t0=0, stored_mvc_cp=0):
    r = Replayer(timeline, settings, write, t0, stored_mvc_cp)
    for t, p, a in samples:
        if r.feed(t, p, a):
            break
    return r.end()
