// Run one job in the real MicroPython VM (npm @micropython/micropython-webassembly-pyscript).
//
// stdin:  JSON {"heap": int, "files": {vmpath: text}, "dirs": {vmdir: hostdir}, "path": [vmdir],
//               "code": str, "settrace": bool, "grow": bool}
// stdout: the VM's stdout, streamed (flushed per line).
// stderr: the VM's stderr, then one final line "MPVM-STATUS:" + JSON
//         {"ok": true} | {"ok": false, "type", "message", "traceback"} | {"ok": false, "runner": msg}
// exit:   0 ok, 1 Python exception, 2 runner failure.
//
// Heap: the stock pyscript build grows its GC heap on demand (split heap, up to 128 MiB per
// split). Unless "grow" is true we cap it: once the VM is loaded, wasm memory growth is refused
// and the remaining C heap is reserved, so the Python heap is exactly "heap" bytes and running
// out raises MemoryError like on the board.
// GC: this build only collects when control returns to JavaScript (gc.collect() just marks a
// collection as pending). Long-running code can `await mpvm_host.collect()` (top-level await
// is allowed) to collect mid-run.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const STATUS = "MPVM-STATUS:";
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const PKG = path.join(REPO, "node_modules", "@micropython", "micropython-webassembly-pyscript");

let errLastByte = 10;
function writeErr(buf) {
  if (buf.length) {
    process.stderr.write(buf);
    errLastByte = buf[buf.length - 1];
  }
}
function finish(code, status) {
  out.flush();
  err.flush();
  writeErr(Buffer.from((errLastByte === 10 ? "" : "\n") + STATUS + JSON.stringify(status) + "\n"));
  process.exit(code);
}
function runnerFail(msg) {
  finish(2, { ok: false, runner: String(msg) });
}

// Byte sink: the VM calls back once per byte; batch them and flush on newline.
function sink(fd) {
  const buf = Buffer.alloc(65536);
  let n = 0;
  const emit = fd === 1 ? (b) => process.stdout.write(b) : writeErr;
  const s = {
    put(bytes) {
      for (const c of bytes) {
        buf[n++] = c;
        if (c === 10 || n === buf.length) s.flush();
      }
    },
    flush() {
      if (n) {
        emit(Buffer.from(buf.subarray(0, n)));
        n = 0;
      }
    },
  };
  return s;
}
const out = sink(1);
const err = sink(2);

// Lets us refuse wasm memory growth after start-up (see the heap note above).
let growthLocked = false;
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = function (binary, imports, ...rest) {
  const env = imports && imports.env;
  if (env && typeof env.emscripten_resize_heap === "function") {
    const resize = env.emscripten_resize_heap;
    env.emscripten_resize_heap = (n) => (growthLocked ? 0 : resize(n));
  }
  return instantiate.call(this, binary, imports, ...rest);
};

function mkdirs(FS, dir) {
  let cur = "";
  for (const part of dir.split("/").filter(Boolean)) {
    cur += "/" + part;
    if (!FS.analyzePath(cur).exists) FS.mkdir(cur);
  }
}

function copyTree(FS, host, vm) {
  mkdirs(FS, vm);
  for (const ent of fs.readdirSync(host, { withFileTypes: true })) {
    if (ent.name === "__pycache__" || ent.name.startsWith(".")) continue;
    const h = path.join(host, ent.name);
    const v = vm + "/" + ent.name;
    if (ent.isDirectory()) copyTree(FS, h, v);
    else if (ent.isFile() && (ent.name.endsWith(".py") || ent.name.endsWith(".mpy")))
      FS.writeFile(v, fs.readFileSync(h)); // .mpy: bytecode compiled by mpy-cross
  }
}

// Cap the Python heap: no more wasm growth, and every free C-heap byte except `keep` is taken.
function capHeap(M, keep) {
  growthLocked = true;
  const slack = M._malloc(keep);
  if (!slack) throw new Error("cannot reserve C heap for the run");
  for (let size = 1 << 30; size >= 16; ) {
    if (!M._malloc(size)) size >>>= 1;
  }
  M._free(slack);
}

function splitTraceback(type, tb) {
  // MicroPython: "Traceback (most recent call last):\n  File ...\nType: message\n"
  const lines = tb.replace(/\n$/, "").split("\n");
  let i = 0;
  while (i < lines.length && (i === 0 ? lines[i].startsWith("Traceback") : lines[i].startsWith(" "))) i++;
  const last = lines.slice(i).join("\n");
  if (last === type) return "";
  if (last.startsWith(type + ": ")) return last.slice(type.length + 2);
  return last;
}

