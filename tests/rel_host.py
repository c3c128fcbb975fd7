"""Host side: corrupt or truncated files give one-line errors (no traceback) from the `pacer`
CLI, and an interrupted `pacer flash` (power cut inside a flash write on the virtual board)
never leaves a half-written build running: the board stays out of the app until the next
`pacer flash` finishes the job."""
import subprocess
import sys
from pathlib import Path

import rel_rig as R

PACER = [sys.executable, "-m", "host_tools.cli"]
GOOD_CSV = "t_ms,pressure_cmH2O\n" + "".join("%d,%.2f\n" % (i * 20, 15.0) for i in range(200))


def _pacer(*args, timeout=120):
    r = subprocess.run(PACER + list(args), capture_output=True, text=True, cwd=str(R.ROOT),
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def cli_errors(tmp):
    """[(what, ok, detail)] for damaged inputs to `pacer replay`."""
    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "good.csv").write_text(GOOD_CSV)
    cases = {
        "truncated.csv": GOOD_CSV[: len(GOOD_CSV) // 2 - 3] + "12,",
        "binary.csv": bytes(range(256)).decode("latin-1"),
        "empty.csv": "",
        "inf.csv": "t_ms,pressure_cmH2O\n0,1\ninf,2\n",
        "header-only.csv": "t_ms,pressure_cmH2O\n",
    }
    out = []
    for name, text in cases.items():
        (tmp / name).write_bytes(text.encode("latin-1"))
        rc, so, se = _pacer("replay", str(tmp / name), "--program", "kegel")
        ok = "Traceback" not in se and (rc == 0 or len(se.strip().splitlines()) == 1)
        out.append((name, ok, "rc %d: %s" % (rc, se.strip()[:120])))
    prog = tmp / "truncated-program.json"
    prog.write_text('{"name": "mine", "blocks": [{"steps": [{"s": 10, "ro')
    rc, so, se = _pacer("replay", str(tmp / "good.csv"), "--program", str(prog))
    out.append(("truncated program", rc != 0 and "Traceback" not in se
                and len(se.strip().splitlines()) == 1, "rc %d: %s" % (rc, se.strip()[:120])))
    rc, so, se = _pacer("replay", str(tmp / "missing.csv"), "--program", "kegel")
    out.append(("missing file", rc != 0 and "Traceback" not in se,
                "rc %d: %s" % (rc, se.strip()[:120])))
    return out


def flash_available():
    return (R.ROOT / "host_tools" / "commands" / "flash.py").is_file()


def flash_interrupted(tmp, cuts=(5, 40)):
    """Power cut at flash write n during `pacer flash`; then the board must not run a partial
    build, and a second `pacer flash` must finish it. Returns [(n, ok, detail)]."""
    from host_tools.vboard import start as vb_start
    tmp = Path(tmp)
    out = []
    for n in cuts:
        flash = tmp / ("flash-%d" % n)
        flash.mkdir(parents=True, exist_ok=True)
        vb = vb_start(board="pico", flash_dir=flash, power_cut_at=n, log=tmp / ("vb%d.log" % n))
        try:
            rc, so, se = _pacer("flash", "--port", vb.port, "--board", "pico",
                                "--build-dir", str(tmp / "build"), timeout=180)
            cut = not vb.alive
            if not cut:
                out.append((n, True, "flash needed fewer than %d writes (rc %d)" % (n, rc)))
                continue
            first_err = se.strip().splitlines()[-1:] if se.strip() else []
            clean_error = rc != 0 and "Traceback" not in se
            vb.power_on()
            link = R.Link(vb.port)
            try:
                # a half-flashed board must not start the app
                import time
                end = time.monotonic() + 3
                while time.monotonic() < end:
                    link.pump()
                app_started = any(R.is_boot(x) for x in link.lines)
                partial = (flash / "build.partial").exists()
            finally:
                link.close()
            rc2, so2, se2 = _pacer("flash", "--port", vb.port, "--board", "pico",
                                   "--build-dir", str(tmp / "build"), timeout=180)
            link = R.Link(vb.port)
            try:
                m = link.mark()
                # after the finishing run the board boots the app (its boot event)
                link.wait_after(m, R.is_boot, 30, "app boot after the second flash")
                st = link.command("status")
            finally:
                link.close()
            ok = (clean_error and (not app_started or not partial) and rc2 == 0 and st["ok"]
                  and not (flash / "build.partial").exists())
            out.append((n, ok, "cut: rc %d %s; partial left %s, app started %s; rerun rc %d"
                        % (rc, first_err, partial, app_started, rc2)))
        except Exception as e:  # noqa: BLE001 - reported
            out.append((n, False, "%s: %s" % (type(e).__name__, str(e)[:200])))
        finally:
            vb.stop()
    return out
