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


def run_cases(mpvm, module, prelude="", args=""):
    """{case name: "ok" or what failed} from one VM run of tests/<module>.py."""
    with open(os.path.join(TESTS, module + ".py"), encoding="utf-8") as f:
        text = f.read()
    code = _RUNNER % {"module": module, "prelude": prelude, "args": args}
    res = mpvm.check(code, files={"/t/%s.py" % module: text}, path=["/t"])
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
