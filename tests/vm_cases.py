"""Runs a *_cases.py module (storage_cases, protocol_cases) inside the MicroPython VM: every
case, with a garbage collection between cases (this VM only collects when control returns to
JavaScript), reported per case so one failure does not hide the others."""
import os

TESTS = os.path.dirname(os.path.abspath(__file__))

_RUNNER = """
import mpvm_host
import %(module)s as cases
%(prelude)s
for name in cases.CASES:
    try:
        cases.run(name%(args)s)
        print("ok", name)
    except Exception as e:
        print("FAIL", name, type(e).__name__, e)
    await mpvm_host.collect()
"""


# Host modules the cases use as checkers (plain Python that runs in the VM too).
_HOST = ("host_tools/__init__.py", "host_tools/frames.py")


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def case_files(module):
    """VM files for tests/<module>.py and the host checkers it imports, all under /t."""
    files = {"/t/%s.py" % module: _read(os.path.join(TESTS, module + ".py"))}
    for rel in _HOST:
        files["/t/" + rel] = _read(os.path.join(os.path.dirname(TESTS), rel))
    return files


def run_cases(mpvm, module, prelude="", args="", **kw):
    """{case name: "ok" or what failed} from one VM run of tests/<module>.py (kw: mpvm's, such
    as heap)."""
    files = case_files(module)
    code = _RUNNER % {"module": module, "prelude": prelude, "args": args}
    res = mpvm.check(code, files=files, path=["/t"], **kw)
    out = {}
    for line in res.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word == "ok":
            out[rest] = "ok"
        elif word == "FAIL":
            name, _, why = rest.partition(" ")
            out[name] = why
    return out


def failures(results, names):
    """The cases that did not report ok, with why (missing ones included)."""
    return {n: results.get(n, "no result") for n in names if results.get(n) != "ok"}
