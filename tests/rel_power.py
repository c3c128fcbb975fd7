"""Power cuts on the virtual board at every flash write of a workload: config saves and session
log appends, by the real firmware (main.py) in the MicroPython VM.

One cycle: a flash with the firmware, a custom program, a saved config and earlier sessions;
boot with power_cut_at=N; a host runs the workload (config set, a session, config set, a
session, config set) until the power dies inside write N; power on again and check: the board
boots and answers, every session that existed or had completed before the cut is intact (files
byte-identical, or every record valid with its summary), the session being written holds only
valid records, and the config is the last acknowledged one (or the one being saved at the cut).
N runs from 1 until a cycle completes without a cut (W writes in the workload), for both
flash models: "littlefs" (copy-on-write commits) and "direct" (torn writes, FAT-like).
"""
import json
import shutil
import time as _wall
from pathlib import Path

import rel_rig as R
from host_tools.vboard import start as vb_start
from pacer_app.config import defaults
from pacer_app.storage import Store

PROGRAM = {"name": "p", "blocks": [{"steps": [{"s": 3, "role": "baseline"}]},
                                   {"reps": 3, "steps": [{"s": 1, "muscle": "squeeze"},
                                                         {"s": 1, "muscle": "release"}]}]}
CONFIGS = [{"target_pct": 60}, {"target_pct": 65, "vibration_pct": 70},
           {"target_pct": 45}]
BASE_CONFIG = {"target_pct": 55}


class PowerCut(Exception):
    pass


def template(folder):
    """Firmware + program + config + two earlier sessions, as a previous day left them."""
    flash = R.install_firmware(Path(folder), mpy=True)
    import os
    st = Store(os, str(flash))
    assert st.save_config(BASE_CONFIG) == []
    assert st.save_program("p", PROGRAM) == []
    for _ in range(2):
        st.begin_session({"program": "p", "user": "default", "board": "pico", "mvc_cp": 0})
        for i in range(6):
            st.append('{"t_ms": %d, "type": "phase", "step": %d}' % (i * 2000, i))
        st.append('{"t_ms": 17000, "type": "summary", "program": "p", "completed": true}')
        st.end_session()
    return flash


class _Guard:
    """Wraps Link.pump so that a dead board raises PowerCut instead of a timeout."""

    def __init__(self, vb, link):
        self.vb = vb
        self.link = link
        self._pump = link.pump
        link.pump = self.pump

    def pump(self):
        got = self._pump()
        if not got and not self.vb.alive:
            self._pump()
            raise PowerCut()
        return got


def _cfg_value(cfg):
    v = dict(defaults())
    v.update(cfg)
    return (v["target_pct"], v["vibration_pct"])


def workload(link, state):
    """The host side. state records what the board acknowledged."""
    link.wait_boot(20, "boot")
    for k, cfg in enumerate(CONFIGS):
        for key in sorted(cfg):
            state["in_flight"] = dict(state["config"], **{key: cfg[key]})
            r = link.command("config set %s %s" % (key, json.dumps(cfg[key])))
            assert r["ok"] and r["value"] == cfg[key], r
            state["config"] = state["in_flight"]
            state["in_flight"] = None
        if k == len(CONFIGS) - 1:
            break
        r = link.command("start p")
        assert r["ok"], r
        state["started"] += 1
        # poll the state (event lines can be dropped by a busy link; replies are not)
        end = _wall.monotonic() + 60
        while link.command("status")["state"] != "done":
            assert _wall.monotonic() < end, "session never ended"
            _wall.sleep(0.05)
        state["completed"] += 1


