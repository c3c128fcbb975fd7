"""Zero allocation per steady tick of the full App loop, measured in the real MicroPython VM:
the board's real drivers on the vdev devices of every profile (MPX5010, MPRLS, HX710B,
BMP280), engine, cues, outputs (LED/pixel/motor) and telemetry on. Three steady states: idle
(the status glow changes colour every tick), running mid-phase, paused. Host-side recording of
the outputs is switched off (board_cases.make(quiet=True)) so only firmware allocation counts."""
import hw_env  # noqa: F401 - firmware/ and host_tools/vdev/ on sys.path

# isort: split
import json
import os

import pytest

from pacer_hw import profiles

TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def vm_alloc(mpvm):
    with open(os.path.join(TESTS, "board_cases.py")) as f:
        files = {"/t/board_cases.py": f.read()}
    body = "".join("print(json.dumps(C.alloc(%r, '/data%d')))\nawait mpvm_host.collect()\n"
                   % (b, i) for i, b in enumerate(profiles.NAMES))
    code = "import json\nimport mpvm_host\nimport board_cases as C\n" + body
    res = mpvm.check(code, files=files, dirs=hw_env.VM_DIRS, path=hw_env.VM_PATH,
                     heap=1024 * 1024)
    out = [json.loads(line) for line in res.stdout.splitlines() if line.strip()]
    assert len(out) == len(profiles.NAMES)
    return dict(zip(profiles.NAMES, out))


@pytest.mark.parametrize("board", profiles.NAMES)
def test_full_app_tick_allocates_nothing(vm_alloc, board):
    # bytes over 100 idle, 100 running and 50 paused ticks
    r = vm_alloc[board]
    # the measurement really ran the session: kegel, still in its first (baseline) step, paused,
    # and a telemetry frame left every tick it was asked to
    assert (r["state"], r["step"]) == ("paused", 0)
    assert r["frames"] >= 400 and r["screen"] is True  # the OLED was redrawn 4x a second
    assert (r["idle"], r["running"], r["paused"]) == (0, 0, 0)
