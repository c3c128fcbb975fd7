"""Power cuts inside the emulated RP2040's flash operations, short version (tests/rel_chip.py
says how; `make reliability` runs the long one on a `pacer flash`ed board with a session).

One recording: the official image boots on a flash whose littlefs holds the firmware, a config
and an earlier session, and the app saves the config three times over the pacer protocol with a
flash journal on. Then the journal must rebuild the chip's flash byte for byte, a cut the chip
injects itself must leave exactly what the replay says, and every operation cut half way must
leave littlefs mountable, the earlier session and the program intact and the config the old or
the new one (host side, the firmware's Store reading), which the chip confirms for two of them.
"""
import shutil

import pytest

from host_tools.vboard import flashjournal, rp2040

pytestmark = pytest.mark.skipif(
    not rp2040.EMULATOR.is_file() or shutil.which("node") is None,
    reason="needs node and node_modules (make setup)")

littlefs = pytest.importorskip("littlefs")
import rel_chip as C  # noqa: E402 - needs littlefs

CONFIGS = [("target_pct", 60), ("vibration_pct", 80), ("target_pct", 45)]


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    work = tmp_path_factory.mktemp("relchip")
    files = C.firmware_files()
    files.update(C.earlier_files(work / "earlier"))
    base = C.host_image(files)
    ops, tl, final = C.record(base, work, configs_before=CONFIGS, configs_after=[],
                              session=False, log=lambda m: None)
    return {"work": work, "base": base, "ops": ops, "tl": tl, "final": final,
            "base_files": C.lfs_files(base), "final_view": C.read_host(final, work / "fv")}


def test_the_journal_rebuilds_the_chips_final_flash_byte_for_byte(rec):
    ops = rec["ops"]
    assert len(rec["tl"].configs) == 3
    assert {o.kind for o in ops} == {"E", "P"}
    assert rec["final"] != rec["base"]
    assert flashjournal.replay(rec["base"], ops) == rec["final"]


def _halves(rec):
    """The first program operation (1-based) after the first with data in both halves, so that
    a cut half way shows (littlefs pads most commits with 0xFF)."""
    for j, op in enumerate(rec["ops"][1:], 2):
        half = op.count >> 1
        if op.kind == "P" and op.data[:half].strip(b"\xff") and op.data[half:].strip(b"\xff"):
            return j
    raise AssertionError("no program operation fills both halves")


def test_a_cut_the_chip_injects_leaves_what_the_replay_of_its_journal_says(rec, tmp_path):
    """rp2040.start(power_cut_at=j) cuts op j half way on the chip: the flash file it leaves
    must equal replay(cut=j) of its own journal. The same workload from the same flash reaches
    op j through the same operations as the recording (places and sizes; the bytes differ
    where MicroPython's littlefs stores each file's time, which follows the host's pace)."""
    j = _halves(rec)
    (tmp_path / "flash").mkdir()
    (tmp_path / "flash" / "flash.bin").write_bytes(rec["base"])
    chip = rp2040.start(tmp_path / "flash", log=tmp_path / "chip.log", power_cut_at=j,
                        journal=tmp_path / "journal.bin")
    try:
        with C._connect(chip) as dev:
            for key, value in CONFIGS:   # not waiting for replies: the power dies on the way
                dev.write("config set %s %d" % (key, value))
            assert chip.wait_power_cut(timeout=600) == j
    finally:
        chip.stop()
    ops = flashjournal.read(tmp_path / "journal.bin")
    assert [o[:3] for o in ops] == [o[:3] for o in rec["ops"][:j]]
    got = (tmp_path / "flash" / "flash.bin").read_bytes()
    assert got == flashjournal.replay(rec["base"], ops, cut=j)
    # the cut op was done half: not in full, not at all
    assert got != flashjournal.replay(rec["base"], ops)
    assert got != flashjournal.replay(rec["base"], ops, cut=j, done=0)


