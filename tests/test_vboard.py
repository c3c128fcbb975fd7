"""The virtual board driven by the real mpremote (from .venv) over its pseudo-terminal.

Every test boots its own board on its own flash folder under tmp_path, so tests are
independent and can run in parallel. Files are often put on the flash by writing the host
folder directly (the flash *is* that folder), which is what a board's previous session would
have left there.
"""
import hashlib
import json
import os
import pty
import select
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest
import serial

from host_tools.vboard import launcher
from host_tools.vboard import start as vb_start

ROOT = Path(__file__).resolve().parent.parent
MPREMOTE = ROOT / ".venv" / "bin" / "mpremote"

pytestmark = pytest.mark.skipif(not launcher.VM_MJS.is_file() or not MPREMOTE.is_file(),
                                reason="needs node_modules and .venv (make setup)")


def mpremote(vb, *args, timeout=30, check=True):
    r = subprocess.run([str(MPREMOTE), "connect", vb.port, *args], capture_output=True,
                       timeout=timeout)
    out = r.stdout.decode(errors="replace")
    if check and r.returncode != 0:
        raise AssertionError("mpremote %s failed (%d):\n%s\n%s\n--- board log ---\n%s"
                             % (" ".join(args), r.returncode, out,
                                r.stderr.decode(errors="replace"), vb.log_tail()))
    return out


def board_exec(vb, code, **kw):
    return mpremote(vb, "exec", code, **kw).replace("\r\n", "\n")


@pytest.fixture
def flash(tmp_path):
    d = tmp_path / "flash"
    d.mkdir()
    return d


@pytest.fixture
def boot(tmp_path, flash):
    boards = []

    def _boot(**kw):
        kw.setdefault("flash_dir", flash)
        kw.setdefault("log", tmp_path / ("vboard%d.log" % len(boards)))
        vb = vb_start(**kw)
        boards.append(vb)
        return vb

    yield _boot
    for vb in boards:
        vb.stop()


def read_until(port, marker, timeout=10.0):
    end = time.monotonic() + timeout
    out = b""
    while marker not in out:
        if time.monotonic() > end:
            raise AssertionError("no %r in %r" % (marker, out[-500:]))
        out += port.read(4096)
    return out


def test_exec_prints(boot):
    vb = boot()
    assert vb.port.startswith("/dev/pts/")
    out = board_exec(vb, "print('hello', 6 * 7)")
    assert out == "hello 42\n"


def test_fs_cp_both_ways_ls_rm_mkdir_and_sha256(boot, tmp_path):
    vb = boot()
    blob = os.urandom(5000) + bytes(range(256))
    src = tmp_path / "blob.bin"
    src.write_bytes(blob)
    mpremote(vb, "fs", "mkdir", ":logs")
    mpremote(vb, "fs", "cp", str(src), ":logs/blob.bin")
    ls = mpremote(vb, "fs", "ls", ":logs")
    assert "%d blob.bin" % len(blob) in ls
    assert "logs/" in mpremote(vb, "fs", "ls")
    out = mpremote(vb, "fs", "sha256sum", ":logs/blob.bin")
    assert hashlib.sha256(blob).hexdigest() in out
    back = tmp_path / "back.bin"
    mpremote(vb, "fs", "cp", ":logs/blob.bin", str(back))
    assert back.read_bytes() == blob
    mpremote(vb, "fs", "rm", ":logs/blob.bin")
    assert "blob.bin" not in mpremote(vb, "fs", "ls", ":logs")


def test_run_file_and_resume(boot, tmp_path):
    vb = boot()
    job = tmp_path / "job.py"
    job.write_text("x = 41\nprint('job', x + 1)\n")
    assert "job 42" in mpremote(vb, "run", str(job))
    # resume: no soft reset, so the globals of the last run are still there
    assert "41" in mpremote(vb, "resume", "exec", "print(x)")
    # without resume, mpremote soft-resets first: a fresh VM
    assert "NameError" in mpremote(vb, "exec", "print(x)", check=False)


