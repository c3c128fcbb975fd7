"""Flash storage (pacer_app.storage): config fallback and atomic saves, calibration, programs,
session logs with torn and corrupted records, rotation, and a full flash. Every scenario runs on
CPython against a temp dir and again inside the MicroPython VM against its filesystem, with
power cuts and ENOSPC injected by a wrapped os module (storage_cases.Faults)."""
import os

import pytest

import storage_cases
from vm_cases import failures, run_cases


@pytest.mark.parametrize("name", storage_cases.CASES)
def test_storage_on_cpython(tmp_path, name):
    storage_cases.run(name, os, str(tmp_path / "flash"))


def test_storage_in_the_micropython_vm(mpvm):
    results = run_cases(mpvm, "storage_cases", prelude="import os\nos.mkdir('/data')",
                        args=", os, '/data/' + name",
                        heap=384 * 1024)   # the VM collects only between cases
    assert failures(results, storage_cases.CASES) == {}


def test_config_file_holds_only_changes_in_a_fixed_order(tmp_path):
    from pacer_app.storage import Store
    st = Store(os, str(tmp_path))
    assert st.save_config({"vibration_pct": 30, "user": "zoe", "loop_hz": 50, "reach_s": 2.5}) == []
    text = (tmp_path / "config.json").read_text()
    assert text == '{"reach_s": 2.5, "user": "zoe", "vibration_pct": 30}\n'


def test_every_engine_setting_is_a_config_field():
    from pacer import settings
    from pacer_app import config
    d = config.defaults()
    for k, spec in settings.FIELDS.items():
        assert d[k] == spec[0]
    assert set(d) == set(settings.FIELDS) | set(config.APP_FIELDS)



class _Recording:
    """A file that notes the size each read() asks for."""

    def __init__(self, f, asked):
        self.f = f
        self.asked = asked

    def read(self, n=-1):
        self.asked.append(n)
        return self.f.read(n)

    def seek(self, *a):
        return self.f.seek(*a)

    def close(self):
        self.f.close()


def test_a_small_file_is_read_without_asking_for_its_limit(tmp_path):
    # read(n) takes an n-byte buffer from the heap before it reads: asking for the 4 KB limit
    # needed a 4 KB free run for a 100-byte program, which a fragmented heap on the RP2040
    # once did not have (MemoryError on `start`)
    from pacer_app.storage import Store
    spec = {"name": "p", "blocks": [{"steps": [{"s": 5}]}]}
    assert Store(os, str(tmp_path)).save_program("p", spec) == []
    size = (tmp_path / "programs" / "p.json").stat().st_size
    asked = []
    def opener(path, mode="r"):
        return _Recording(open(path, mode), asked)

    assert Store(os, str(tmp_path), opener=opener).load_program("p") == spec
    assert asked == [size]
