"""The device: the engine, the board and the host link put together, one fixed-rate tick.

The loop runs on absolute deadlines (ticks_add/ticks_diff), so a slow tick delays the next one
but never shifts the schedule. Engine time is accumulated from ticks_diff, so the 30-bit tick
counter wrapping is never seen by the engine. Session records are buffered and written at phase
boundaries; telemetry and replies go out only when the port has room.

Button (a person can train with the device alone):
  idle:    short = start the selected program, long = select the next program (the light blinks
           its number), very long (5 s) = run `calibrate` (rest baseline and maximum squeeze).
           After the last program the selection reaches "results": a short press then shows the
           last relaxation sessions (pacer_app.results) on the OLED, or flashes their grades
  running: short = pause / resume, long = stop (the session is saved)

Status patterns (LED and pixel; the buzzer beeps on a button event and on a fault):
  idle     slow 4 s breathing glow, blue
  select   the program's number in quick white blinks (after a long press)
  running  the engine's cues: breath ramps, effort brightness, green on target, red on tension
  paused   the engine's 2 s white glow, motor silent
  done     the grade (pacer.verdict), every 3 s: 3 flashes (great, green), 2 (good, amber) or
           1 (keep going, magenta); it counts drops, pushes and tension, not only squeezes
  results  one flash per recent relaxation session, oldest first, in its grade's colour
  fault    fast 2 Hz red flashing, motor off (sensor unplugged, over range, stuck, bus error)
  safe     steady dim light, purple pixel, nothing else (pacer_app.supervisor; the REPL is free)
The optional OLED shows phase, countdown, rep count and the pressure bar with the target line;
in relax, drop and push steps the bar zooms to +/- 5 cmH2O around the person's resting line, so a
2 cmH2O drop is visible. It is redrawn four times a second and sent a page per tick (a whole
frame takes ~25 ms on the I2C bus, a page ~3 ms).
"""
import json

from pacer import builtin, eventfmt, program
from pacer import events as ev
from pacer.cue import scale
from pacer.engine import ABSENT, DONE, PAUSED, RUNNING, STATE_NAMES, Engine
from pacer.program import is_letgo, is_relaxing
from pacer.settings import FIELDS, Settings
from pacer.summary import S_GRADE
from pacer_app.clock import WallClock
from pacer_app.protocol import PROTOCOL, Protocol
from pacer_app.telemetry import (
    CUE_FAULT,
    CUE_MOTOR,
    CUE_PAUSED,
    CUE_REACHED,
    CUE_TENSION,
    Telemetry,
)
from pacer_app.trace import Trace
from pacer_hw import fault
from pacer_hw._compat import collect, const, native, ticks_diff
from pacer_hw.button import LONG, SHORT, VLONG

_IDLE_BLUE = const(0x0020A0)
_DONE_GREEN = const(0x00A020)
_SELECT_WHITE = const(0xA0A0A0)
VERSION = "0.1.0"
_PHASE = ("REST", "SQUEEZE", "FLICK", "RELEASE", "DROP", "MAX", "PUSH")   # by pacer.program M_*
_RESULT = ("DONE: KEEP GOING", "DONE: GOOD", "DONE: GREAT")   # by pacer.verdict grade
_GRADE_COLOUR = (0xA000A0, 0xC06000, _DONE_GREEN)
_ZOOM_CP = const(500)       # the relax view: +/- 5 cmH2O around the resting line
RESULTS = "results"         # the pseudo-program after the last one in the button's cycle
_FIRST = builtin.NAMES[0]   # what the button starts when the selected program is gone


@native
def _engine_fault(code):
    return ev.FAULT_INTEGRITY if code == fault.INTEGRITY else code


