"""USB serial output (pacer_app.usb): text and telemetry frames in order, whole, and none lost
while the port has room. Each scenario runs on CPython and again in the MicroPython VM."""
import pytest

import usb_cases
from vm_cases import failures, run_cases


@pytest.mark.parametrize("name", usb_cases.CASES)
def test_usb_on_cpython(name):
    usb_cases.run(name)


def test_usb_in_the_micropython_vm(mpvm):
    assert failures(run_cases(mpvm, "usb_cases"), usb_cases.CASES) == {}
