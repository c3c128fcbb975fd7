"""Replay a trace through the engine on CPython or inside the real MicroPython VM.

Both runtimes get the same integer samples (the CSV is parsed once, here), run the same firmware
code and format events with the same code, so their outputs must be byte-identical.
"""
import json

from host_tools.errors import CliError
from pacer import replay as core
from pacer.settings import Settings

_VM_CODE = """
import json
import mpvm_host
# compiling from source leaves garbage that this port only collects between JavaScript turns
for m in ("pacer.program", "pacer.settings", "pacer.engine", "pacer.eventfmt", "pacer.replay"):
    __import__(m)
    await mpvm_host.collect()
from pacer import program, replay, settings
tl = program.build(json.loads(open('/job/program.json').read()))
st = settings.Settings(json.loads(open('/job/settings.json').read()))
r = replay.Replayer(tl, st, print, %d, %d)
n = 0
with open('/job/trace.txt') as f:
    for line in f:
        a, b, c = line.split()
        if r.feed(int(a), int(b), int(c)):
            break
        n += 1
        if n %% 50 == 0:
            # this port collects garbage only when control returns to JavaScript; V8's own
            # collection (for exact heap figures) is left out: it would triple the replay's time
            await mpvm_host.collect(False)
r.end()
"""


def run_cpython(timeline, trace, settings_values=None, stored_mvc_cp=0):
    lines = []
    core.run(timeline, Settings(settings_values or {}), trace.samples, lines.append, trace.t0,
             stored_mvc_cp)
    return lines


def run_micropython(spec, trace, settings_values=None, stored_mvc_cp=0, heap=192 * 1024):
    from host_tools import mpvm
    text = "\n".join("%d %d %d" % s for s in trace.samples) + "\n"
    files = {"/job/program.json": json.dumps(spec), "/job/settings.json":
             json.dumps(settings_values or {}), "/job/trace.txt": text}
    res = mpvm.run(_VM_CODE % (trace.t0, stored_mvc_cp), heap=heap, files=files)
    if res.exc_type:
        raise CliError("replay in the MicroPython VM failed: %s: %s"
                       % (res.exc_type, res.exc_message))
    return [ln for ln in res.stdout.splitlines() if ln]