def test_soft_reset_reruns_boot_and_main_and_flash_persists(boot, flash):
    (flash / "boot.py").write_text("print('boot.py ran')\n")
    (flash / "main.py").write_text(
        "with open('count.txt', 'a') as f:\n    f.write('x')\nprint('main.py ran')\n")
    vb = boot()
    with serial.Serial(vb.port, timeout=0.05) as port:
        port.write(b"\r")
        read_until(port, b">>> ")  # the first boot is done
        port.write(b"\x04")  # Ctrl-D in the friendly REPL: soft reset
        out = read_until(port, b"for more information.\r\n>>> ")
        assert b"MPY: soft reboot\r\nboot.py ran\r\nmain.py ran\r\n" in out
    assert (flash / "count.txt").read_text() == "xx"
    mpremote(vb, "soft-reset")  # raw-REPL soft reset: boot.py only, as on a board
    assert (flash / "count.txt").read_text() == "xx"
    vb.stop()
    vb2 = boot()  # a full stop/start with the same flash: main.py runs again
    deadline = time.monotonic() + 10
    while (flash / "count.txt").read_text() != "xxx":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "xxx" in board_exec(vb2, "print(open('count.txt').read())")


def test_ctrl_c_interrupts_main_loop(boot, flash):
    (flash / "main.py").write_text(
        "import time\nn = 0\nwhile True:\n    n += 1\n    time.sleep_ms(100)\n")
    for realtime in (False, True):
        vb = boot(realtime=realtime)
        time.sleep(0.3)  # main.py is looping
        # mpremote's Ctrl-C stops main.py; resume keeps main.py's globals
        n = int(mpremote(vb, "resume", "exec", "print(n)"))
        assert n > 0
        if realtime:
            assert n < 100  # 100 ms sleeps really took time
        else:
            assert n > 1000  # accelerated: virtual sleeps are instant
        vb.stop()


def test_repl_interactive(boot):
    vb = boot()
    pid, fd = pty.fork()
    if pid == 0:  # child: mpremote with a terminal
        os.execv(str(MPREMOTE), [str(MPREMOTE), "connect", vb.port, "repl"])
    try:
        out = b""

        def expect(marker, timeout=10):
            nonlocal out
            end = time.monotonic() + timeout
            while marker not in out:
                assert time.monotonic() < end, out[-500:]
                if select.select([fd], [], [], 0.1)[0]:
                    out += os.read(fd, 4096)

        expect(b"Connected to MicroPython")
        os.write(fd, b"\r")
        expect(b">>> ")
        os.write(fd, b"print(6 * 7)\r")
        expect(b"42\r\n")
        os.write(fd, b"\x1d")  # Ctrl-] leaves mpremote
        assert os.waitpid(pid, 0)[1] == 0
    finally:
        os.close(fd)


def test_errno_values_enoent_enospc_and_atomic_rename(boot):
    vb = boot(capacity=64 * 1024)
    out = board_exec(vb, "\n".join([
        "import os, errno",
        "try:",
        "    open('missing.txt')",
        "except OSError as e:",
        "    print('ENOENT', e.errno, errno.ENOENT)",
        "try:",
        "    os.mkdir('d'); os.mkdir('d')",
        "except OSError as e:",
        "    print('EEXIST', e.errno)",
        "print('statvfs', os.statvfs('/')[:4])",
        "n = 0",
        "try:",
        "    with open('big.bin', 'wb') as f:",
        "        for i in range(100):",
        "            f.write(bytes(1024))",
        "            n += 1024",
        "except OSError as e:",
        "    print('ENOSPC', e.errno, n)",
        "with open('a.txt', 'w') as f: f.write('old')",
        "with open('b.txt', 'w') as f: f.write('new')",
        "os.rename('b.txt', 'a.txt')",
        "print('renamed', open('a.txt').read(), 'b.txt' in os.listdir())",
    ]))
    assert "ENOENT 2 2" in out
    assert "EEXIST 17" in out
    assert "statvfs (4096, 4096, 16, 12)" in out  # root 2 blocks + "d" 2 blocks used
    line = [x for x in out.splitlines() if x.startswith("ENOSPC")][0]
    assert line.split()[1] == "28" and int(line.split()[2]) < 64 * 1024
    assert "renamed new False" in out


