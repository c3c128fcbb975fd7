// One boot of the virtual board: a fresh MicroPython VM (npm wasm port) in a worker thread.
// A reset of any kind ends the worker; the supervisor (board.mjs) starts the next one, so every
// boot gets a clean VM, like a board's RAM after reset.
//
// How the board's I/O is wired into the VM:
// - Serial: the Emscripten streams of fd 0/1/2 are replaced. fd 0 read blocks until a byte is
//   queued (MicroPython's own loop then fills read(n)/readinto as on a board) and fails with
//   EINTR after scheduling a KeyboardInterrupt when Ctrl-C arrives, which MicroPython turns
//   into the exception; poll() reports POLLIN from the queue, so select.poll/ipoll on
//   sys.stdin work. fd 1/2 are text (cooked), and sys.stdout.buffer is re-pointed (vb_boot) at
//   fd 100, a binary stream, so binary output is not altered.
// - Ctrl-C: every host call (time, sleeps, stdin, poll, fs) polls the pty; 0x03 equal to the
//   VM's interrupt char (micropython.kbd_intr) schedules a KeyboardInterrupt, raised at the
//   next bytecode branch. Code that never calls the host cannot be interrupted.
// - REPL: repl.mjs, on the port's event-driven pyexec (raw-paste done there).
// - Resets: host.reset() (machine.reset etc.) and the watchdog throw a JS exception through
//   the wasm frames, which ends the VM on the spot (no Python finally blocks run).
// - The port's C-level clock imports are replaced (select.poll timeouts, the port's time
//   functions) so they follow the board clock, and its random seed is made deterministic.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parentPort, workerData } from "node:worker_threads";

import { Clock, SH } from "./clock.mjs";
import { Flash } from "./flash.mjs";
import { Repl } from "./repl.mjs";
import { Serial, sleepReal } from "./serial.mjs";

const cfg = workerData.cfg;
const state = workerData.state; // {bootCause, mode, soft, rx}
const shared = new Float64Array(workerData.sab);

const FORCED_EXIT = 0x100; // PYEXEC_FORCED_EXIT (run_file reports it for SystemExit)
const BINARY_FD = 100;
const POLLIN = 1;
const POLLOUT = 4;
const EINTR = 27; // Emscripten's errno values
const EAGAIN = 6;
const CAUSES = { 1: "PWRON_RESET", 2: "HARD_RESET", 3: "WDT_RESET", 4: "DEEPSLEEP_RESET",
  5: "SOFT_RESET" };
const WDT_RESET = 3;

class BoardReset {
  constructor(kind, cause, ms) {
    this.kind = kind;
    this.cause = cause;
    this.ms = ms || 0;
  }
}

let mp = null;
let M = null;
let FS = null;
let inPython = false;
let kiPending = false;
let lastService = 0;
let result = 0;
let mode = state.mode;
let snap = 0;

const serial = new Serial(cfg.fd);
const clock = new Clock(cfg, shared);
clock.onWdt = () => {
  throw new BoardReset("wdt", WDT_RESET);
};
serial.onStall = (ms) => clock.advance(ms * 1000);
serial.pushAll(state.rx || []);
serial.filter = (c) => {
  if (!inPython || M === null || c !== M._mp_hal_get_interrupt_char()) return false;
  M._mp_sched_keyboard_interrupt();
  kiPending = true;
  return true;
};

const flash = new Flash({
  dir: cfg.flashDir,
  capacity: cfg.capacity,
  fsModel: cfg.fsModel,
  cutAtWrite: cfg.cutAtWrite,
  writes: shared[SH.WRITES],
  epochS: () => Math.floor(clock.epochUs() / 1e6),
  heap: () => M.HEAPU8,
  onPowerCut: (n) => {
    parentPort.postMessage({ type: "powercut", write: n });
    for (;;) sleepReal(1000); // the supervisor ends the process
  },
});

