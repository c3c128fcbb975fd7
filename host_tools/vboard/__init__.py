"""The virtual board: the real MicroPython 1.29 VM (npm wasm port under Node) hosting the
firmware as a board would, on a pseudo-terminal that the unmodified mpremote can use.

    from host_tools.vboard import start
    with start(board="pico", flash_dir="flash") as vb:
        print(vb.port)            # /dev/pts/N: mpremote connect /dev/pts/N exec/run/fs/repl ...

    python -m host_tools.vboard --flash-dir flash [--realtime] [--record out.jsonl] ...

Files: launcher.py (pty, Node process, power; the CLI), board.mjs (supervisor: one worker per
boot, watchdog for hung code), vm.mjs (one boot: the VM, serial streams, REPL, raw-paste,
resets), serial.mjs (pty I/O), clock.mjs (realtime or virtual time), flash.mjs (host-folder
flash: capacity, littlefs-like commits, power cuts), py/ (run inside the VM: vb_boot,
vb_time, vb_flash, vb_wiring).

Emulated: USB serial (output dropped while no program has the port open, as with DTR low;
\\r\\n for text, binary-safe sys.stdout.buffer), friendly/raw/raw-paste REPL, Ctrl-C,
micropython.kbd_intr, Ctrl-D soft reset, boot.py then main.py (main.py only after a soft reset
in the friendly REPL, as on a board), select.poll/ipoll on sys.stdin and sys.stdout, input(),
flash at "/" (cwd "/", sys.path ["", ".frozen", "/lib"]) with MicroPython errno values,
capacity/ENOSPC, atomic rename, statvfs, power cuts, the vdev `machine` module and World,
watchdog, reset causes, ticks wrapping at 2**30, realtime or accelerated deterministic time,
os.uname() of the board, an outputs timeline (JSONL).

Resets: Ctrl-D / SystemExit keep reset_cause and the tick counters (as rp2 does);
machine.soft_reset() -> SOFT_RESET; machine.reset() -> HARD_RESET and deepsleep() ->
DEEPSLEEP_RESET (the vdev module's choices); an unfed WDT -> WDT_RESET; power on -> PWRON_RESET.
Hard resets restart the tick counters and the friendly REPL; the RTC keeps running.

Not emulated / limits:
- Ctrl-C and the watchdog act when Python calls the host (time, sleeps, stdin, poll, files);
  a loop that never does cannot be interrupted, and only the supervisor's real-time watchdog
  check (2 s without any host call in virtual mode) resets it.
- The pty survives resets: where USB would vanish and reappear, a connected mpremote keeps
  waiting (it sees the boot banner).
- Code execution costs no virtual time (use tick_cost_us for busy-waits on ticks).
- The wasm port only collects garbage when control returns to the host, so a long main.py
  grows memory instead of collecting, and MemoryError is not emulated (use host_tools.mpvm for
  heap budgets). About 10 MB per 30 virtual minutes of the pacer firmware.
- sys.platform is "webassembly" and sys.implementation is the port's (read-only in the VM):
  firmware that picks its board from sys.platform needs a board.txt on the flash.
- .mpy files load (bytecode), but not native/viper code compiled for a board's architecture,
  and @micropython.native/viper are a SyntaxError in this port; no threads, network, bluetooth.
- Raw-paste code containing the bytes 0x01-0x04 is mangled (the raw REPL sees them).
"""
from .launcher import VBoard, VBoardError, start

__all__ = ["VBoard", "VBoardError", "start"]
