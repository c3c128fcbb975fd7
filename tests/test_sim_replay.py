"""A full simulated trace replays to the program's end: the summary says completed."""
import json

import pytest

import host_tools.sim  # noqa: F401  (puts the engine on the path)
from host_tools import replay, trace
from host_tools.sim import simulate
from pacer import builtin


@pytest.mark.parametrize("program,rate,jitter", [("calibrate", 50, 0), ("478", 30, 5),
                                                 ("flicks", 7, 20)])
def test_a_full_sim_then_replay_completes(tmp_path, program, rate, jitter):
    tl = builtin.load(program)
    tr = simulate(tl, "typical", 3, rate_hz=rate, jitter_ms=jitter)
    path = tmp_path / "t.csv"
    with open(path, "w") as f:
        tr.write_csv(f)
    back = trace.read(str(path))
    assert back.samples[0][0] == 0 and back.duration_ms == tl.total_ms
    summary = json.loads(replay.run_cpython(tl, back)[-1])
    assert summary["type"] == "summary"
    assert summary["duration_ms"] == tl.total_ms and summary["completed"] is True
