// The board's REPL on the serial port.
//
// The port's event-driven pyexec (replProcessChar) does the friendly REPL (line editing,
// paste mode, Ctrl-C/D) and the raw REPL (Ctrl-A, Ctrl-D executes, "OK" output \x04 error
// \x04 ">"). This class adds what a board has around it:
// - the REPL mode (friendly/raw) is tracked, so a soft reset comes back in the same mode;
// - raw-paste mode (Ctrl-E 'A' Ctrl-A at the start of a raw line) is done here, because the
//   port's version blocks reading stdin: "R\x01", the window size and flow-control \x01 bytes
//   go out as MicroPython's mp_reader_new_stdin sends them, the collected code is then fed to
//   the raw REPL with its "OK" hidden. Code containing the bytes 0x01-0x04 cannot be pasted;
// - the banners name the virtual board instead of "JS with Emscripten".
const FORCED_EXIT = 0x100; // PYEXEC_FORCED_EXIT: the REPL asks for a soft reset
const WINDOW = 256;

export class Repl {
  // mp: the loaded VM; serial: Serial; run(fn): run VM code (interrupt and busy bookkeeping);
  // nextByte(): the next input byte, waiting for it; title: e.g. "Raspberry Pi Pico (vboard)
  // with RP2040"; mode: "friendly" | "raw".
  constructor({ mp, serial, run, nextByte, title, mode }) {
    this.mp = mp;
    this.serial = serial;
    this.run = run;
    this.nextByte = nextByte;
    this.title = title;
    this.mode = mode;
    this.rawLen = 0; // bytes in the current raw-REPL line
  }

  banner() {
    return `MicroPython v1.29.0 on 2026-08-25; ${this.title}\r\n` +
      'Type "help()" for more information.\r\n>>> ';
  }

  feed(c) {
    return this.run(() => this.mp.replProcessChar(c));
  }

  start() {
    const s = this.serial;
    s.suppress = true;
    this.run(() => this.mp.replInit());
    if (this.mode === "raw") this.feed(1);
    s.suppress = false;
    s.writeBinary(Buffer.from(this.mode === "raw" ? "raw REPL; CTRL-B to exit\r\n>" : this.banner()));
    this.rawLen = 0;
  }

  // Runs until the REPL asks for a soft reset (Ctrl-D, SystemExit).
  loop() {
    this.start();
    for (;;) {
      const c = this.nextByte();
      if (this.mode === "raw" && this.rawLen === 0 && c === 5) {
        const a = this.nextByte();
        const b = a === 0x41 ? this.nextByte() : -1;
        if (b === 1) {
          if (this.rawPaste()) return;
        } else if (this.step(5) || this.step(a) || (b >= 0 && this.step(b))) {
          return;
        }
        continue;
      }
      if (this.step(c)) return;
    }
  }

  // One input byte through the REPL; true when it asked for a soft reset.
  step(c) {
    const s = this.serial;
    let r;
    if (c === 2) {
      s.suppress = true; // Ctrl-B (re)enters the friendly REPL with the board's banner
      r = this.feed(c);
      s.suppress = false;
      s.writeBinary(Buffer.from("\r\n" + this.banner()));
      this.mode = "friendly";
    } else if (this.mode === "friendly" && c === 1) {
      s.capture = [];
      r = this.feed(c);
      if (s.capture.join("").includes("raw REPL; CTRL-B to exit")) this.mode = "raw";
      s.capture = null;
      this.rawLen = 0;
    } else {
      r = this.feed(c);
      if (this.mode === "raw") this.rawLen = c >= 1 && c <= 4 ? 0 : this.rawLen + 1;
    }
    return (r & FORCED_EXIT) !== 0;
  }

  rawPaste() {
    const s = this.serial;
    s.writeBinary(Buffer.from([0x52, 0x01, WINDOW & 0xff, WINDOW >> 8, 0x01]));
    s.flush();
    const code = [];
    let n = 0;
    for (;;) {
      const c = this.nextByte();
      if (c === 4) break;
      if (c === 3) {
        s.writeBinary(Buffer.from([4]));
        return this.runPasted(Buffer.from("raise KeyboardInterrupt"));
      }
      code.push(c);
      if (++n === WINDOW) {
        n = 0;
        s.writeBinary(Buffer.from([1]));
        s.flush();
      }
    }
    s.writeBinary(Buffer.from([4]));
    return this.runPasted(Buffer.from(code));
  }

  runPasted(src) {
    this.serial.swallow = Buffer.from("OK"); // raw-paste replies carry no "OK"
    for (const c of src) this.feed(c);
    const r = this.feed(4);
    this.serial.swallow = null;
    this.rawLen = 0;
    return (r & FORCED_EXIT) !== 0;
  }
}
