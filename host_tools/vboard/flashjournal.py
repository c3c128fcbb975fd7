"""The emulated RP2040's flash journal: every erase/program the chip did, in order, so the flash
can be rebuilt as it was at any moment, also inside an operation cut by a power loss.

    ops = flashjournal.read("journal.bin")
    flash = flashjournal.replay(base, ops, cut=17)          # power died inside op 17 (1-based)
    flash = flashjournal.replay(base, ops)                  # all done: the chip's final flash

rp2040/chip.mjs writes the journal (config.journal) and defines what an operation does, which
replay() repeats: an erase sets bytes to 0xFF; a program ANDs the new bytes into the old (NOR
flash only clears bits); both are clipped to the flash. A cut operation has done only its first
`done` bytes: the chip's own injected cut (cutAtWrite) stops at half, count >> 1, the default.
"""
from __future__ import annotations

import struct
from typing import NamedTuple

HEAD = struct.Struct("<cII")


class Op(NamedTuple):
    kind: str        # "E" erase, "P" program
    offset: int      # from the start of the flash
    count: int       # bytes
    data: bytes      # what was programmed ("P"); empty for an erase


def read(path) -> list[Op]:
    """The operations in a journal file. A record cut short at the end (the chip was killed
    while appending it) is dropped."""
    with open(path, "rb") as f:
        raw = f.read()
    ops = []
    at = 0
    while at + HEAD.size <= len(raw):
        kind, offset, count = HEAD.unpack_from(raw, at)
        at += HEAD.size
        n = count if kind == b"P" else 0
        if kind not in (b"E", b"P"):
            raise ValueError("flash journal %s: bad record at byte %d" % (path, at - HEAD.size))
        if at + n > len(raw):
            break
        ops.append(Op(kind.decode(), offset, count, raw[at:at + n]))
        at += n
    return ops


def apply(flash: bytearray, op: Op, done: int | None = None) -> None:
    """Do op on flash in place; done: only its first `done` bytes (a cut operation)."""
    size = len(flash)
    if not 0 <= op.offset < size:
        return
    n = op.count if done is None else done
    end = min(op.offset + n, size)
    if op.kind == "E":
        flash[op.offset:end] = b"\xff" * (end - op.offset)
    else:
        old = int.from_bytes(flash[op.offset:end], "little")
        new = int.from_bytes(op.data[:end - op.offset], "little")
        flash[op.offset:end] = (old & new).to_bytes(end - op.offset, "little")


def replay(base: bytes, ops: list[Op], cut: int | None = None, done: int | None = None) -> bytes:
    """The flash after ops on base. cut (1-based): the power died inside that operation, the
    ones before it complete, with its first `done` bytes done (default: half, as chip.mjs)."""
    flash = bytearray(base)
    last = len(ops) if cut is None else cut - 1
    for op in ops[:last]:
        apply(flash, op)
    if cut is not None:
        op = ops[cut - 1]
        apply(flash, op, op.count >> 1 if done is None else done)
    return bytes(flash)