def test_power_cut_mid_write_keeps_last_commit(boot, flash):
    # main.py rewrites config.json atomically (tmp + rename) in a loop; the power is cut inside
    # the 7th flash write. Afterwards the config is one complete version, never a torn one.
    (flash / "config.json").write_text('{"v": 0}')
    (flash / "main.py").write_text("\n".join([
        "import os, json",
        "v = json.load(open('config.json'))['v']",
        "while True:",
        "    v += 1",
        "    with open('config.tmp', 'w') as f:",
        "        f.write('{\"v\": ')",
        "        f.write(str(v))",
        "        f.write('}')",
        "    os.rename('config.tmp', 'config.json')",
        "",
    ]))
    vb = boot(power_cut_at=7)
    assert vb.wait_power_cut(timeout=20) == 7
    assert not vb.alive
    cfg = json.loads((flash / "config.json").read_text())
    assert cfg == {"v": 2}  # writes 1-3 made v=1, 4-6 made v=2, write 7 died
    # the interrupted write's file was never committed (littlefs): empty
    assert (flash / "config.tmp").read_text() == ""
    vb.power_on()
    assert "PWRON 1" in board_exec(vb, "import machine\nprint('PWRON', machine.reset_cause())")


def test_unfed_watchdog_resets_board(boot, flash):
    (flash / "main.py").write_text("\n".join([
        "import machine, time",
        "with open('causes.txt', 'a') as f:",
        "    f.write('%d ' % machine.reset_cause())",
        "if machine.reset_cause() != machine.WDT_RESET:",
        "    wdt = machine.WDT(timeout=1000)",
        "    wdt.feed()",
        "    time.sleep_ms(500)",
        "    wdt.feed()",
        "    time.sleep_ms(3000)  # not fed in time",
        "    print('not reached')",
        "",
    ]))
    vb = boot()
    causes = flash / "causes.txt"
    deadline = time.monotonic() + 10
    while not causes.exists() or len(causes.read_text().split()) < 2:
        assert time.monotonic() < deadline, vb.log_tail()
        time.sleep(0.05)
    assert causes.read_text().split() == ["1", "3"]  # PWRON_RESET, WDT_RESET
    out = board_exec(vb, "import machine\nprint(machine.reset_cause() == machine.WDT_RESET)")
    assert out.strip() == "True"