class Recorder {
  constructor(file) {
    this.fd = file ? fs.openSync(file, "a") : -1;
    this.lines = [];
    this.bytes = 0;
    this.last = Date.now();
  }

  add(t, ch, v) {
    if (this.fd < 0) return;
    const line = `{"t_ms":${t},"ch":${JSON.stringify(ch)},"v":${v}}\n`;
    this.lines.push(line);
    this.bytes += line.length;
    if (this.bytes > 65536) this.flush();
  }

  flush() {
    if (this.lines.length) fs.writeSync(this.fd, this.lines.join(""));
    this.lines = [];
    this.bytes = 0;
    this.last = Date.now();
  }

  maybeFlush(now) {
    if (now - this.last >= 1000) this.flush();
  }

  close() {
    if (this.fd < 0) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = -1;
  }
}
const recorder = new Recorder(cfg.record);

// -- host services ----------------------------------------------------------------------------

function service(force) {
  const now = Date.now();
  shared[SH.HEARTBEAT] = now;
  if (!force && now - lastService < 2) return;
  lastService = now;
  serial.pollIn();
  serial.flush();
  recorder.maybeFlush(now);
}

// Wait for the outside world (input): real time passes, and so does virtual time.
function waitIdle(ms) {
  serial.flush();
  recorder.maybeFlush(Date.now());
  const t = performance.now();
  sleepReal(ms);
  clock.advance(Math.round((performance.now() - t) * 1000));
  clock.checkWdt();
  shared[SH.HEARTBEAT] = Date.now();
}

function sleepUs(us) {
  clock.tick();
  kiPending = false;
  if (!clock.realtime) {
    clock.advance(us);
    service(false);
    const ahead = clock.aheadMs();
    if (ahead > 1) sleepReal(Math.min(ahead, 500));
    return;
  }
  const end = clock.now() + us;
  service(true);
  while (!kiPending) {
    clock.checkWdt();
    const left = end - clock.now();
    if (left <= 0) return;
    sleepReal(Math.min(5, left / 1000));
    service(true);
  }
}

function u8(buffer, offset, length) {
  return new Uint8Array(buffer.buffer, buffer.byteOffset + offset, length);
}

function stdinRead(stream, buffer, offset, length) {
  if (length === 0) return 0;
  if (serial.available() === 0) {
    kiPending = false;
    serial.pollIn();
    while (serial.available() === 0) {
      if (kiPending) {
        kiPending = false;
        throw new FS.ErrnoError(EINTR); // MicroPython then raises the pending KeyboardInterrupt
      }
      waitIdle(2);
      serial.pollIn();
    }
  }
  return serial.takeInto(u8(buffer, offset, length), 0, length);
}

function afterWrite() {
  if (serial.txLen >= 1024) serial.flush();
  service(false);
}

function installStreams() {
  const base = { open() {}, close() {}, fsync() {} };
  FS.getStream(0).stream_ops = {
    ...base,
    read: stdinRead,
    write: (s, b, o, l) => l,
    poll() {
      clock.checkWdt();
      service(false);
      return serial.available() ? POLLIN : 0;
    },
  };
  const text = {
    ...base,
    read() {
      throw new FS.ErrnoError(EAGAIN);
    },
    write(s, b, o, l) {
      serial.writeText(u8(b, o, l));
      afterWrite();
      return l;
    },
    poll() {
      service(false);
      return serial.canWrite() ? POLLOUT : 0;
    },
  };
  FS.getStream(1).stream_ops = text;
  FS.getStream(2).stream_ops = text;
  const bin = FS.dupStream(FS.getStream(1), BINARY_FD);
  bin.stream_ops = {
    ...text,
    write(s, b, o, l) {
      serial.writeBinary(u8(b, o, l));
      afterWrite();
      return l;
    },
  };
}