const SRC = "/__mpvm__/main.py";
// Globals the wrapper stores into exist beforehand, so catching allocates nothing.
const setup = (syspath) => `import sys, gc
sys.path[0:0] = ${JSON.stringify(syspath)}
__mpvm_box = [None]
__mpvm_e = __mpvm_r = __mpvm_code = None
__mpvm_gen = type((lambda: (yield))())
__mpvm_run = compile("""
try:
    __mpvm_r = exec(__mpvm_code)
    if type(__mpvm_r) is __mpvm_gen:
        await __mpvm_r
except BaseException as __mpvm_e:
    __mpvm_box[0] = __mpvm_e
""", "<mpvm>", "exec")
__mpvm_compile = compile("""
try:
    with open("${SRC}") as __mpvm_r:
        __mpvm_code = compile(__mpvm_r.read(), "<stdin>", "exec")
except BaseException as __mpvm_e:
    __mpvm_box[0] = __mpvm_e
__mpvm_r = None
gc.collect()
""", "<mpvm>", "exec")
`;
const FORMAT = `import sys as __mpvm_sys, io as __mpvm_io
__mpvm_r = __mpvm_io.StringIO()
__mpvm_sys.print_exception(__mpvm_box[0], __mpvm_r)
__mpvm_r = type(__mpvm_box[0]).__name__ + "\x04" + __mpvm_r.getvalue()
`;

async function main() {
  let job;
  try {
    job = JSON.parse(fs.readFileSync(0, "utf8"));
  } catch (e) {
    return runnerFail("bad job on stdin: " + e.message);
  }
  const mjs = path.join(PKG, "micropython.mjs");
  if (!fs.existsSync(mjs)) return runnerFail(`${mjs} missing: run \`make setup\``);
  const { loadMicroPython } = await import(pathToFileURL(mjs).href);

  const heap = job.heap ?? 192 * 1024;
  if (!(Number.isInteger(heap) && heap >= 8192)) return runnerFail(`heap must be an int >= 8192, got ${heap}`);
  const opts = {
    heapsize: heap,
    linebuffer: false,
    stdout: (b) => out.put(b),
    stderr: (b) => err.put(b),
  };
  if (job.settrace) opts.url = path.join(PKG, "micropython-settrace.wasm");
  if (job.romfs) {
    if (!fs.statSync(job.romfs, { throwIfNoEntry: false })?.isFile())
      return runnerFail(`romfs: ${job.romfs} is not a file`);
    // Outside the GC heap, like a board's memory-mapped ROMFS partition: .mpy bytecode in it
    // runs in place and does not count against `heap`.
    opts.romfs = new Uint8Array(fs.readFileSync(job.romfs));
  }
  const mp = await loadMicroPython(opts);

  const code = String(job.code ?? "");
  if (!job.grow) {
    // Spare C heap for the runner's own small sources and proxies; less than `heap`, so no
    // new GC heap split can fit in it.
    capHeap(mp._module, 2048 + Math.min(heap >> 1, 16384));
  }

  const FS = mp.FS;
  for (const [vm, host] of Object.entries(job.dirs ?? {})) {
    if (!fs.statSync(host, { throwIfNoEntry: false })?.isDirectory())
      return runnerFail(`dirs: ${host} is not a directory`);
    copyTree(FS, host, vm);
  }
  for (const [vm, text] of Object.entries(job.files ?? {})) {
    mkdirs(FS, path.posix.dirname(vm));
    FS.writeFile(vm, text);
  }
  mkdirs(FS, path.posix.dirname(SRC));
  FS.writeFile(SRC, code);
  mkdirs(FS, "/lib");
  FS.writeFile(
    "/lib/mpvm_host.py",
    "import gc\nimport _mpvm_js\n\n\nasync def collect(full=True):\n" +
      "    gc.collect()  # only marks a collection as pending in this VM\n" +
      "    await _mpvm_js.tick(full)  # back at the JS top level it runs\n",
  );
  // Each await leaves JS-side proxies of Python callables (the promise's resolve and reject)
  // that hold Python objects until V8 collects them and the port's FinalizationRegistry frees
  // them: when that happens depends on V8's timing, and a heap peak measured across a session
  // then varied by ~5 KB from run to run. So V8 collects here, and its finalisers run (two turns
  // of the event loop), before the Python collection: the proxies of earlier awaits are gone.
  // collect(False) skips V8's collection: a replay collects every 50 samples, and a full V8
  // collection each time made it three times slower (~100x real time instead of ~300x).
  const tick = (full) => new Promise((r) => {
    if (full && globalThis.gc) globalThis.gc();
    setImmediate(() => setImmediate(r));
  });
  mp.registerJsModule("_mpvm_js", { tick });

  // The user's code runs inside a wrapper that catches its exception: the port formats an
  // uncaught exception on the (possibly full) GC heap and hangs if that fails. We format it
  // after returning to JS, with heap growth re-enabled.
  await mp.runPythonAsync(setup(job.path ?? [])); // async: compile() may then accept top-level await
  await mp.runPythonAsync("exec(__mpvm_compile)");
  await mp.runPythonAsync("if __mpvm_code is not None:\n    await exec(__mpvm_run)\n");
  growthLocked = false;
  mp.runPython("__mpvm_r = __mpvm_box[0] is not None");
  if (mp.globals.get("__mpvm_r")) {
    mp.runPython(FORMAT);
    const text = mp.globals.get("__mpvm_r");
    const type = text.slice(0, text.indexOf("\x04"));
    const tb = text
      .slice(type.length + 1)
      .split("\n")
      .filter((l) => !l.startsWith('  File "<mpvm>"'))
      .join("\n");
    return finish(1, { ok: false, type, message: splitTraceback(type, tb), traceback: tb });
  }
  finish(0, { ok: true });
}

process.on("unhandledRejection", (e) => runnerFail(e && e.stack ? e.stack : e));
main().catch((e) => runnerFail(e && e.stack ? e.stack : e));
