"""Power cuts inside the flash operations of the emulated RP2040, on the official MicroPython rp2
image's own littlefs (the C littlefs of the port, not a model of it).

A reboot per cut is too slow on the emulator (about 0.3x real time), so the cuts are rebuilt
from a journal instead:

1. base: the firmware on a fresh Pico flash with `pacer flash --board pico` (real, once), then a
   custom program, a config and one session run by the app on the chip: the earlier data.
2. record: the chip boots on a copy of the base with a flash journal (rp2040/chip.mjs
   config.journal: every erase/program with its data) and a host runs the workload over the
   pacer protocol: `config set` x2, a session of program p, `config set` x2. The host notes how
   many operations the journal held when it sent each command and when the reply came, so it
   knows for every operation what the board had acknowledged before it.
3. cuts: for a cut inside operation j, the flash is the base with operations 1..j-1 applied and
   j partly done (flashjournal.replay; the chip's own injected cut does the first half, random
   cuts here do a random prefix of the bytes). Replaying the whole journal must give the chip's
   final flash byte for byte, or nothing here is trusted.
4. checks, host side on every cut (littlefs-python mounts the filesystem region; the firmware's
   own Store reads the files): the filesystem mounts, every earlier session is byte-identical,
   the custom program is intact, the config is the last acknowledged one or the one being saved
   at the cut (never defaults on corruption), the session being written has only valid records,
   each a prefix of what the session finally held, and a session the board had finished is
   whole with its summary.
5. checks on the chip, for a sample of the cuts: the official image boots on the rebuilt flash
   (its _boot.py would format a filesystem it cannot mount, which loses the firmware: the app
   would not answer), then over the pacer protocol `config get`, `sessions list` and
   `sessions get` must say what the host-side reading said, record for record.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import littlefs

from host_tools import device
from host_tools.vboard import flashjournal, rp2040
from pacer_app.storage import Store

ROOT = Path(__file__).resolve().parent.parent
# The Pico's filesystem: the last 1408 KB of the 2 MB flash, littlefs v2 with 4 KB blocks, as the
# rp2 image's _boot.py makes it (os.VfsLfs2(bdev, progsize=256); MicroPython reads 32 B at a time)
FS_BYTES = 1408 * 1024
FS_OFFSET = rp2040.FLASH_BYTES - FS_BYTES
LFS = {"block_size": 4096, "block_count": FS_BYTES // 4096, "read_size": 32, "prog_size": 256}
# The board is slow: `pacer flash` gets its timeouts stretched as `pacer test` on the chip does,
# and the link here waits up to WAIT s for a reply. Only a guard against a hang: a loaded machine
# is slow, not wrong.
SLOWDOWN = "60"
WAIT = 300.0

PROGRAM = {"name": "p", "blocks": [{"steps": [{"s": 2, "role": "baseline"}]},
                                   {"reps": 2, "steps": [{"s": 1, "muscle": "squeeze"},
                                                         {"s": 1, "muscle": "release"}]}]}
BASE_CONFIG = {"target_pct": 55}
CONFIGS_BEFORE = [("target_pct", 60), ("vibration_pct", 75)]
CONFIGS_AFTER = [("target_pct", 45), ("vibration_pct", 85)]


class ChipError(Exception):
    pass


# -- littlefs images ---------------------------------------------------------------------------

def lfs_mount(flash: bytes) -> littlefs.LittleFS:
    """The Pico's filesystem in a flash image (a copy: mounting never changes flash). Raises
    littlefs.LittleFSError if it does not mount."""
    ctx = littlefs.UserContext(buffer=bytearray(flash[FS_OFFSET:]))
    fs = littlefs.LittleFS(context=ctx, mount=False, **LFS)
    fs.mount()
    return fs


def lfs_files(flash: bytes) -> dict[str, bytes]:
    """Every file of the filesystem: {"sessions/00001.log": bytes, ...}."""
    fs = lfs_mount(flash)
    out = {}
    for top, _dirs, names in fs.walk("/"):
        for name in names:
            path = (top.rstrip("/") + "/" + name).lstrip("/")
            with fs.open(path, "rb") as f:
                out[path] = f.read()
    return out


def host_image(files: dict[str, bytes]) -> bytes:
    """A Pico flash: the official image, then a littlefs made here holding files (the quick
    stand-in for `pacer flash` that the fast test uses; the image's _boot.py mounts it)."""
    flash = bytearray(b"\xff" * rp2040.FLASH_BYTES)
    img = rp2040.IMAGE.read_bytes()
    flash[:len(img)] = img
    ctx = littlefs.UserContext(buffer=bytearray(b"\xff" * FS_BYTES))
    fs = littlefs.LittleFS(context=ctx, mount=False, **LFS)
    fs.format()
    fs.mount()
    for path in sorted(files):
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            d = "/".join(parts[:i])
            if d not in fs.listdir("/" + "/".join(parts[:i - 1])):
                fs.mkdir(d)
        with fs.open(path.strip("/"), "wb") as f:
            f.write(files[path])
    fs.unmount()
    flash[FS_OFFSET:] = ctx.buffer
    return bytes(flash)


def firmware_files(board="pico") -> dict[str, bytes]:
    """What `pacer flash --board pico` puts on a fresh board (its own build function)."""
    from host_tools import nativecode
    from host_tools.commands import flash
    from pacer_hw import profiles
    profile = profiles.get(board)
    # the official rp2 port loads armv6m machine code: the build `pacer flash` makes for it
    files = {p.lstrip("/"): d for p, d in
             flash.build(profile, str(ROOT / "build" / "flash"),
                         nativecode.wanted(profile["arch"])).items()}
    files["board.txt"] = (board + "\n").encode()
    return files


def earlier_files(folder) -> dict[str, bytes]:
    """Config, program and one finished session written by the firmware's Store on CPython."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    st = Store(os, str(folder))
    assert st.save_config(BASE_CONFIG) == []
    assert st.save_program("p", PROGRAM) == []
    st.begin_session({"program": "p", "user": "default", "board": "pico", "mvc_cp": 0})
    for i in range(5):
        st.append('{"t_ms": %d, "type": "phase", "step": %d}' % (i * 1000, i))
    st.append('{"t_ms": 6000, "type": "summary", "program": "p", "completed": true}')
    st.end_session()
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


# -- the chip ----------------------------------------------------------------------------------

def _env():
    env = dict(os.environ)
    env[device.SLOWDOWN_ENV] = SLOWDOWN
    return env


def _connect(chip):
    try:
        return device.Device.connect(chip.port, timeout=WAIT)
    except Exception as e:  # noqa: BLE001 - the reason goes into the failure
        raise ChipError("the app does not answer: %s" % str(e).splitlines()[0][:200])


def _cmd(dev, text):
    return dev.command(text, timeout=WAIT)


def _run_session(dev, program):
    _cmd(dev, "start %s" % program)
    # poll the state: events can be dropped by a busy link, replies are not
    while _cmd(dev, "status")["state"] != "done":
        time.sleep(0.2)


def base_flash(work, log=print) -> bytes:
    """The firmware by `pacer flash` on a fresh emulated Pico, then as a previous day left it: a
    custom program, a config and one session, all by the app on the chip. The flash bytes."""
    work = Path(work)
    chip = rp2040.start(work / "base", log=work / "base.log")
    try:
        t = time.monotonic()
        r = subprocess.run([sys.executable, "-m", "host_tools.cli", "flash", "--port", chip.port,
                            "--board", "pico"], cwd=ROOT, capture_output=True, text=True,
                           env=_env())
        if r.returncode != 0:
            raise ChipError("pacer flash failed: %s\n%s" % (r.stdout + r.stderr, chip.log_tail()))
        log("pacer flash: %.0f s" % (time.monotonic() - t))
        with _connect(chip) as dev:
            _cmd(dev, "programs push %s" % json.dumps(PROGRAM))
            for k, v in BASE_CONFIG.items():
                _cmd(dev, "config set %s %s" % (k, json.dumps(v)))
            _run_session(dev, "p")
        chip.power_cut()
    finally:
        chip.stop()
    return (work / "base" / "flash.bin").read_bytes()


class Timeline:
    """What the host saw during the recorded workload, in journal operations: for each command,
    how many operations were complete when it was sent and when its reply came."""

    def __init__(self, base_config):
        self.base_config = base_config
        self.configs = []     # (sent_ops, acked_ops, {key: value})
        self.sessions = []    # (started_ops, done_ops, id)

    def to_json(self):
        return {"base_config": self.base_config, "configs": self.configs,
                "sessions": self.sessions}

    @classmethod
    def from_json(cls, d):
        t = cls(d["base_config"])
        t.configs = [tuple(c) for c in d["configs"]]
        t.sessions = [tuple(s) for s in d["sessions"]]
        return t

    def allowed_configs(self, j):
        """The configs a cut inside operation j may leave: the last one acknowledged before it,
        and the one being saved if the cut fell inside its save."""
        cur = dict(self.base_config)
        inflight = None
        for sent, acked, cfg in self.configs:
            if acked < j:
                cur.update(cfg)
            elif sent < j:
                inflight = dict(cur, **cfg)
        return [cur] + ([inflight] if inflight is not None else [])

    def during(self, j):
        """What operation j was part of: "config" (a save), "session" (its log) or "other"."""
        if any(sent < j <= acked for sent, acked, _ in self.configs):
            return "config"
        if any(started < j <= done for started, done, _ in self.sessions):
            return "session"
        return "other"

    def finished_sessions(self, j):
        return [sid for (_s, done, sid) in self.sessions if done < j]


def record(base: bytes, work, configs_before=CONFIGS_BEFORE, configs_after=CONFIGS_AFTER,
           session=True, log=print):
    """Boot on base with a flash journal and run the workload. Returns (ops, timeline, final
    flash); the journal is work/journal.bin."""
    work = Path(work)
    flash_dir = work / "rec"
    flash_dir.mkdir(parents=True, exist_ok=True)
    (flash_dir / "flash.bin").write_bytes(base)
    jpath = work / "journal.bin"
    if jpath.exists():
        jpath.unlink()
    tl = Timeline(_config_of(lfs_files(base)))
    n_ops = lambda: len(flashjournal.read(jpath)) if jpath.exists() else 0  # noqa: E731
    chip = rp2040.start(flash_dir, log=work / "rec.log", journal=jpath)
    try:
        with _connect(chip) as dev:
            def config_set(key, value):
                sent = n_ops()
                r = _cmd(dev, "config set %s %s" % (key, json.dumps(value)))
                assert r["value"] == value, r
                tl.configs.append((sent, n_ops(), {key: value}))
            for k, v in configs_before:
                config_set(k, v)
            if session:
                before = {s["id"] for s in _cmd(dev, "sessions list")["sessions"]}
                started = n_ops()
                _run_session(dev, "p")
                # finished: its log holds the summary (the board's own reading says so)
                new = []
                while not (len(new) == 1 and new[0]["summary"]):
                    new = [s for s in _cmd(dev, "sessions list")["sessions"]
                           if s["id"] not in before]
                    assert len(new) <= 1, new
                done = n_ops()
                tl.sessions.append((started, done, new[0]["id"]))
            for k, v in configs_after:
                config_set(k, v)
        chip.power_cut()
    finally:
        chip.stop()
    ops = flashjournal.read(jpath)
    final = (flash_dir / "flash.bin").read_bytes()
    log("recorded %d flash operations (%d erases)" % (len(ops), sum(o.kind == "E" for o in ops)))
    return ops, tl, final


# -- checks ------------------------------------------------------------------------------------

def _config_of(files):
    """The stored config's own settings (config.json, else config.bak), as raw JSON."""
    for name in ("config.json", "config.bak"):
        try:
            v = json.loads(files[name])
        except (KeyError, ValueError):
            continue
        if isinstance(v, dict):
            return v
    return {}


def _key(cfg):
    """What the workload changes, with the defaults filled in."""
    from pacer_app.config import defaults
    v = dict(defaults())
    v.update(cfg)
    return (v["target_pct"], v["vibration_pct"])


def read_host(flash: bytes, tmp) -> dict:
    """What the firmware's Store reads from the filesystem of a flash image (mounted by
    littlefs-python): files, config, warnings and every session's records."""
    files = lfs_files(flash)
    tmp = Path(tmp)
    shutil.rmtree(tmp, ignore_errors=True)
    for path, data in files.items():
        (tmp / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp / path).write_bytes(data)
    tmp.mkdir(parents=True, exist_ok=True)
    st = Store(os, str(tmp))
    cfg, warnings = st.load_config()
    sessions = {}
    for sid, _size, has in st.sessions():
        rd = st.read_session(sid)
        recs = list(rd) if rd is not None else []
        if rd is not None:
            rd.close()
        sessions[sid] = {"records": recs, "bad": rd.bad if rd else -1,
                         "torn": rd.torn if rd else -1, "summary": has}
    shutil.rmtree(tmp, ignore_errors=True)
    return {"files": files, "config": cfg, "warnings": warnings, "sessions": sessions}


def check_host(flash: bytes, j, tl: Timeline, base_files, final_view, tmp) -> tuple[list, dict]:
    """Errors (one line each) of the flash left by a cut inside operation j, and what was read."""
    try:
        view = read_host(flash, tmp)
    except littlefs.LittleFSError as e:
        return ["littlefs does not mount: %s" % e], {}
    errors = []
    files = view["files"]
    for path, data in base_files.items():
        if path.startswith(("sessions/", "programs/")) and path.endswith((".log", ".json")) \
                and path != "sessions/next.json" and files.get(path) != data:
            errors.append("%s changed or lost" % path)
    allowed = [_key(c) for c in tl.allowed_configs(j)]
    if _key(view["config"]) not in allowed:
        errors.append("config %r, want one of %r" % (_key(view["config"]), allowed))
    if any("no good copy" in w for w in view["warnings"]):
        errors.append("config: %s" % "; ".join(view["warnings"]))
    finished = tl.finished_sessions(j)
    for sid, s in view["sessions"].items():
        final = final_view["sessions"].get(sid)
        if s["bad"]:
            errors.append("session %d: %d bad records" % (sid, s["bad"]))
        if final is not None and s["records"] != final["records"][:len(s["records"])]:
            errors.append("session %d: records differ from what it finally held" % sid)
    for sid in finished:
        s = view["sessions"].get(sid)
        if s is None or not s["summary"] or s["torn"] or \
                s["records"] != final_view["sessions"][sid]["records"]:
            errors.append("finished session %d lost or incomplete" % sid)
    return errors, view


def read_chip(flash: bytes, folder) -> dict:
    """Boot the official image on flash; what the app says over the pacer protocol."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "flash").mkdir(parents=True)
    (folder / "flash" / "flash.bin").write_bytes(flash)
    chip = rp2040.start(folder / "flash", log=folder / "chip.log")
    try:
        with _connect(chip) as dev:
            cfg = _cmd(dev, "config get")["config"]
            sessions = {}
            for s in _cmd(dev, "sessions list")["sessions"]:
                raw = []
                reply = dev.send("sessions get %d" % s["id"], timeout=WAIT, records=[], raw=raw)
                sessions[s["id"]] = {"records": raw, "reply": reply, "summary": s["summary"]}
        return {"config": cfg, "sessions": sessions}
    finally:
        chip.stop()
        shutil.rmtree(folder, ignore_errors=True)


def check_chip(flash: bytes, host_view: dict, folder) -> list:
    """Errors: where the chip's reading of flash differs from the host's (already checked)."""
    try:
        got = read_chip(flash, folder)
    except (ChipError, device.CliError, rp2040.VBoardError) as e:
        return ["chip: %s" % str(e).splitlines()[0][:300]]
    errors = []
    if _key(got["config"]) != _key(host_view["config"]):
        errors.append("chip config %r, host read %r" % (_key(got["config"]),
                                                         _key(host_view["config"])))
    want = host_view["sessions"]
    if sorted(got["sessions"]) != sorted(want):
        errors.append("chip sessions %r, host read %r" % (sorted(got["sessions"]), sorted(want)))
    for sid, s in got["sessions"].items():
        w = want.get(sid)
        if w is None:
            continue
        if s["records"] != w["records"] or s["summary"] != w["summary"] or \
                not s["reply"].get("ok") or s["reply"].get("bad"):
            errors.append("chip session %d: %d records %r, host read %d"
                          % (sid, len(s["records"]), s["reply"], len(w["records"])))
    return errors


# -- the run -----------------------------------------------------------------------------------

def cut_points(ops, n, seed=0):
    """At least n cuts: every operation cut half way (the chip's own cut), then random
    operations cut after a random number of bytes. [(j, done)]."""
    rnd = random.Random(seed)
    cuts = [(j, ops[j - 1].count >> 1) for j in range(1, len(ops) + 1)]
    while len(cuts) < n:
        j = rnd.randint(1, len(ops))
        cuts.append((j, rnd.randint(0, ops[j - 1].count)))
    return cuts


def verify(base, ops, tl, final, cuts, chip_sample, work, jobs=2, seed=0, log=print):
    """Check every cut host side and chip_sample of them on the chip. Returns the figures."""
    work = Path(work)
    base_files = lfs_files(base)
    final_view = read_host(final, work / "host-final")
    failures = []
    views = {}
    t = time.monotonic()
    for j, done in cuts:
        flash = flashjournal.replay(base, ops, cut=j, done=done)
        errs, view = check_host(flash, j, tl, base_files, final_view, work / "host")
        if errs:
            failures.append({"op": j, "done": done, "where": "host", "errors": errs})
        views[(j, done)] = view
    host_s = time.monotonic() - t
    log("host side: %d cuts in %.0f s, %d failed" % (len(cuts), host_s, len(failures)))
    rnd = random.Random(seed + 1)
    sample = rnd.sample(cuts, min(chip_sample, len(cuts)))
    t = time.monotonic()

    def one(i_cut):
        i, (j, done) = i_cut
        view = views[(j, done)]
        if not view:
            return (j, done, ["not checked: host side does not mount"])
        flash = flashjournal.replay(base, ops, cut=j, done=done)
        errs = check_chip(flash, view, work / ("chip%d" % i))
        log("chip: cut in op %d (%s, %d of %d bytes): %s"
            % (j, ops[j - 1].kind, done, ops[j - 1].count, "; ".join(errs) or "ok"))
        return (j, done, errs)

    with ThreadPoolExecutor(max_workers=jobs) as ex:
        for j, done, errs in ex.map(one, enumerate(sample)):
            if errs:
                failures.append({"op": j, "done": done, "where": "chip", "errors": errs})
    chip_s = time.monotonic() - t
    during = {"config": 0, "session": 0, "other": 0}
    for j, _ in cuts:
        during[tl.during(j)] += 1
    return {"chip_power_cuts": len(cuts), "chip_power_cuts_on_chip": len(sample),
            "cuts_during": during,
            "chip_flash_ops": len(ops), "chip_power_cut_failures": len(failures),
            "failures": failures[:20], "host_seconds": round(host_s, 1),
            "chip_seconds": round(chip_s, 1)}


def run(work=None, rounds=4, cuts=250, chip_sample=150, jobs=2, seed=0, log=print) -> dict:
    """The `make reliability` section: the base, then `rounds` recordings of the workload, each
    on the flash the one before left (so littlefs is in a new state each time: other blocks,
    compactions); every operation cut half way, random cuts up to `cuts` in all, all checked
    host side and chip_sample of them on the chip."""
    work = Path(work or tempfile.mkdtemp(prefix="rel-chip-"))
    t0 = time.monotonic()
    base = base_flash(work, log=log)
    out = {"chip_power_cuts": 0, "chip_power_cuts_on_chip": 0, "chip_flash_ops": 0,
           "chip_power_cut_failures": 0, "failures": [], "replay_equals_chip_flash": True,
           "host_seconds": 0.0, "chip_seconds": 0.0, "rounds": [],
           "cuts_during": {"config": 0, "session": 0, "other": 0}}
    per_cuts = -(-cuts // rounds)
    per_chip = -(-chip_sample // rounds)
    for r in range(rounds):
        rw = work / ("round%d" % r)
        rw.mkdir(parents=True, exist_ok=True)
        ops, tl, final = record(base, rw, log=log)
        same = flashjournal.replay(base, ops) == final
        log("round %d: replay of the whole journal %s the chip's flash"
            % (r, "equals" if same else "DIFFERS FROM"))
        res = verify(base, ops, tl, final, cut_points(ops, per_cuts, seed + r), per_chip, rw,
                     jobs, seed + r, log)
        if not same:
            out["replay_equals_chip_flash"] = False
            res["chip_power_cut_failures"] += 1
            res["failures"].insert(0, {"op": 0, "where": "replay", "errors": ["replay differs"]})
        for k in ("chip_power_cuts", "chip_power_cuts_on_chip", "chip_flash_ops",
                  "chip_power_cut_failures", "host_seconds", "chip_seconds"):
            out[k] += res[k]
        for k, n in res["cuts_during"].items():
            out["cuts_during"][k] += n
        out["failures"] += [dict(f, round=r) for f in res["failures"]][:10]
        out["rounds"].append({"ops": len(ops), "erases": sum(o.kind == "E" for o in ops),
                              "cuts": res["chip_power_cuts"],
                              "on_chip": res["chip_power_cuts_on_chip"],
                              "failures": res["chip_power_cut_failures"],
                              "timeline": tl.to_json()})
        shutil.rmtree(rw / "rec", ignore_errors=True)
        base = final
    out["seconds"] = round(time.monotonic() - t0)
    return out
