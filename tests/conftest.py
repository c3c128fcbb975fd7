"""Shared fixtures. `mpvm` runs code in the real MicroPython VM (see host_tools/mpvm.py)."""
import pytest

from host_tools import mpvm as _mpvm


class MicroPythonVM:
    """mpvm(code, heap=..., **kw) -> VMResult; mpvm.check(...) also asserts that nothing raised."""

    def __call__(self, code, heap=_mpvm.DEFAULT_HEAP, **kw):
        return _mpvm.run(code, heap=heap, **kw)

    def check(self, code, heap=_mpvm.DEFAULT_HEAP, **kw):
        res = self(code, heap=heap, **kw)
        if res.exc_type is not None:
            tail = res.stdout[-2000:]
            raise AssertionError("MicroPython raised %s: %s\n%s--- stdout (tail) ---\n%s"
                                 % (res.exc_type, res.exc_message, res.traceback, tail))
        return res


@pytest.fixture(scope="session")
def mpvm():
    _mpvm._node()  # fail early, in one line, if node or node_modules is missing
    return MicroPythonVM()