def _verify(link, flash, state, res):
    """After a reboot: the board answers, sessions and config as promised."""
    link.wait_boot(20, "boot after the power cut")
    st = link.command("status")
    if not (st["ok"] and st["state"] == "idle"):
        res["errors"].append("status after reboot: %r" % st)
    cfg = link.command("config get")["config"]
    allowed = [_cfg_value(state["config"])]
    if state["in_flight"] is not None:
        allowed.append(_cfg_value(state["in_flight"]))
    if _cfg_value(cfg) not in allowed:
        res["config_lost"] += 1
        res["errors"].append("config %r not in %r" % (_cfg_value(cfg), allowed))
    state["config"] = {"target_pct": cfg["target_pct"], "vibration_pct": cfg["vibration_pct"]}
    state["in_flight"] = None
    ids = [s["id"] for s in link.command("sessions list")["sessions"]]
    files = R.files_of(flash)
    # sessions known complete: byte-identical to when they were checked
    for key, data in state["good"].items():
        if files.get(key) != data:
            res["sessions_lost"] += 1
            res["errors"].append("earlier session %s changed or lost" % key)
    # sessions written since the last check: every record valid; completed ones whole
    new = [sid for sid in ids if "sessions/%05d.log" % sid not in state["good"]]
    if len(new) < state["completed"]:
        res["sessions_lost"] += state["completed"] - len(new)
        res["errors"].append("completed sessions missing: %r" % ids)
    for i, sid in enumerate(new):
        reply, recs = link.records(sid)
        for x in recs:
            json.loads(x)
        done = i < state["completed"]
        newest = i == len(new) - 1
        ok = reply["ok"] and reply["bad"] == 0 and (reply["torn"] == 0 or (newest and not done))
        if done and not any('"type": "summary"' in x for x in recs):
            ok = False
        if not ok:
            res["sessions_lost"] += 1
            res["errors"].append("session %d: %r" % (sid, reply))
        key = "sessions/%05d.log" % sid
        state["good"][key] = files.get(key)  # from now on it must stay exactly as it is
    state["completed"] = 0
    state["started"] = 0


def chain(work, tmpl, cuts, model, seed=0, log=None):
    """One flash, one power cut per boot: boot k runs the workload until write cuts[k] (counted
    from that power-on), then the next boot checks everything and goes on. Returns counts."""
    flash = Path(work) / ("flash-%s-%d" % (model, seed))
    shutil.rmtree(flash, ignore_errors=True)
    shutil.copytree(tmpl, flash)
    files = R.files_of(flash)
    state = {"config": dict(BASE_CONFIG), "in_flight": None, "started": 0, "completed": 0,
             "good": {k: v for k, v in files.items()
                      if k.startswith("sessions/") and k.endswith(".log")}}
    out = {"power_cuts": 0, "sessions_lost": 0, "config_lost": 0, "failures": [],
           "complete_runs": 0}
    vb = None
    try:
        for k, n in enumerate(cuts + [0]):
            res = {"n": n, "model": model, "sessions_lost": 0, "config_lost": 0, "errors": []}
            if vb is None:
                vb = vb_start(board="pico", flash_dir=flash, fs_model=model, seed=seed,
                              power_cut_at=n, log=Path(work) / ("vb-%s-%d.log" % (model, seed)))
            else:
                vb.power_on(power_cut_at=n)
            link = R.Link(vb.port)
            _Guard(vb, link)
            try:
                if k > 0:
                    _verify(link, flash, state, res)
                if n:
                    state["config"] = dict(state["config"])
                    workload(link, state)
                    out["complete_runs"] += 1   # the workload needed fewer than n writes
                    vb.power_cut()
            except PowerCut:
                out["power_cuts"] += 1
                vb.wait_power_cut(10)
            except Exception as e:  # noqa: BLE001 - a failure with its reason
                res["errors"].append("%s: %s" % (type(e).__name__, str(e)[:300]))
                vb.power_cut()
            finally:
                link.close()
            out["sessions_lost"] += res["sessions_lost"]
            out["config_lost"] += res["config_lost"]
            if res["errors"]:
                out["failures"].append(res)
            if log:
                log("power cut %s seed %d n=%d: %s" % (model, seed, n,
                                                       "; ".join(res["errors"]) or "ok"))
    finally:
        if vb is not None:
            vb.stop()
    shutil.rmtree(flash, ignore_errors=True)
    return out


def writes_per_workload():
    return 3 + 2 * 12   # 3 config saves; header + records of a session of program p


def run_cuts(work, cuts=None, models=("littlefs", "direct"), rounds=1, log=None):
    """Power cuts at each write n in `cuts` (default 1..W+2) for each model and round."""
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    tmpl = template(work / "template")
    seq = list(cuts) if cuts is not None else list(range(1, writes_per_workload() + 3))
    out = {"power_cuts": 0, "sessions_lost": 0, "config_lost": 0, "failures": [],
           "complete_runs": 0}
    t0 = _wall.monotonic()
    for rnd in range(rounds):
        for model in models:
            r = chain(work, tmpl, seq, model, seed=rnd, log=log)
            for key in ("power_cuts", "sessions_lost", "config_lost", "complete_runs"):
                out[key] += r[key]
            out["failures"] += r["failures"]
    out["seconds"] = round(_wall.monotonic() - t0, 1)
    return out
