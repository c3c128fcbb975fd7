"""The drivers and the virtual devices inside the real MicroPython VM: the same scenarios give
the same results as on CPython, steady-state reads allocate nothing, and the package is small."""
import hw_env  # noqa: F401  (sys.path: firmware/, host_tools/vdev/)

# isort: split
import json

import pytest

import hw_scenarios as S

WRAP = 1 << 30
PARITY = [
    ("mprls_track", ()),
    ("mprls_busy_timeout", ()),
    ("mprls_status_faults", ()),
    ("mprls_nack", ("rp2",)),
    ("mprls_nack", ("esp32",)),
    ("mprls_bus_held_low", (9,)),
    ("mprls_bus_held_low", (-1,)),
    ("hx_track", (40,)),
    ("hx_track", (10,)),
    ("hx_timeouts", (40,)),
    ("hx_timeouts", (10, "disconnect")),
    ("hx_range_faults", ()),
    ("mpx_track", ("rp2",)),
    ("mpx_track", ("esp32",)),
    ("mpx_faults", ("rp2",)),
    ("mpx_faults", ("esp32",)),
    ("bmp_track", ()),
    ("motor_cutoff", (WRAP - 1000,)),
    ("button_events", (WRAP - 3000,)),
    ("screen_bytes", ()),
]
DRIVERS = ["mprls", "hx710b", "mpx5010", "mpx5010_esp32", "bmp280"]


def _call(name, args):
    return "%s%r" % (name, args)


def _vm(mpvm, body, **kw):
    code = "import json\nimport mpvm_host\nimport hw_scenarios as S\n" + body
    res = mpvm.check(code, files=hw_env.vm_files(), dirs=hw_env.VM_DIRS, path=hw_env.VM_PATH, **kw)
    return [json.loads(line) for line in res.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def vm_parity(mpvm):
    # one VM for all scenarios; collect between them (this port only collects when asked to)
    body = "".join("print(json.dumps(S.%s))\nawait mpvm_host.collect()\n" % _call(n, a)
                   for n, a in PARITY)
    out = _vm(mpvm, body, heap=512 * 1024)
    assert len(out) == len(PARITY)
    return dict(zip([_call(n, a) for n, a in PARITY], out))


@pytest.mark.parametrize("name,args", PARITY, ids=[_call(n, a) for n, a in PARITY])
def test_same_results_in_micropython(vm_parity, name, args):
    expected = json.loads(json.dumps(getattr(S, name)(*args)))
    assert vm_parity[_call(name, args)] == expected


@pytest.fixture(scope="module")
def vm_alloc(mpvm):
    body = "".join("print(json.dumps(S.alloc(%r)))\nawait mpvm_host.collect()\n" % d
                   for d in DRIVERS)
    body += "print(json.dumps(S.alloc_outputs()))\n"
    out = _vm(mpvm, body, heap=512 * 1024)
    return dict(zip(DRIVERS + ["outputs"], out))


@pytest.mark.parametrize("name", DRIVERS)
def test_steady_state_read_allocates_nothing(vm_alloc, name):
    r = vm_alloc[name]
    assert r["fault"] == 0 and r["fresh"] >= 40  # 50 reads, all valid (HX710B: 40 Hz of 50)
    assert r["bytes"] == 0


def test_outputs_per_tick_allocate_nothing(vm_alloc):
    assert vm_alloc["outputs"] == {"motor": 0, "led": 0, "pixel": 0, "button": 0, "screen": 0}


def test_pacer_hw_import_cost_fits_a_small_heap(mpvm):
    # every module imported from source on a 64 KB heap; bytecode + objects stay small
    (cost,) = _vm(mpvm, "print(S.import_cost())", heap=160 * 1024)
    assert cost < 24 * 1024


def test_driver_alloc_test_can_fail(mpvm):
    # the alloc measurement itself must see allocation: a float in the read path is caught
    body = (
        "import pacer_hw.sensor as sensor\n"
        "orig = sensor.PressureSensor._sample\n"
        "def leaky(self, raw, native, bad=0):\n"
        "    self.kpa = native * 0.001\n"
        "    return orig(self, raw, native, bad)\n"
        "sensor.PressureSensor._sample = leaky\n"
        "print(json.dumps(S.alloc('mprls')))\n"
    )
    (r,) = _vm(mpvm, body, heap=512 * 1024)
    assert r["bytes"] >= 50 * 16