const host = {
  config: () =>
    JSON.stringify({
      board: cfg.board,
      title: cfg.boardTitle,
      profile: cfg.profile,
      seed: cfg.seed,
      persona: cfg.persona,
      boot_cause: state.bootCause,
      vdev: !!cfg.vdevDir,
    }),
  log: (msg) => parentPort.postMessage({ type: "log", text: String(msg) }),
  result: (r) => {
    result = r;
  },
  // sys.stdout.buffer is a C object {type, fd}: point its fd at the binary stream.
  patch_fd: (addr, fd) => {
    if (M.getValue(addr + 4, "i32") === fd) M.setValue(addr + 4, BINARY_FD, "i32");
  },
  ticks_ms: () => {
    clock.tick();
    service(false);
    return clock.ticksMs();
  },
  ticks_us: () => {
    clock.tick();
    service(false);
    return clock.ticksUs();
  },
  ticks_cpu: () => {
    clock.tick();
    service(false);
    return clock.ticksUs();
  },
  sleep: (ms, us) => sleepUs(ms * 1000 + us),
  idle: () => {
    clock.tick();
    service(true);
  },
  epoch: () => {
    snap = clock.epochUs();
    return Math.floor(snap / 1e6);
  },
  epoch_ns: () => (snap % 1e6) * 1000,
  clock_ms: () => {
    snap = clock.now();
    return Math.floor(snap / 1000);
  },
  clock_us: () => snap % 1000,
  wdt_start: (ms) => clock.wdtStart(ms),
  wdt_feed: () => clock.wdtFeed(),
  reset: (kind, cause, ms) => {
    throw new BoardReset(kind, cause, ms);
  },
  record: (t, ch, v) => recorder.add(t, ch, v),
  fs_stat: (p) => fsCall(() => flash.stat(p)),
  fs_listdir: (p) => fsCall(() => flash.listdir(p)),
  fs_mkdir: (p) => fsCall(() => flash.mkdir(p)),
  fs_remove: (p) => fsCall(() => flash.remove(p)),
  fs_rename: (a, b) => fsCall(() => flash.rename(a, b)),
  fs_statvfs: () => fsCall(() => flash.statvfs()),
  fs_open: (p, flags) => fsCall(() => flash.open(p, flags)),
  fs_read: (h, addr, n) => fsCall(() => flash.read(h, addr, n)),
  fs_readline: (h, addr, n) => fsCall(() => flash.readline(h, addr, n)),
  fs_write: (h, addr, n) => {
    const r = fsCall(() => flash.write(h, addr, n));
    shared[SH.WRITES] = flash.writes;
    return r;
  },
  fs_seek: (h, off, whence) => fsCall(() => flash.seek(h, off, whence)),
  fs_size: (h) => fsCall(() => flash.size(h)),
  fs_flush: (h) => fsCall(() => flash.flush(h)),
  fs_close: (h) => fsCall(() => flash.close(h)),
};

function fsCall(fn) {
  clock.checkWdt();
  service(false);
  try {
    return fn();
  } catch (e) {
    // A host-side surprise must not unwind the VM: report it as EIO.
    parentPort.postMessage({ type: "log", text: "vboard flash: " + (e && e.stack ? e.stack : e) });
    return -5;
  }
}

// -- VM ---------------------------------------------------------------------------------------