class App:
    def __init__(self, board, store, usb=None, board_name="pico"):
        self.board = board
        self.store = store
        self.usb = usb
        self._usb_queue = usb is not None and hasattr(usb, "flush")
        self.board_name = board_name
        cfg = store.load_config()[0]   # what it could not use is in store.warnings
        self.cfg = cfg
        self.period = 1000 // cfg.get("loop_hz", 50)
        self.selected = ""
        self.engine = None
        self.program_name = ""
        self.el = 0
        self.injecting = False
        self.inj_p = 0
        self.inj_abd = ABSENT
        self.inj_t = -1         # T_MS of the last injected sample of this session
        self.now = 0
        self.stream = bool(cfg.get("stream", False))
        self.blink_until = 0
        self.blinks = 0
        self.result = 0          # after a session: its grade, 3 great, 2 good, 1 keep going
        self.history = None      # the results view: pacer_app.results entries while shown
        self.screen = getattr(board, "screen", None)
        self._scr_t = 0
        self._scr_full = 5000    # bar full scale, cp
        self.user = cfg.get("user", "default")
        self.wall = WallClock()  # set by the host: sessions and calibrations are dated
        self.self_test = ""      # the boot self-test's verdict (pacer_app.supervisor), "" not run
        self.proto = Protocol(self, self._send)
        self.tele = Telemetry(self._write_frame, self._ready)
        self.trace = Trace()     # the thinned pressure curve kept in the session log
        self._select(cfg.get("program", _FIRST))
        self._step_io = [0] * 4   # _step's dt, code, p, abd, for its body
        body = self._step_body()
        self._resume_step = body.send
        body.send(None)  # to its first yield
        body = self._tick_body()
        self._resume_tick = body.send
        body.send(None)

    def _select(self, name):
        """The program the button starts. A name that is no program (deleted, or a config from
        elsewhere) falls back to the first built-in with a warning, never a crash later."""
        if name not in self.programs():
            self.store.warn("no program %r, %s selected" % (name, _FIRST))
            name = _FIRST
        self.selected = name

    # ---- host link -----------------------------------------------------------------------
    def _send(self, text):
        if self.usb is not None:
            self.usb.write(text)

    def _write_frame(self, mv):
        return self.usb.write_bytes(mv) if self.usb is not None else None

    def _ready(self):
        return self.usb is not None and self.usb.ready()

    # ---- the tick ------------------------------------------------------------------------
    @native
    def tick(self, now, dt):
        """One control period. now: ticks_ms; dt: ms since the previous tick."""
        self.now = now
        self._resume_tick(dt)

    # tick() and _step() are thin: their work is done by generators resumed once a call, as
    # the engine's tick is (pacer.engine: a function with over 11 words of locals and stack
    # gets its frame from the heap on every call on the chip; a generator's is made once, and
    # its locals keep the parts it calls bound, so a tick looks none of them up).
    @native
    def _tick_body(self):
        b = self.board
        button_event = b.button_event
        sample = b.sample
        wall = self.wall
        step = self._step
        u = self.usb
        flush = u.flush if u is not None and self._usb_queue else None
        read = u.read if u is not None else None
        proto = self.proto
        while True:
            dt = yield
            now = self.now
            btn = button_event(now)
            if btn:
                self._button(btn, now)
            if self.injecting:
                # hardware-in-the-loop: each `S` sample ticks a running engine at its own time
                eng = self.engine
                if eng is None or (eng.state != RUNNING and eng.state != PAUSED):
                    step(dt, fault.OK, self.inj_p, self.inj_abd)
                p = self.inj_p
            else:
                code = sample(now)
                p = b.cp
                a = b.abd
                step(dt, code, p, ABSENT if a is None else a)
            if wall.due(now):
                wall.read(now)  # hourly: keeps ticks_diff within range (pacer_app.clock)
            scr = self.screen
            if scr is not None:
                if ticks_diff(now, self._scr_t) >= 250:
                    self._scr_t = now
                    self._draw(p)
                else:
                    self._send_page(scr)
            if u is not None and read is not None:
                if flush is not None:
                    flush()  # queued replies and event lines first, a chunk at a time
                n = read()
                if n:
                    proto.feed(u.buf, n)
                if proto.sending:
                    # `sessions get`: one record per free port, so none is dropped by a busy link
                    for _ in range(8):
                        if not u.ready() or not proto.pump(1):
                            break

    @native
    def _step(self, dt, code, p, abd):
        """Advance the engine by dt ms with one reading at self.now, show the cues, send a
        frame. Four arguments: a bound method called with more copies them to the heap."""
        io = self._step_io
        io[0] = dt
        io[1] = code
        io[2] = p
        io[3] = abd
        self._resume_step(None)

    @native
    def _step_body(self):
        io = self._step_io
        show = self.board.show
        trace_add = self.trace.add
        # a method call, not a bound method kept here: called with more than four arguments,
        # a bound method copies them to the heap (py/objboundmeth.c)
        tele = self.tele
        eng = None
        while True:
            yield
            now = self.now
            p = io[2]
            abd = io[3]
            e = self.engine
            if e is not None and (e.state == RUNNING or e.state == PAUSED):
                if e is not eng:  # a new session: bind its engine's parts
                    eng = e
                    eng_tick = e.tick
                    c = e.cue
                    q = e.q
                    w = e.watch
                code = io[1]
                self.el += io[0]
                t = self.el
                # fault.OK is 0: testing `code` itself spares two look-ups a test on every tick
                if code or e.fault_kind:
                    e.sensor_fault(t, _engine_fault(code) if code else 0)
                eng_tick(t, p, abd)
                m = c.motor
                show(now, c.led, c.rgb, m)
                if q.count:
                    self._events()
                trace_add(t, p)
                st = e.state
                if st == DONE:
                    self._finished()
                if self.stream:
                    tele.send(t, p, e.target, e.step,
                              (CUE_MOTOR if m else 0) | (CUE_REACHED if e.reached else 0)
                              | (CUE_TENSION if w.tension_active else 0)
                              | (CUE_PAUSED if st == PAUSED else 0)
                              | (CUE_FAULT if code else 0), None if abd == ABSENT else abd)
            else:
                code = io[1]
                self._idle_show(now, code)
                if self.stream:
                    tele.send(self.el, p, 0, -1, CUE_FAULT if code else 0,
                              None if abd == ABSENT else abd)

    def _draw(self, p):
        """The OLED view: phase, countdown, count, and the pressure bar with its line: the target
        in squeeze steps, the resting line (zoomed) when the floor should let go."""
        scr = self.screen
        if scr is None:
            return
        eng = self.engine
        if self.history is not None:
            return  # drawn once when shown
        if eng is not None and (eng.state == RUNNING or eng.state == PAUSED) and eng.step >= 0:
            tl = eng.tl
            i = eng.step
            m = tl.muscle[i]
            left = tl.start_ms[i] + tl.dur_ms[i] - self.el
            phase = "PAUSED" if eng.state == PAUSED else _PHASE[m]
            if is_relaxing(m) or is_letgo(m):
                lo = eng.base.value - _ZOOM_CP
                n = eng.drops.index if tl.drops else eng.n_reps
                scr.draw(p - lo, _ZOOM_CP, 2 * _ZOOM_CP, phase, left // 1000 + 1, n,
                         tl.drops or tl.reps)
            else:
                scr.draw(p, eng.target, self._scr_full, phase, left // 1000 + 1, eng.n_reps,
                         tl.reps)
        elif eng is not None and self.result:
            scr.draw(p, 0, self._scr_full, _RESULT[self.result - 1], -1, 0, 0)
        else:
            scr.draw(p, 0, self._scr_full, self.selected, -1, 0, 0)
        # out a page per tick from the next tick on: the whole frame at once (~25 ms at
        # 400 kHz) would overrun the 20 ms tick and delay the cues four times a second
        scr.d.start_frame()

    @native
    def _send_page(self, scr):
        try:
            scr.d.send_page()
        except OSError:  # a loose OLED must not stop the exercise
            self.screen = None

    def _show_screen(self, scr):
        try:
            scr.d.show()
        except OSError:  # a loose OLED must not stop the exercise
            self.screen = None

    def _idle_show(self, now, code):
        b = self.board
        if code != fault.OK:
            on = (now // 250) % 2 == 0
            b.show(now, 65535 if on else 0, 0xFF0000 if on else 0, 0)
            return
        if self.blinks and now < self.blink_until:
            on = ((self.blink_until - now) // 200) % 2 == 1
            b.show(now, 40000 if on else 0, _SELECT_WHITE if on else 0, 0)
            return
        h = self.history
        if h:
            k = now % 3000  # one 300 ms flash per result, oldest first, in its grade's colour
            j = k // 500
            on = j < len(h) and k % 500 < 300
            colour = _GRADE_COLOUR[h[len(h) - 1 - j].grade - 1] if on else 0
            b.show(now, 50000 if on else 0, colour, 0)
            return
        if self.engine is not None and self.result:
            k = now % 3000  # the grade: 1-3 flashes of 150 ms every 3 s
            n = self.result
            on = k < n * 400 and k % 400 < 150
            b.show(now, 50000 if on else 0, _GRADE_COLOUR[n - 1] if on else 0, 0)
            return
        x = (now % 4000) // 16   # a 4 s breathing glow: the device is alive and waiting
        if x > 125:
            x = 250 - x
        lvl = 20 + x
        b.show(now, lvl * lvl, scale(_IDLE_BLUE, lvl, 145), 0)

    def _events(self):
        eng = self.engine
        if eng is None:
            return
        q = eng.q
        phase = False
        while True:
            off = q.pop()
            if off < 0:
                break
            kind = q.buf[off]
            if kind == ev.PHASE or kind == ev.SUMMARY:
                phase = True
                tr = self.trace
                rec = tr.record()    # the step that ended: before the summary, the last record
                if rec is not None:
                    self.store.append(rec)
                tr.begin(q.buf[off + 1], q.buf[off + 2] if kind == ev.PHASE else -1)
            line = eventfmt.event_line(q.buf, off, 0, eng.summary, eng.tl.name)
            self.proto.event(line)
            self.store.append(line)
            if kind == ev.CALIB:
                self.store.save_cal(self.user, q.buf[off + 3], self.wall.read(self.now))
        if phase:
            # flash writes stall the CPU on rp2: only at phase boundaries, never mid-phase
            self.store.flush()
            # the records just formatted and written are garbage now: collect it here, in the
            # tick that already waited for the flash, rather than let it build up until the
            # collector runs in some later tick (and the trace of a long step is 4-5 KB of it)
            collect()

    def _finished(self):
        self.store.end_session()
        eng = self.engine
        if eng is not None:
            self.result = eng.summary[S_GRADE]
            self._beep(880 if self.result == 3 else 440, 300)

    def _beep(self, hz, ms):
        buz = getattr(self.board, "buzzer", None)
        if buz is not None:
            buz.tone(hz, self.now, ms)

    def _button(self, btn, now):
        self._beep(2000 if btn == SHORT else 1500, 40)
        if self.history is not None:
            self.history = None   # any press leaves the results view
            return
        eng = self.engine
        if eng is not None and (eng.state == RUNNING or eng.state == PAUSED):
            if btn == SHORT:
                if eng.state == RUNNING:
                    eng.pause(self.el)
                else:
                    eng.resume(self.el)
            elif btn == LONG:
                self.stop()
            return
        if btn == SHORT:
            if self.selected == RESULTS:
                self._show_results()
                return
            try:
                self.start(self.selected)
            except ValueError as e:  # e.g. its file was corrupted since it was selected
                self.store.warn(str(e))
                self._select(_FIRST)
        elif btn == LONG:
            names = self.programs() + [RESULTS]
            i = names.index(self.selected) if self.selected in names else -1
            self.selected = names[(i + 1) % len(names)]
            self.blinks = (i + 1) % len(names) + 1
            self.blink_until = now + self.blinks * 400
        elif btn == VLONG:
            self.start("calibrate")

    def _show_results(self):
        from pacer_app import results
        self.blinks = 0
        self.history = results.load(self.store)
        if self.screen is not None:
            self.screen.lines(results.lines(self.history))
            self._show_screen(self.screen)

    # ---- the device interface (pacer_app.protocol) ----------------------------------------
    def status(self):
        eng = self.engine
        w = self.store.warnings
        st = "idle"
        d = {"version": VERSION, "board": self.board_name, "protocol": PROTOCOL,
             "selected": self.selected, "stream": self.stream, "inject": self.injecting,
             "free_bytes": self.store.free_bytes(), "user": self.user,
             "calibration": self.store.load_cal(self.user),
             "calibrations": self._calibrations(), "self_test": self.self_test or None,
             "warnings": len(w), "warning": w[-1] if w else None}
        if eng is not None:
            st = STATE_NAMES[eng.state]
            d["program"] = self.program_name
            d["step"] = eng.step
            d["t_ms"] = self.el
            d["target_cp"] = eng.target
            d["pressure_cp"] = eng.p
        d["state"] = st
        d["telemetry_dropped"] = self.tele.dropped
        d["clock"] = self.wall.read(self.now)
        d["session"] = self.store.session
        return d

    def _calibrations(self):
        """Every user's calibration on the board: {user: {"mvc_cp", "t"}}."""
        out = {}
        for u in self.store.cal_users():
            c = self.store.load_cal(u)
            if c is not None:
                out[u] = c
        return out

    def programs(self):
        return list(builtin.NAMES) + [n for n in self.store.program_names()
                                      if n not in builtin.NAMES]

    def _spec(self, name):
        if name in builtin.NAMES:
            return builtin.spec(name)
        spec = self.store.load_program(name)
        if spec is None:
            raise ValueError("no program %r; `programs list` shows them" % name)
        return spec

    def program_show(self, name):
        return self._spec(name)

    def program_push(self, spec):
        if spec.get("name") in builtin.NAMES:
            raise ValueError("%r is a built-in; give the custom program another name"
                             % spec.get("name"))
        err = self.store.save_program(spec["name"], spec)
        if err:
            raise ValueError(err[0])

    def program_delete(self, name):
        # a running session keeps its copy (the engine's timeline): it runs to its end
        if name in builtin.NAMES or not self.store.delete_program(name):
            raise ValueError("no custom program %r; `programs list` shows them" % name)
        self._select(self.selected)

    def start(self, name):
        eng = self.engine
        if eng is not None and (eng.state == RUNNING or eng.state == PAUSED):
            raise ValueError("a session is running; `stop` it first")
        try:
            tl = program.build(self._spec(name))
        except program.ProgramError as e:
            raise ValueError("program %r is invalid: %s" % (name, e.errors[0]))
        cal = self.store.load_cal(self.user)
        mvc = cal["mvc_cp"] if cal and not tl.has_mvc_steps else 0
        values = {}
        for k in FIELDS:
            if k in self.cfg:
                values[k] = self.cfg[k]
        self.engine = Engine(tl, Settings(values), mvc)
        self.trace.begin(0, -1)
        self.history = None
        self.program_name = name
        self.el = 0
        self.inj_t = -1
        self.store.begin_session(json.dumps({"program": name, "user": self.user,
                                             "board": self.board_name, "mvc_cp": mvc,
                                             "version": VERSION,
                                             "started": self.wall.read(self.now),
                                             "injected": self.injecting}))
        self.engine.start()

    def pause(self):
        self._need_running().pause(self.el)

    def resume(self):
        self._need_running().resume(self.el)

    def stop(self):
        eng = self._need_running()
        eng.stop(self.el)
        self._events()
        self._finished()
        self.board.outputs_off()

    def _need_running(self):
        eng = self.engine
        if eng is None or not (eng.state == RUNNING or eng.state == PAUSED):
            raise ValueError("no session is running; `start NAME` first")
        return eng

    def calibrate(self):
        self.start("calibrate")

    def config_get(self, key):
        return self.store.config_get(key)

    def config_set(self, key, value):
        if key == "program" and value not in self.programs():
            raise ValueError("program: no program %s; `programs list` shows them"
                             % json.dumps(value))
        if key == "user" and self.engine is not None and self.engine.state in (RUNNING, PAUSED):
            raise ValueError("user: `stop` the session first")   # its calibration is theirs
        r = self.store.config_set(key, value)
        if r:
            raise ValueError("; ".join([str(x) for x in r]))
        self.cfg = self.store.load_config()[0]
        # in effect at once, not at the next boot (loop_hz, which sets the loop period, is the
        # one setting that waits for a reset)
        self.stream = bool(self.cfg.get("stream", self.stream))
        self.user = self.cfg["user"]
        self._select(self.cfg["program"])
        return self.cfg.get(key, value)  # the stored value (the reply's "value")

    def clock_set(self, epoch):
        self.wall.set(epoch, self.now)

    def sessions(self):
        return self.store.sessions()

    def session_records(self, sid):
        return self.store.read_session(sid)

    def session_delete(self, sid):
        if not self.store.delete_session(sid):
            raise ValueError("no session %r; `sessions list` shows them" % sid)

    def set_stream(self, on):
        self.stream = on

    def set_inject(self, on):
        self.injecting = on

    def inject(self, t, p, abd):
        self.inj_p = p
        self.inj_abd = ABSENT if abd is None else abd
        eng = self.engine
        if eng is not None and (eng.state == RUNNING or eng.state == PAUSED):
            # The engine runs on the samples' clock (T_MS), not the board's: the same session
            # whether the host streams in real time or faster, on a board or a virtual one.
            dt = 0 if self.inj_t < 0 else t - self.inj_t
            self.inj_t = t
            self._step(dt, fault.OK, p, self.inj_abd)
