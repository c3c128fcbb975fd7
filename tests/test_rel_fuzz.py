"""Fuzzing, short: a few hundred inputs per target (10,000 each in `make reliability`)."""
import pytest

import rel_fuzz
from host_tools.vboard import launcher


@pytest.mark.parametrize("target,n", [("protocol", 100), ("config", 100), ("program", 150),
                                      ("trace", 100), ("session", 300)])
def test_fuzz_target_survives(target, n, tmp_path):
    r = rel_fuzz.TARGETS[target](n, tmp_path)
    assert r["inputs"] == n
    assert r["crashes"] == 0, r["examples"]


@pytest.mark.skipif(not launcher.VM_MJS.is_file(), reason="needs node_modules (make setup)")
def test_fuzz_the_virtual_board_then_status_and_stored_data(tmp_path):
    r = rel_fuzz.fuzz_vboard(100, tmp_path)
    assert r["inputs"] == 100 and r["crashes"] == 0, r["examples"]


def test_the_session_check_can_fail():
    # a reader that lost intact records must be caught
    data = rel_fuzz.GOOD_LOG
    with pytest.raises(AssertionError):
        cut = data.index(b"\n") + 1
        rel_fuzz._session_check((data[cut:], len(data)))


def test_the_protocol_check_tells_garbage_from_what_the_input_asked_for(tmp_path):
    target = rel_fuzz.ProtocolTarget(tmp_path)
    target([b"config set target_pct 12\n"])    # asked for: not a failure
    target([b"calibrate"])  # completed by the check's own newline: runs, and emits events
    target([b"status\n"])                       # and the next input starts from the baseline
    target.rig.store.save_config({"target_pct": 30})   # changed behind the protocol's back
    with pytest.raises(AssertionError, match="config changed"):
        target([b"hello\n"])
