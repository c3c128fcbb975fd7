"""Reliability, short versions (the long ones: `make reliability`, tools/reliability.py).

Every fault of anchors section 9 injected, its safe behaviour asserted (tests/rel_faults.py);
power cuts on the virtual board, fuzzing, soak and host-side checks in small sizes."""
import pytest

import rel_faults
from host_tools.vboard import launcher

NEEDS_VM = {17, 20, 21}
vm_ok = launcher.VM_MJS.is_file()


@pytest.mark.parametrize("case", rel_faults.CASES, ids=lambda c: "%02d" % c[0])
def test_fault_case(case, tmp_path):
    n, title, where, fn = case
    if n in NEEDS_VM and not vm_ok:
        pytest.skip("needs node_modules (make setup)")
    assert fn(tmp_path)


def test_every_anchor_case_is_covered():
    assert [c[0] for c in rel_faults.CASES] == list(range(1, 26))
