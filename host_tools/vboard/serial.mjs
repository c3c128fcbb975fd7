// The board's USB serial (CDC) on the master side of a pseudo-terminal.
//
// Reads and writes are synchronous and non-blocking on the master fd (the launcher set
// O_NONBLOCK): EAGAIN means "nothing now", EIO on read means no program has the port open,
// which stands for "no host / DTR low".
// - Input: bytes go to a queue that sys.stdin, the REPL and raw-paste read from. filter(c) sees
//   every byte first and may swallow it (the Ctrl-C keyboard interrupt).
// - Output: text written through sys.stdout / print / the REPL ("cooked") gets a \r before each
//   bare \n, as MicroPython's stdout does on a board; sys.stdout.buffer output is binary and
//   goes out untouched. While no host is connected output is dropped, as a board does when DTR
//   is low. While a host is connected but not reading, at most TX_MAX bytes wait; a writer then
//   blocks for up to STALL_MS (the rp2 CDC timeout) for progress, after which the bytes are
//   dropped and counted. canWrite() is what select.poll reports as POLLOUT.
import fs from "node:fs";

const CHUNK = 4096;
const TX_MAX = 32768;
const TX_ROOM = 256; // POLLOUT while fewer bytes than this wait (the CDC FIFO of a board)
export const STALL_MS = 500;

export class Serial {
  constructor(fd) {
    this.fd = fd;
    this.rx = Buffer.alloc(4096);
    this.rxHead = 0;
    this.rxTail = 0;
    this.readBuf = Buffer.alloc(CHUNK);
    this.tx = Buffer.alloc(TX_MAX);
    this.txLen = 0;
    this.connected = false;
    this.dropped = 0;
    this.lastByte = 0;
    this.filter = null; // (byte) => true if consumed
    this.suppress = false; // drop all output (used while re-entering the raw REPL)
    this.swallow = null; // Buffer: drop these bytes if they are the next output (raw-paste "OK")
    this.capture = null; // array collecting cooked output, for REPL mode detection
    this.onStall = null; // (ms) => void: a write stalled this long waiting for the host
  }

  // -- input ------------------------------------------------------------------------------

  pollIn() {
    for (;;) {
      let n;
      try {
        n = fs.readSync(this.fd, this.readBuf, 0, CHUNK, null);
      } catch (e) {
        if (e.code === "EAGAIN") {
          this.connected = true;
          return;
        }
        if (e.code === "EIO") {
          this.connected = false;
          return;
        }
        throw e;
      }
      if (n <= 0) return;
      this.connected = true;
      for (let i = 0; i < n; i++) {
        const c = this.readBuf[i];
        if (this.filter !== null && this.filter(c)) continue;
        this.push(c);
      }
      if (n < CHUNK) return;
    }
  }

  push(c) {
    if (this.rxTail === this.rx.length) {
      const live = this.rxTail - this.rxHead;
      const next = live * 2 < this.rx.length ? this.rx : Buffer.alloc(this.rx.length * 2);
      this.rx.copy(next, 0, this.rxHead, this.rxTail);
      this.rx = next;
      this.rxHead = 0;
      this.rxTail = live;
    }
    this.rx[this.rxTail++] = c;
  }

  pushAll(bytes) {
    for (const c of bytes) this.push(c);
  }

  available() {
    return this.rxTail - this.rxHead;
  }

  take() {
    return this.rxHead < this.rxTail ? this.rx[this.rxHead++] : -1;
  }

  // Copy up to n queued bytes into dst at off; returns how many.
  takeInto(dst, off, n) {
    const k = Math.min(n, this.available());
    this.rx.copy(dst, off, this.rxHead, this.rxHead + k);
    this.rxHead += k;
    return k;
  }

  pending() {
    return Buffer.from(this.rx.subarray(this.rxHead, this.rxTail));
  }

  // -- output -----------------------------------------------------------------------------

  writeText(bytes) {
    if (this.capture !== null) this.capture.push(Buffer.from(bytes).toString("latin1"));
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 10 && (i > 0 ? bytes[i - 1] : this.lastByte) !== 13) {
        this.writeBinary(bytes.subarray(start, i));
        this.writeBinary(Buffer.from([13]));
        start = i;
      }
    }
    this.writeBinary(bytes.subarray(start));
  }

  writeBinary(bytes) {
    if (bytes.length === 0) return;
    this.lastByte = bytes[bytes.length - 1];
    if (this.swallow !== null) {
      let k = 0;
      while (k < bytes.length && k < this.swallow.length && bytes[k] === this.swallow[k]) k++;
      this.swallow = k < this.swallow.length && k === bytes.length ? this.swallow.subarray(k) : null;
      bytes = bytes.subarray(k);
      if (bytes.length === 0) return;
    }
    if (this.suppress || !this.connected) {
      this.dropped += this.suppress ? 0 : bytes.length;
      return;
    }
    let off = 0;
    while (off < bytes.length) {
      const room = TX_MAX - this.txLen;
      if (room === 0) {
        if (!this.drain(STALL_MS)) {
          this.dropped += bytes.length - off; // host holds the port but does not read
          if (this.onStall) this.onStall(STALL_MS);
          return;
        }
        continue;
      }
      const k = Math.min(room, bytes.length - off);
      Buffer.from(bytes.buffer, bytes.byteOffset + off, k).copy(this.tx, this.txLen);
      this.txLen += k;
      off += k;
    }
  }

  canWrite() {
    return !this.connected || this.txLen < TX_ROOM;
  }

  // Push queued output into the pty; true when everything went out.
  flush() {
    while (this.txLen > 0) {
      let n;
      try {
        n = fs.writeSync(this.fd, this.tx, 0, this.txLen);
      } catch (e) {
        if (e.code === "EAGAIN") return false;
        if (e.code === "EIO") {
          this.connected = false;
          this.dropped += this.txLen;
          this.txLen = 0;
          return true;
        }
        throw e;
      }
      this.tx.copy(this.tx, 0, n, this.txLen);
      this.txLen -= n;
    }
    return true;
  }

  // Flush, waiting up to ms of real time while the host makes no progress.
  drain(ms) {
    let last = Date.now();
    let len = this.txLen;
    while (!this.flush()) {
      if (this.txLen < len) {
        len = this.txLen;
        last = Date.now();
      } else if (Date.now() - last >= ms) {
        return false;
      }
      sleepReal(1);
      this.pollIn();
      if (!this.connected) {
        this.txLen = 0;
        return true;
      }
    }
    return true;
  }
}

const waitCell = new Int32Array(new SharedArrayBuffer(4));

export function sleepReal(ms) {
  if (ms > 0) Atomics.wait(waitCell, 0, 0, ms);
}
