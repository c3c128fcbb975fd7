# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false
"""The virtual board's `time` module (installed as sys.modules["time"] before boot.py runs).

Every call goes to the host clock (clock.mjs): realtime or accelerated virtual time. Each call
is also where the host polls the serial port (Ctrl-C raises KeyboardInterrupt at the next
bytecode), checks the watchdog and flushes output. Semantics follow a 32-bit MicroPython port:
ticks_ms/ticks_us/ticks_cpu wrap at 2**30, ticks_add/ticks_diff are the port's own C functions
(same period), time() is whole seconds since 1970, localtime() == gmtime() (no time zone).
Not emulated: strftime (not in board firmware), time.time() returning a float.
"""
import time as _port  # the wasm port's module: pure conversions and ticks arithmetic

import _vbhost as _h

ticks_add = _port.ticks_add
ticks_diff = _port.ticks_diff
ticks_ms = _h.ticks_ms
ticks_us = _h.ticks_us
ticks_cpu = _h.ticks_cpu

world = None  # set by vb_boot when a vdev World exists: sleeps then fire machine.Timer callbacks


def _sleep_us(us):
    w = world
    if w is None or not w.timers:
        _h.sleep(us // 1000, us % 1000)
        return
    # Timers due during the sleep fire on time: sleep at most 1 ms at a stretch.
    while us > 0:
        step = 1000 if us > 1000 else us
        _h.sleep(0, step)
        w.run_timers()
        us -= step


def sleep_ms(ms):
    if ms >= 0:
        _sleep_us(ms * 1000)


def sleep_us(us):
    if us >= 0:
        _sleep_us(us)


def sleep(s):
    if s >= 0:
        _sleep_us(s * 1000000 if isinstance(s, int) else int(s * 1000000))


def time():
    return _h.epoch()


def time_ns():
    s = _h.epoch()
    return s * 1000000000 + _h.epoch_ns()


def gmtime(secs=None):
    return _port.gmtime(_h.epoch() if secs is None else secs)


def localtime(secs=None):
    return gmtime(secs)


def mktime(t):
    return _port.mktime(t)