def test_watchdog_catches_code_that_never_returns_to_host(boot):
    vb = boot()
    hang = "import machine\nw = machine.WDT(timeout=500)\nwhile True:\n    pass\n"
    proc = subprocess.Popen([str(MPREMOTE), "connect", vb.port, "exec", hang],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while "watchdog reset" not in vb.log_tail():  # after 2 s without a host call
            assert time.monotonic() < deadline, vb.log_tail()
            time.sleep(0.1)
    finally:
        # The pty stays after a reset (USB would vanish): mpremote keeps waiting, so stop it.
        proc.kill()
        proc.wait()
    assert "3" in board_exec(vb, "import machine\nprint(machine.reset_cause())")


def test_accelerated_time_runs_thirty_minutes_in_seconds(boot, tmp_path):
    vb = boot(record=tmp_path / "rec.jsonl", seed=1)
    job = tmp_path / "session.py"
    job.write_text("\n".join([
        "import time",
        "from machine import PWM, Pin",
        "motor = PWM(Pin(14), freq=20000)",
        "t0 = time.ticks_ms()",
        "last = time.ticks_us()",
        "wraps = n = 0",
        "while time.ticks_diff(time.ticks_ms(), t0) < 30 * 60 * 1000:",
        "    time.sleep_ms(10)",
        "    n += 1",
        "    if n % 6000 == 0:",
        "        motor.duty_u16(n // 6000 * 1000)",
        "        us = time.ticks_us()",
        "        wraps += us < last",
        "        last = us",
        "print(n, time.ticks_diff(time.ticks_ms(), t0))",
        "print('us wraps', wraps)",
        "",
    ]))
    t = time.monotonic()
    out = mpremote(vb, "run", str(job), timeout=60).replace("\r\n", "\n")
    elapsed = time.monotonic() - t
    assert "180000 1800000" in out
    assert "us wraps 1" in out  # ticks_us wraps at 2**30 us (17.9 min)
    assert elapsed < 20, "30 virtual minutes took %.1f s" % elapsed
    time.sleep(1.2)  # the recording is flushed at least every second
    rows = [json.loads(x) for x in (tmp_path / "rec.jsonl").read_text().splitlines()]
    motor = [r for r in rows if r["ch"] == "motor"]
    assert [r["v"] for r in motor] == [i * 1000 for i in range(1, 31)]
    steps = [b["t_ms"] - a["t_ms"] for a, b in zip(motor, motor[1:])]
    assert all(59990 <= s <= 60010 for s in steps)  # one minute apart on the board clock
    assert rows[0]["ch"] == "boot"


def test_stdin_poll_and_binary_stdout(boot, flash):
    # The firmware's serial idiom: poll stdin, read a byte at a time, binary replies.
    (flash / "main.py").write_text("\n".join([
        "import sys, select, time, micropython",
        "micropython.kbd_intr(-1)",
        "p = select.poll()",
        "p.register(sys.stdin, select.POLLIN)",
        "one = bytearray(1)",
        "line = bytearray()",
        "while True:",
        "    if not p.poll(0):",
        "        time.sleep_ms(1)",
        "        continue",
        "    sys.stdin.buffer.readinto(one)",
        "    if one[0] == 3:",
        "        sys.stdout.buffer.write(b'\\x00ctrl-c is data\\n')",
        "    elif one[0] == 10:",
        "        if line == b'quit':",
        "            break",
        "        sys.stdout.buffer.write(b'\\xff' + line + b'\\n')",
        "        line = bytearray()",
        "    else:",
        "        line.extend(one)",
        "print('bye')",
        "",
    ]))
    vb = boot()
    with serial.Serial(vb.port, timeout=0.05) as port:
        time.sleep(0.2)
        port.write(b"ping\n")
        assert b"\xffping\n" in read_until(port, b"ping\n")  # binary: no \r added
        port.write(b"\x03")
        assert b"\x00ctrl-c is data\n" in read_until(port, b"is data\n")
        port.write(b"quit\n")
        assert b"bye\r\n" in read_until(port, b">>> ")


def test_cli_prints_port_first(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "host_tools.vboard", "--flash-dir",
                             str(tmp_path / "flash"), "--log", str(tmp_path / "cli.log")],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/pts/")
        log = tmp_path / "cli.log"
        vb = types.SimpleNamespace(port=port, log_tail=lambda: log.read_text())
        deadline = time.monotonic() + 10
        while True:  # the CLI does not wait for the boot before printing the port
            try:
                assert board_exec(vb, "print(1 + 1)", timeout=10).strip() == "2"
                break
            except AssertionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_accelerated_runs_are_deterministic_for_a_seed(boot, tmp_path):
    (tmp_path / "flash").joinpath("main.py").write_text("\n".join([
        "import random, time, machine",
        "adc = machine.ADC(26)",
        "out = []",
        "for i in range(20):",
        "    time.sleep_ms(37)",
        "    out.append((time.ticks_us(), adc.read_u16(), random.getrandbits(16)))",
        "with open('trace.txt', 'w') as f:",
        "    f.write(repr(out))",
        "",
    ]))
    traces = []
    for seed in (5, 5, 6):
        for p in tmp_path.joinpath("flash").glob("trace.txt"):
            p.unlink()
        vb = boot(seed=seed, persona="typical")
        trace = tmp_path / "flash" / "trace.txt"
        deadline = time.monotonic() + 10
        while not trace.exists() or not trace.read_text().endswith("]"):
            assert time.monotonic() < deadline, vb.log_tail()
            time.sleep(0.05)
        traces.append(trace.read_text())
        vb.stop()
    assert traces[0] == traces[1]
    assert traces[0] != traces[2]
