# pyright: reportMissingImports=false, reportMissingModuleSource=false, reportAttributeAccessIssue=false
"""The board's flash filesystem: a MicroPython VFS object mounted at "/", backed by a host
folder through _vbhost.fs_* (flash.mjs does the host I/O, capacity and littlefs-like commits).

This module only keeps the current directory, normalises paths, and gives MicroPython file
objects. Errors are OSError with MicroPython errno values. File objects subclass io.IOBase, so
C code (import, json.dump, print(file=...)) can use them as streams; data moves by address
(uctypes.addressof), never as copies through the JS bridge. Not emulated: text-mode newline
translation (none on boards either), read(n) counting characters instead of bytes in text mode
(a split UTF-8 sequence is completed), file locking between handles of one file.
"""
import io
import json

import _vbhost as _h
import uctypes

_addr = uctypes.addressof
_DIR = 0x4000
# open() flag bits understood by flash.mjs
_RD, _WR, _APP, _CREAT, _TRUNC, _EXCL = 1, 2, 4, 8, 16, 32


def _ok(r):
    if r < 0:
        raise OSError(-r)
    return r


def _json(r):
    if isinstance(r, int):
        raise OSError(-r)
    return json.loads(r)


def _norm(cwd, path):
    if not isinstance(path, str):
        path = path.decode()
    if not path.startswith("/"):
        path = cwd + "/" + path
    out = []
    for part in path.split("/"):
        if part == "" or part == ".":
            continue
        if part == "..":
            if out:
                out.pop()
        else:
            out.append(part)
    return "/" + "/".join(out)


def _flags(mode):
    plus = "+" in mode
    kind = mode.replace("b", "").replace("t", "").replace("+", "")
    if kind == "r":
        f = _RD | (_WR if plus else 0)
    elif kind == "w":
        f = _WR | _CREAT | _TRUNC | (_RD if plus else 0)
    elif kind == "a":
        f = _WR | _APP | _CREAT | (_RD if plus else 0)
    elif kind == "x":
        f = _WR | _CREAT | _EXCL | (_RD if plus else 0)
    else:
        raise ValueError("invalid mode")
    return f


class FlashFile(io.IOBase):
    def __init__(self, handle, text):
        self._h = handle
        self._text = text
        self._closed = False

    def _handle(self):
        if self._closed:
            raise OSError(9)  # EBADF, like a closed littlefs file
        return self._h

    # -- stream protocol (also used by C code through io.IOBase) --

    def readinto(self, buf, n=-1):
        size = len(buf) if n < 0 else min(n, len(buf))
        if size == 0:
            return 0
        return _ok(_h.fs_read(self._handle(), _addr(buf), size))

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        n = len(data)
        if n == 0:
            return 0
        return _ok(_h.fs_write(self._handle(), _addr(data), n))

    def ioctl(self, req, arg):
        if req == 1:  # MP_STREAM_FLUSH
            return _h.fs_flush(self._handle())
        if req == 4:  # MP_STREAM_CLOSE
            self.close()
            return 0
        if req == 3:  # MP_STREAM_POLL: files are always ready
            return arg & 5
        return -22

    # -- Python-level API --

    def read(self, n=-1):
        h = self._handle()
        if n is None or n < 0:
            n = _ok(_h.fs_size(h)) - _ok(_h.fs_seek(h, 0, 1))
        buf = bytearray(n if n > 0 else 0)
        k = self.readinto(buf) if n > 0 else 0
        if k < n:
            buf = buf[:k]
        if not self._text:
            return bytes(buf)
        return self._decode(buf)

    def _decode(self, buf):
        # complete a UTF-8 sequence cut by the byte count
        for _ in range(3):
            try:
                return str(buf, "utf-8")
            except UnicodeError:
                more = bytearray(1)
                if not self.readinto(more):
                    break
                buf += more
        return str(buf, "utf-8")

    def readline(self, limit=-1):
        h = self._handle()
        out = bytearray()
        chunk = bytearray(128)
        while limit < 0 or len(out) < limit:
            want = 128 if limit < 0 else min(128, limit - len(out))
            k = _ok(_h.fs_readline(h, _addr(chunk), want))
            if k == 0:
                break
            out += chunk[:k]
            if chunk[k - 1] == 10:
                break
        return self._decode(out) if self._text else bytes(out)

    def readlines(self):
        return list(self)

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def seek(self, offset, whence=0):
        return _ok(_h.fs_seek(self._handle(), offset, whence))

    def tell(self):
        return _ok(_h.fs_seek(self._handle(), 0, 1))

    def flush(self):
        _ok(_h.fs_flush(self._handle()))

    def close(self):
        if not self._closed:
            self._closed = True
            _ok(_h.fs_close(self._h))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Flash:
    """The VFS protocol MicroPython's vfs.mount() expects from a user filesystem object."""

    def __init__(self):
        self._cwd = "/"

    def __repr__(self):
        return "<VfsLfs2>"  # what a board's root filesystem calls itself (mpremote df shows it)

    def _p(self, path):
        return _norm(self._cwd, path)

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def ilistdir(self, path):
        for name, kind, size in _json(_h.fs_listdir(self._p(path))):
            yield (name, kind, 0, size)

    def chdir(self, path):
        p = self._p(path)
        if _json(_h.fs_stat(p))[0] != _DIR:
            raise OSError(20)  # ENOTDIR
        self._cwd = p

    def getcwd(self):
        return self._cwd

    def mkdir(self, path):
        _ok(_h.fs_mkdir(self._p(path)))

    def remove(self, path):
        _ok(_h.fs_remove(self._p(path)))

    rmdir = remove  # lfs_remove: either one removes a file or an empty directory

    def rename(self, old, new):
        _ok(_h.fs_rename(self._p(old), self._p(new)))

    def stat(self, path):
        mode, size, mtime = _json(_h.fs_stat(self._p(path)))
        return (mode, 0, 0, 0, 0, 0, size, mtime, mtime, mtime)

    def statvfs(self, path):
        return tuple(_json(_h.fs_statvfs()))

    def open(self, path, mode="r"):
        h = _ok(_h.fs_open(self._p(path), _flags(mode)))
        return FlashFile(h, "b" not in mode)
