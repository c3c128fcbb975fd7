"""The session log's record: one line of text, '*', its CRC-16 in hex, newline (docs/protocol.md
section 5); the reader that skips damaged records and drops a torn last one; and the digest that
checks a session's transfer to a computer.
"""
from array import array

from pacer_hw._compat import const

MAX_RECORD = const(2048)   # longer "records" can only be corruption
_CHUNK = const(512)


def _crc_table():
    t = array("H", [0] * 256)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_CRC = _crc_table()


def crc16(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of a bytes-like object."""
    t = _CRC
    for b in data:
        crc = ((crc << 8) & 0xFF00) ^ t[((crc >> 8) ^ b) & 0xFF]
    return crc


def record(text):
    """A log record: the text (newlines would break framing, so they become spaces), '*', the
    CRC-16 of the text's UTF-8 bytes as 4 hex digits, newline."""
    if "\n" in text or "\r" in text:
        text = text.replace("\r", " ").replace("\n", " ")
    data = text.encode()
    return data + ("*%04x\n" % crc16(data)).encode()


def check_record(line):
    """The text of one record line (bytes, without the newline), or None if it fails its check."""
    i = line.rfind(b"*")
    if i < 0 or len(line) - i != 5:
        return None
    try:
        want = int(str(line[i + 1:], "ascii"), 16)
        if crc16(line[:i]) != want:
            return None
        return str(line[:i], "utf-8")
    except ValueError:  # not hex, or not UTF-8 (UnicodeError is a ValueError)
        return None


def fold(digest, crc):
    """A session's transfer check: the CRC-16 of each record's text (as record() stores it),
    folded in order into one CRC-16. The board sends it after `sessions get`; the host folds
    the texts it received the same way, so a record lost, altered or reordered on the link
    shows as a mismatch without the board computing a second CRC over the data."""
    return crc16(bytes((crc >> 8, crc & 0xFF)), digest)


def oserr(e):
    return "OSError %s" % (e.args[0] if e.args else e)


class SessionReader:
    """Iterates the valid records of one session log as text.

    A record that fails its check is skipped and counted in `bad`, and reading goes on. A bad or
    unterminated last record is what a power cut or a full flash leaves: it is dropped and counted
    in `torn` only. `error` is set if reading itself failed."""

    def __init__(self, f):
        self._f = f
        self._buf = b""
        self._skip = False      # inside an overlong line, dropping up to its newline
        self._last_bad = False
        self.records = 0
        self.bad = 0
        self.torn = 0
        self.error = None
        self.digest = 0xFFFF    # the records' own CRCs folded in order: see fold()

    def __iter__(self):
        return self

    def close(self):
        if self._f is not None:
            try:
                self._f.close()
            except OSError:
                pass
            self._f = None

    def _bad(self):
        self.bad += 1
        self._last_bad = True

    def _good(self, line, text):
        self._last_bad = False
        self.records += 1
        self.digest = fold(self.digest, int(str(line[-4:], "ascii"), 16))
        return text

    def _line(self, line):
        text = check_record(line)
        if text is None:
            self._bad()
            return None
        return self._good(line, text)

    def __next__(self):
        while True:
            i = self._buf.find(b"\n")
            if i >= 0:
                line = self._buf[:i]
                self._buf = self._buf[i + 1:]
                if self._skip:
                    self._skip = False
                    continue
                text = self._line(line)
                if text is not None:
                    return text
                continue
            if len(self._buf) > MAX_RECORD:
                if not self._skip:
                    self._bad()
                self._skip = True
                self._buf = b""
            data = b""
            if self._f is not None:
                try:
                    data = self._f.read(_CHUNK)
                except OSError as e:
                    self.error = oserr(e)
            if data:
                self._buf += data
                continue
            return self._end()

    def _end(self):
        self.close()
        tail = self._buf
        self._buf = b""
        if tail and not self._skip:
            # a complete record that only lost its newline is still good data
            text = check_record(tail)
            if text is not None:
                return self._good(tail, text)
            self.torn += 1
        elif self._skip or self._last_bad:
            self.bad -= 1
            self.torn += 1
        self._skip = False
        self._last_bad = False
        raise StopIteration
