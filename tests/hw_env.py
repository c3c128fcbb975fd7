"""Path set-up shared by the test_hw_* modules: firmware/ and host_tools/vdev/ importable on
CPython, the latter first so `import machine` / `neopixel` / `framebuf` give the virtual ones."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIRMWARE = os.path.join(ROOT, "firmware")
VDEV = os.path.join(ROOT, "host_tools", "vdev")
TESTS = os.path.join(ROOT, "tests")

for _p in (FIRMWARE, VDEV):
    if _p in sys.path:
        sys.path.remove(_p)
    sys.path.insert(0, _p)

# In the VM: the scenario file and both trees, for the mpvm fixture.
VM_DIRS = {"/fw": FIRMWARE, "/vdev": VDEV}
VM_PATH = ["/fw", "/vdev", "/t"]


def vm_files():
    with open(os.path.join(TESTS, "hw_scenarios.py")) as f:
        return {"/t/hw_scenarios.py": f.read()}
