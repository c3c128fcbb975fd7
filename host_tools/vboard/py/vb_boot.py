# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false
"""Boot of the virtual board, run once per (re)start of the VM, before boot.py.

1. sys.stdout.buffer / sys.stderr.buffer are re-pointed at the host's binary stdout, so text
   output (print, sys.stdout.write) gets \\r\\n line ends like a board while buffer writes stay
   binary-safe (see vm.mjs).
2. sys.modules["time"] = vb_time (virtual clock); builtins.input reads the serial port.
3. The vdev World and virtual `machine` (vb_wiring), when host_tools/vdev is present.
4. The in-memory helper folder is unmounted and the flash (vb_flash.Flash) is mounted at "/",
   cwd "/", sys.path ["", ".frozen", "/lib"] as on a Pico. Everything the board needs from the
   helper folder is imported before that, so none of it is visible on the board's filesystem.
run_file() then runs boot.py / main.py the way pyexec_file does on a board.
"""
import json
import os
import sys

import _vbhost as _h
import micropython
import vfs


def _input(prompt=""):
    if prompt:
        sys.stdout.write(prompt)
    line = bytearray()
    while True:
        c = sys.stdin.buffer.read(1)
        b = c[0] if c else 4
        if b == 13 or b == 10:
            sys.stdout.write("\n")
            return str(line, "utf-8")
        if b == 3:
            raise KeyboardInterrupt
        if b == 4 and not line:
            raise EOFError
        if b == 8 or b == 127:
            if line:
                line.pop()
                sys.stdout.write("\b \b")
        elif b >= 32:
            line.append(b)
            sys.stdout.buffer.write(c)


def _uname(cfg):
    from collections import namedtuple

    prof = cfg["profile"]
    port = prof.get("port", "rp2")
    u = namedtuple("uname_result", ("sysname", "nodename", "release", "version", "machine"))(
        port, port, "1.29.0", "v1.29.0 on 2026-08-25 (vboard)",
        "%s with %s" % (cfg["title"], prof.get("chip", "rp2040").upper()))
    os.uname = lambda: u


def boot():
    cfg = json.loads(_h.config())
    _h.patch_fd(id(sys.stdout.buffer), 1)
    _h.patch_fd(id(sys.stderr.buffer), 2)

    import vb_time

    sys.modules["time"] = vb_time
    import builtins

    builtins.input = _input
    _uname(cfg)
    import vb_flash

    if cfg["vdev"]:
        try:
            import vb_wiring

            vb_time.world = vb_wiring.build(cfg)
        except Exception as e:  # noqa: BLE001 - a board without its machine still has a REPL
            _h.log("vboard: no virtual machine module: %r" % e)
    # The simulated person may have used the host's copy of the engine: firmware imports its own.
    for name in list(sys.modules):
        if name == "pacer" or name.startswith("pacer."):
            del sys.modules[name]
    vfs.umount("/")
    vfs.mount(vb_flash.Flash(), "/")
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/lib"]


def _clear_pending():
    # A Ctrl-C that arrived just as the file ended must not hit the REPL later.
    try:
        i = 0
        while i < 2:
            i += 1
    except KeyboardInterrupt:
        pass


def run_file(name, g):
    """Like pyexec_file: run the file in __main__ with Ctrl-C enabled, print an exception's
    traceback, report 0x100 ("soft reset") for SystemExit."""
    r = 0
    micropython.kbd_intr(3)  # before the file is even opened: no Ctrl-C may slip into stdin
    try:
        try:
            f = open(name)
        except OSError:
            f = None
        if f is not None:
            with f:
                src = f.read()
            code = compile(src, name, "exec")
            src = None
            g["__file__"] = name
            exec(code, g)
    except SystemExit:
        r = 0x100
    except BaseException as e:  # noqa: BLE001 - pyexec prints every exception
        sys.print_exception(e)
    finally:
        micropython.kbd_intr(-1)
    _clear_pending()
    _h.result(r)