def test_every_operation_cut_half_way_keeps_littlefs_the_session_and_a_good_config(rec):
    tl, ops = rec["tl"], rec["ops"]
    seen = set()
    for j, done in C.cut_points(ops, 0):
        flash = flashjournal.replay(rec["base"], ops, cut=j, done=done)
        errs, view = C.check_host(flash, j, tl, rec["base_files"], rec["final_view"],
                                  rec["work"] / "h")
        assert errs == [], (j, ops[j - 1][:3], errs)
        seen.add(C._key(view["config"]))
    # the base config and each saved one all show up somewhere along the way
    assert len(seen) == 1 + len(CONFIGS), seen


def test_the_checks_see_a_wrong_config_and_an_unmountable_filesystem(rec):
    """Not vacuous: the final flash read as if cut inside op 1 has a config the board never
    had at that point, and a flash with its filesystem erased does not mount."""
    errs, _ = C.check_host(rec["final"], 1, rec["tl"], rec["base_files"], rec["final_view"],
                           rec["work"] / "h")
    assert any(e.startswith("config ") for e in errs), errs
    blank = rec["final"][:C.FS_OFFSET] + b"\xff" * C.FS_BYTES
    errs, _ = C.check_host(blank, 1, rec["tl"], rec["base_files"], rec["final_view"],
                           rec["work"] / "h")
    assert errs and "does not mount" in errs[0]


def test_the_chip_reads_two_cut_flashes_as_the_host_does(rec, tmp_path):
    """Inside the first erase and inside the last operation: the official image mounts
    the rebuilt littlefs (else its _boot.py formats it and the app is gone) and the app's
    config and sessions are what the host side read."""
    from concurrent.futures import ThreadPoolExecutor
    ops = rec["ops"]

    def one(j):   # two chips at once
        flash = flashjournal.replay(rec["base"], ops, cut=j)
        errs, view = C.check_host(flash, j, rec["tl"], rec["base_files"], rec["final_view"],
                                  tmp_path / ("h%d" % j))
        return errs + C.check_chip(flash, view, tmp_path / ("chip%d" % j))

    with ThreadPoolExecutor(2) as ex:
        assert list(ex.map(one, ([o.kind for o in ops].index("E") + 1, len(ops)))) == [[], []]


def test_the_timeline_allows_the_old_config_until_a_save_is_acknowledged():
    """A cut inside op j: ops before j are done. Save 1 is ops 1-4, save 2 ops 5-8, the
    session ops 9-12."""
    tl = C.Timeline({"target_pct": 55})
    tl.configs = [(0, 4, {"target_pct": 60}), (4, 8, {"vibration_pct": 75})]
    tl.sessions = [(8, 12, 7)]
    base, one, both = {"target_pct": 55}, {"target_pct": 60}, \
        {"target_pct": 60, "vibration_pct": 75}
    assert tl.allowed_configs(1) == [base, one]
    assert tl.allowed_configs(4) == [base, one]     # its last op cut: not acknowledged yet
    assert tl.allowed_configs(5) == [one, both]
    assert tl.allowed_configs(9) == [both]
    assert [tl.during(j) for j in (1, 4, 5, 8, 9, 12, 13)] == \
        ["config", "config", "config", "config", "session", "session", "other"]
    assert tl.finished_sessions(12) == [] and tl.finished_sessions(13) == [7]


def test_make_reliability_needs_200_chip_cuts_without_a_failure():
    import importlib.util
    spec = importlib.util.spec_from_file_location("reliability", C.ROOT / "tools" /
                                                  "reliability.py")
    rel = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rel)
    others = [{"fault_cases": 25, "fault_cases_passed": 25},
              {"fuzz": {"protocol": {"inputs": 10000, "crashes": 0}}},
              {"power": {"power-0": {"power_cuts": 522, "sessions_lost": 0, "config_lost": 0,
                                     "failures": []}}}]

    def met(**chip):
        good = {"chip_power_cuts": 252, "chip_power_cut_failures": 0,
                "replay_equals_chip_flash": True}
        return rel.merge(others + [{"chip_power": dict(good, **chip)}])["targets_met"]

    assert met()
    assert not met(chip_power_cuts=199)
    assert not met(chip_power_cut_failures=1)
    assert not met(replay_equals_chip_flash=False)
    assert not rel.merge(others)["targets_met"]   # the section did not run