let rng = (cfg.seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function (binary, imports, ...rest) {
  const env = imports && imports.env;
  if (env && env.mp_js_ticks_ms) {
    // C-level busy waits (select.poll timeouts) spin on this: 10 us of virtual time per spin.
    env.mp_js_ticks_ms = () => {
      clock.advance(10);
      clock.checkWdt();
      service(false);
      return clock.ticksMs();
    };
    env.mp_js_time_ms = () => Math.floor(clock.epochUs() / 1000);
    env.mp_js_random_u32 = () => {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      return rng >>> 0;
    };
  }
  return instantiate.call(this, binary, imports, ...rest);
};

function copyPy(src, dst, all) {
  if (!src || !fs.existsSync(src)) return;
  FS.mkdirTree(dst);
  for (const ent of fs.readdirSync(src, { withFileTypes: true })) {
    const p = path.join(src, ent.name);
    if (ent.isDirectory() && all && !ent.name.startsWith("_") && !ent.name.startsWith(".")) {
      copyPy(p, dst + "/" + ent.name, all);
    } else if (ent.isFile() && ent.name.endsWith(".py") && (all || ent.name !== "__init__.py")) {
      FS.writeFile(dst + "/" + ent.name, fs.readFileSync(p));
    }
  }
}

async function loadVm() {
  const { loadMicroPython } = await import(pathToFileURL(cfg.mjs).href);
  mp = await loadMicroPython({
    heapsize: cfg.heap,
    linebuffer: false,
    stdout: (b) => serial.writeText(b),
    stderr: (b) => serial.writeText(b),
  });
  M = mp._module;
  FS = mp.FS;
  installStreams();
  copyPy(cfg.pyDir, "/_vboard/lib", false);
  copyPy(cfg.vdevDir, "/_vboard/vdev", false);
  if (cfg.persona) {
    copyPy(cfg.simDir, "/_vboard/lib/sim", true);
    copyPy(cfg.pacerDir, "/_vboard/lib/pacer", true);
  }
  mp.registerJsModule("_vbhost", host);
}

function py(fn) {
  inPython = true;
  shared[SH.BUSY] = 1;
  try {
    return fn();
  } finally {
    inPython = false;
    shared[SH.BUSY] = 0;
    serial.flush();
  }
}

function runPython(code) {
  try {
    py(() => mp.runPython(code));
  } catch (e) {
    if (e instanceof BoardReset || e.name !== "PythonError") throw e;
    host.log("vboard: " + e.message);
  }
}

function runFile(name) {
  result = 0;
  runPython(`import vb_boot as _vbb\n_vbb.run_file(${JSON.stringify(name)}, globals())\ndel _vbb\n`);
  return result;
}

function nextByte() {
  for (;;) {
    const c = serial.take();
    if (c >= 0) return c;
    waitIdle(2);
    serial.pollIn();
  }
}

function finish(msg) {
  inPython = false;
  shared[SH.BUSY] = 0;
  clock.now(); // publish the clock
  recorder.close();
  flash.closeAll();
  parentPort.postMessage(msg);
}

function softReset(cause) {
  serial.writeText(Buffer.from("MPY: soft reboot\n"));
  serial.drain(500);
  finish({ type: "reset", kind: "soft", cause, mode, rx: [...serial.pending()] });
}

function boardReset(e) {
  if (e.kind === "soft") return softReset(e.cause);
  if (e.kind === "deepsleep" && e.ms > 0) clock.advance(e.ms * 1000);
  mode = "friendly";
  serial.drain(100);
  finish({ type: "reset", kind: e.kind, cause: e.cause, mode, sleepMs: clock.realtime ? e.ms : 0 });
}

async function main() {
  await loadVm();
  recorder.add(Math.floor(clock.now() / 1000), "boot", JSON.stringify(CAUSES[state.bootCause] || ""));
  try {
    runPython("import sys\nsys.path[:0] = ['/_vboard/lib', '/_vboard/vdev']\nimport vb_boot\nvb_boot.boot()\ndel vb_boot, sys\n");
    parentPort.postMessage({ type: "booted" });
    let r = runFile("boot.py");
    if (!(r & FORCED_EXIT) && mode === "friendly") r = runFile("main.py");
    if (!(r & FORCED_EXIT)) {
      const chip = ((cfg.profile || {}).chip || "rp2040").toUpperCase();
      const repl = new Repl({ mp, serial, run: py, nextByte, mode,
        title: `${cfg.boardTitle} (vboard) with ${chip}` });
      try {
        repl.loop();
      } finally {
        mode = repl.mode;
      }
    }
    softReset(state.bootCause);
  } catch (e) {
    if (!(e instanceof BoardReset)) throw e;
    boardReset(e);
  }
}

main().catch((e) => {
  parentPort.postMessage({ type: "crash", text: e && e.stack ? e.stack : String(e) });
});
