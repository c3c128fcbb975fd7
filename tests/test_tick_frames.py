"""No function that runs on a steady tick gets its frame from the heap on the chip.

On MicroPython a call whose frame is over 11 words is given one from the heap (tests/mpy_frames.py):
11-90 us a call on the RP2040, which is why the tick's big bodies are generators (pacer.engine).
The functions a steady tick calls (no phase change, no event, no button) are found by running
every built-in program on CPython for 90 s on the pico (MPX5010s, OLED) and two of them on the
boards with the other pressure drivers; their frames are read from mpy-cross's output. A steady
tick is where the time budget is spent 50 times a second; phase boundaries and redraws may
allocate (the chip bench measures them).

The same functions are checked to be marked @native, so that an RP2040 runs them as machine code
(host_tools/nativecode.py), but for the few BYTECODE lists."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ on sys.path

# isort: split
import ast
import os
import sys
import tempfile

import pytest

import board_cases as C
import mpy_frames
from pacer import builtin
from pacer.engine import PAUSED, RUNNING

FIRMWARE = hw_env.FIRMWARE
RUN_MS = 90000     # long enough for every program to go through each kind of step it has
# (board, programs): every program on one board; the sensor drivers of the others
RUNS = [("pico", builtin.NAMES), ("pico_w", ("kegel", "reverse-kegel")),
        ("pico2", ("kegel", "reverse-kegel"))]
# Called on steady ticks, over 11 words, and why that is accepted:
KNOWN = {
    # the OLED's redraw, 4 times a second; the frame then spends ~3 ms on the bus
    "pacer_app/app.py:App._draw": "4 Hz redraw",
    "pacer_hw/screen.py:Screen.draw": "4 Hz redraw",
    # Every tick of the steps they score, or of the board they drive, on the boards that run
    # bytecode (ESP32, RP2350): eight or nine inputs each, so as arguments the frame cannot
    # fit. On an RP2040 they are machine code, whose frame is on the C stack (below).
    "pacer/rep.py:RepScorer.update": "squeeze, flick and max steps: 17 words",
    "pacer/drop.py:DropScorer.update": "drop and push steps: 14 words",
    "pacer_hw/mprls.py:MPRLS.update": "pico_w's pressure sensor, two try blocks: 18 words",
}


# Called on steady ticks but left as bytecode on an RP2040 (not marked @native), and why:
BYTECODE = {
    # the redraw itself, 4 times a second: as machine code several times its bytecode's size,
    # which `pacer flash` puts in RAM (the page sent on each tick is machine code)
    "pacer_app/app.py:App._draw": "4 Hz redraw",
    "pacer_hw/screen.py:Screen.draw": "4 Hz redraw",
    "pacer_hw/screen.py:SSD1306.start_frame": "4 Hz redraw",
    "pacer_hw/screen.py:_digits": "4 Hz redraw",
    "pacer_hw/screen.py:_num": "4 Hz redraw",
    "pacer_hw/screen.py:_scale": "4 Hz redraw",
    "pacer_hw/_compat.py:_ticks_diff": "CPython's stand-in for time.ticks_diff, not on a board",
}
_CALLS = {}


def _steady_calls(board, programs):
    """{file:qualname} of firmware functions called on steady ticks of the programs."""
    key = (board, tuple(programs))
    if key not in _CALLS:
        _CALLS[key] = _trace_steady_calls(board, programs)
    return _CALLS[key]


def _trace_steady_calls(board, programs):
    seen = set()
    cur = set()

    def prof(frame, event, arg):
        if event == "call":
            co = frame.f_code
            if co.co_filename.startswith(FIRMWARE):
                cur.add("%s:%s" % (os.path.relpath(co.co_filename, FIRMWARE), co.co_qualname))

    for name in programs:
        w, app = C.make(board, tempfile.mkdtemp(), quiet=True)
        app.start(name)
        for _ in range(RUN_MS // C.TICK):
            if app.engine.state not in (RUNNING, PAUSED):
                break
            cur.clear()
            w.advance_ms(C.TICK)
            sys.setprofile(prof)
            app.tick(w.now_ms(), C.TICK)
            sys.setprofile(None)
            if not any(f.endswith(("App._events", "App._button")) for f in cur):
                seen |= cur
    return seen


@pytest.fixture(scope="module")
def frames():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for d, _, files in os.walk(FIRMWARE):
            for f in files:
                if f.endswith(".py"):
                    path = os.path.join(d, f)
                    rel = os.path.relpath(path, FIRMWARE)
                    for qual, v in mpy_frames.frames(path, tmp).items():
                        out["%s:%s" % (rel, qual)] = v
    return out


def test_the_frame_reader_sees_what_mpy_cross_makes(frames):
    # the engine's tick body is a generator with a big frame; its tick() is small
    assert frames["pacer/engine.py:Engine._body"][1] is True
    assert frames["pacer/engine.py:Engine._body"][0] > 30
    assert frames["pacer/engine.py:Engine.tick"] == (8, False)
    # a function with a try block pays two words for its handler
    assert frames["pacer_hw/mprls.py:MPRLS.update"][0] > 11


@pytest.mark.parametrize("board,programs", RUNS, ids=[b for b, _ in RUNS])
def test_no_heap_frame_on_a_steady_tick(frames, board, programs):
    calls = _steady_calls(board, programs)
    assert "pacer/engine.py:Engine.tick" in calls and len(calls) > 20
    big = sorted("%s (%d words)" % (f, frames[f][0]) for f in calls
                 if f in frames and not frames[f][1] and frames[f][0] > mpy_frames.MAX_STACK_WORDS
                 and f not in KNOWN)
    assert not big, "heap frames on steady ticks: " + ", ".join(big)


def _marked_native():
    """{file:qualname} of the firmware functions decorated @native (pacer._compat)."""
    out = set()

    def walk(node, rel, prefix):
        for n in ast.iter_child_nodes(node):
            if isinstance(n, ast.FunctionDef):
                if any(isinstance(d, ast.Name) and d.id == "native" for d in n.decorator_list):
                    out.add("%s:%s%s" % (rel, prefix, n.name))
                walk(n, rel, prefix + n.name + ".<locals>.")
            elif isinstance(n, ast.ClassDef):
                walk(n, rel, prefix + n.name + ".")

    for d, _, files in os.walk(FIRMWARE):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                with open(path, encoding="utf-8") as fh:
                    walk(ast.parse(fh.read()), os.path.relpath(path, FIRMWARE), "")
    return out


@pytest.mark.parametrize("board,programs", RUNS, ids=[b for b, _ in RUNS])
def test_every_function_of_a_steady_tick_is_machine_code_on_an_rp2040(board, programs):
    # host_tools/nativecode.py: what a tick runs is compiled to machine code for a Pico, which
    # is how its tick fits its 1 ms budget on the chip (docs/vboard.md); a new function on the
    # tick path left unmarked would run as bytecode there
    unmarked = sorted(_steady_calls(board, programs) - _marked_native() - set(BYTECODE))
    assert not unmarked, "steady-tick functions not marked @native: " + ", ".join(unmarked)
