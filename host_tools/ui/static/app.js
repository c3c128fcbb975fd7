/* pacer ui page. Two ways to reach a board, one view:
   - served by `pacer ui` (the address holds #token=...): a WebSocket to the server, which owns
     the serial port; programs, settings and progress through its /api/;
   - opened from a static copy (no token): Web Serial in Chromium browsers, speaking
     docs/protocol.md directly (lines, replies in command order, T frames, JSON events).
   Frames reach the view as [seq, t_ms, pressure_cp, target_cp, step, cue, abdominal_cp|null]. */
"use strict";

const CUE = { MOTOR: 1, REACHED: 2, TENSION: 4, PAUSED: 8, FAULT: 16 };
const WINDOW_S = 30;                 // seconds of trace on the live chart
const KEEP = 50 * 40;                // points kept for it (40 s at 50 Hz)
const NUDGE_MS = 5000;
const LATENCY_KEEP = 500000;         // frame latencies kept for `make bench` (bounded)
const CONTRACT = new Set(["squeeze", "flick", "max"]);   // steps drawn against the target band
const PHASE_WORDS = { rest: "Rest", squeeze: "Squeeze", flick: "Quick squeeze", max: "Squeeze hard",
  release: "Let go", drop: "Drop: let go", push: "Gentle push", relax: "Relax" };
const BREATH_WORDS = { free: "breathe freely", inhale: "breathe in", hold: "hold the breath",
  exhale: "breathe out" };

/* ---------------- protocol (Web Serial mode; the server does this in Python) ---------------- */

function s16(h) { const v = parseInt(h, 16); return v >= 0x8000 ? v - 0x10000 : v; }

function parseFrame(line) {
  const n = line.length;
  if ((n !== 26 && n !== 31) || line[0] !== "T") return null;
  for (let i = 1; i < n; i++) {
    const c = line[i], comma = (i === 9 || i === 14 || i === 19 || i === 23 || i === 26);
    if ((c === ",") !== comma) return null;
    if (c !== "," && "0123456789abcdef".indexOf(c) < 0) return null;
  }
  const step = parseInt(line.slice(20, 23), 16);
  return [parseInt(line.slice(1, 3), 16), parseInt(line.slice(3, 9), 16), s16(line.slice(10, 14)),
    s16(line.slice(15, 19)), step === 0xfff ? -1 : step, parseInt(line.slice(24, 26), 16),
    n === 31 ? s16(line.slice(27, 31)) : null];
}

/* A board over Web Serial: replies come in the order commands were sent (protocol section 2). */
class SerialBoard {
  constructor(onItem) { this.onItem = onItem; this.waiting = []; this.buf = ""; this.chain = Promise.resolve(); }
  async open(port) {
    this.port = port;
    await port.open({ baudRate: 115200 });
    this.writer = port.writable.getWriter();
    this.readLoop();
    await this.writeLine("");            // end any half line a previous host left
    const hello = await this.command("hello");
    if (!hello.ok || hello.protocol !== 1) throw new Error("this device does not speak pacer protocol 1");
    return hello;
  }
  async readLoop() {
    const reader = this.port.readable.getReader();
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buf += dec.decode(value, { stream: true });
        let i;
        while ((i = this.buf.indexOf("\n")) >= 0) {
          const line = this.buf.slice(0, i).replace(/\r$/, "");
          this.buf = this.buf.slice(i + 1);
          this.line(line);
        }
        if (this.buf.length > 4096) this.buf = "";
      }
    } catch (e) { /* unplugged */ }
    this.onItem("lost", { error: "the board went away; plug it in and connect again" });
  }
  line(line) {
    if (line.startsWith("T")) { const f = parseFrame(line); if (f) this.onItem("frame", f); return; }
    if (line.startsWith("R ")) { const w = this.waiting[0]; if (w) { try { w.records.push(JSON.parse(line.slice(2))); } catch (e) { /* torn */ } } return; }
    if (!line.startsWith("{")) return;
    let msg;
    try { msg = JSON.parse(line); } catch (e) { return; }
    if (msg === null || typeof msg !== "object") return;
    if ("ok" in msg) { const w = this.waiting.shift(); if (w) { msg.records = w.records; w.resolve(msg); } }
    else if ("type" in msg) this.onItem("event", msg);
  }
  writeLine(text) {
    this.chain = this.chain.then(() => this.writer.write(new TextEncoder().encode(text + "\n")));
    return this.chain;
  }
  command(text) {
    return new Promise((resolve) => { this.waiting.push({ resolve, records: [] }); this.writeLine(text); });
  }
  async pushProgram(text) {
    let spec;
    try { spec = JSON.parse(text); } catch (e) { return { error: "the program is not valid JSON: " + e.message }; }
    const r = await this.command("programs push " + JSON.stringify(spec));
    return r.ok ? { ok: true, name: r.name } : { error: r.error };
  }
  async setConfig(key, value) {
    let v = value;
    try { v = JSON.parse(value); } catch (e) { /* a bare word is a string, as in pacer config set */ }
    const r = await this.command("config set " + key + " " + JSON.stringify(v));
    return r.ok ? { ok: true, value: r.value } : { error: r.error };
  }
}

/* A board behind `pacer ui`: the server owns the port. */
class ServerBoard {
  constructor(token, onItem) {
    this.token = token; this.onItem = onItem; this.next = 1; this.waiting = new Map();
  }
  open() {
    const ws = new WebSocket("ws://" + location.host + "/ws?token=" + encodeURIComponent(this.token));
    this.ws = ws;
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      if (msg.k === "frame") this.onItem("frame", msg.f, msg.h);
      else if (msg.k === "event") this.onItem("event", msg.e);
      else if (msg.k === "reply") {
        const w = this.waiting.get(msg.id);
        if (w) { this.waiting.delete(msg.id); w(msg.error ? { ok: false, error: msg.error } : msg.r); }
      } else this.onItem(msg.k, msg);
    };
    ws.onclose = () => this.onItem("lost", { error: "the connection to pacer ui closed; is it still running?" });
    return new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  }
  command(text) {
    const id = this.next++;
    return new Promise((resolve) => { this.waiting.set(id, resolve); this.ws.send(JSON.stringify({ id, cmd: text })); });
  }
  async api(path, opts) {
    const o = opts || {};
    o.headers = Object.assign({ "X-Pacer-Token": this.token }, o.headers || {});
    const r = await fetch(path, o);
    const body = await r.json();
    if (!r.ok && !body.error) body.error = "HTTP " + r.status;
    return body;
  }
  pushProgram(text) { return this.api("/api/programs", { method: "POST", body: text }); }
  setConfig(key, value) {
    return this.api("/api/config", { method: "POST", body: JSON.stringify({ key, value }),
      headers: { "Content-Type": "application/json" } });
  }
}

/* ---------------- live view ---------------- */

class Live {
  constructor() {
    this.xs = []; this.ps = []; this.targets = []; this.rests = [];
    this.phase = null; this.rest = null; this.lastFrame = null; this.dirty = false;
    this.frames = 0; this.drawn = 0; this.lost = 0; this.prevSeq = null;
    this.latencies = []; this.readTimes = [];   // ms from the serial port to drawn, per frame
    this.nudgeUntil = 0; this.running = false; this.paused = false;
    this.totalMs = null;       // the running program's length, when the server told it
    this.states = [];          // the engine's state events, in order
    const el = document.getElementById("chart");
    const css = getComputedStyle(document.documentElement);
    const c = (n) => css.getPropertyValue(n).trim();
    this.chart = new uPlot({
      width: Math.max(300, el.clientWidth), height: 320, legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false }, y: { range: (u, lo, hi) => [Math.min(0, lo - 2), Math.max(20, hi + 3)] } },
      axes: [{ label: "seconds", size: 40, font: "14px sans-serif", labelFont: "14px sans-serif" },
             { label: "cmH2O", size: 55, font: "14px sans-serif", labelFont: "14px sans-serif" }],
      series: [{},
        { label: "target band", stroke: c("--orange"), width: 2, fill: "rgba(230,159,0,0.22)",
          fillTo: (u) => u.scales.y.max, spanGaps: false },
        { label: "resting level", stroke: c("--ink"), width: 2, dash: [8, 6], spanGaps: false },
        { label: "pressure", stroke: c("--blue"), width: 3.5 }],
    }, [this.xs, this.targets, this.rests, this.ps], el);
    window.addEventListener("resize", () => this.chart.setSize({ width: Math.max(300, el.clientWidth), height: 320 }));
    const tick = () => { this.draw(); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
  }

  reset() {
    for (const a of [this.xs, this.ps, this.targets, this.rests]) a.length = 0;
    this.rest = null; this.phase = null;
    document.getElementById("verdicts").textContent = "";
    document.getElementById("verdicts-hint").hidden = false;
    document.getElementById("summary").hidden = true;
  }

  frame(f, hostMs) {
    const [seq, t, p, target, step, cue] = f;
    if (this.prevSeq !== null) this.lost += (seq - this.prevSeq - 1) & 0xff;
    this.prevSeq = seq; this.frames++;
    if (step < 0) { this.lastFrame = f; this.dirty = true; return; }
    if (this.xs.length && t / 1000 < this.xs[this.xs.length - 1]) this.reset();   // a new session
    this.xs.push(t / 1000); this.ps.push(p / 100);
    const band = target > 0 && this.phase !== null && CONTRACT.has(this.phase.muscle);
    this.targets.push(band ? target / 100 : null);
    this.rests.push(this.rest);
    // trimmed in chunks: one splice per 500 frames, not one per frame
    if (this.xs.length > KEEP + 500) for (const a of [this.xs, this.ps, this.targets, this.rests]) a.splice(0, a.length - KEEP);
    if (cue & CUE.TENSION) this.nudge();
    this.lastFrame = f; this.dirty = true;
    if (hostMs !== undefined && this.readTimes.length < LATENCY_KEEP) this.readTimes.push(hostMs);
  }

  draw() {
    if (!this.dirty) return;
    this.dirty = false;
    const f = this.lastFrame;
    if (this.xs.length) {
      const last = this.xs[this.xs.length - 1];
      this.chart.batch(() => {
        this.chart.setData([this.xs, this.targets, this.rests, this.ps], false);
        this.chart.setScale("x", { min: Math.max(0, last - WINDOW_S), max: Math.max(WINDOW_S, last) });
      });
      this.drawn++;
      // serial port to drawn: the server's read time against this draw, on the same clock
      const now = performance.timeOrigin + performance.now();
      for (const h of this.readTimes) if (this.latencies.length < LATENCY_KEEP) this.latencies.push(now - h);
    }
    this.readTimes.length = 0;
    if (!f) return;
    document.getElementById("pressure").textContent = (f[2] / 100).toFixed(1);
    const tt = document.getElementById("target-text");
    const ph = this.phase;
    if (f[3] > 0 && ph && CONTRACT.has(ph.muscle)) tt.textContent = "target " + (f[3] / 100).toFixed(1) + ((f[5] & CUE.REACHED) ? "  reached" : "");
    else tt.textContent = this.rest !== null ? "resting level " + this.rest.toFixed(1) : "";
    if (ph && f[4] >= 0) {
      const left = Math.max(0, ph.t_ms + ph.duration_ms - f[1]);
      document.getElementById("countdown").textContent = Math.ceil(left / 1000);
      document.getElementById("elapsed").textContent = mmss(f[1]) + (this.totalMs ? " of " + mmss(this.totalMs) : "");
      this.breath(ph.breath, ph.duration_ms ? 1 - left / ph.duration_ms : 0);
    }
    if (this.nudgeUntil && performance.now() > this.nudgeUntil) {
      document.getElementById("nudge").hidden = true; this.nudgeUntil = 0;
    }
  }

  breath(kind, frac) {
    // the circle grows on the device's inhale cue, stays on hold, shrinks on exhale
    let s = 0.45;
    const k = Math.min(1, Math.max(0, frac));
    if (kind === "inhale") s = 0.45 + 0.55 * k;
    else if (kind === "hold") s = 1;
    else if (kind === "exhale") s = 1 - 0.55 * k;
    document.getElementById("breath-dot").style.transform = "scale(" + s.toFixed(3) + ")";
    document.getElementById("breath-text").textContent = BREATH_WORDS[kind] || "";
  }

  nudge() {
    const n = document.getElementById("nudge");
    n.hidden = false; this.nudgeUntil = performance.now() + NUDGE_MS;
  }

  event(e) {
    const t = e.type;
    if (t === "phase") {
      if (e.step === 0) this.reset();
      this.phase = e; this.running = true;
      // a new step's cue replaces a "let go" nudge: it must not linger into a squeeze
      document.getElementById("nudge").hidden = true; this.nudgeUntil = 0;
      const el = document.getElementById("phase");
      const word = e.role === "baseline" ? "Rest: measuring" : (PHASE_WORDS[e.muscle] || e.muscle);
      el.textContent = word; el.className = "phase " + e.muscle;
      document.getElementById("stepinfo").textContent = "step " + (e.step + 1);
      document.getElementById("countdown").textContent = Math.ceil(e.duration_ms / 1000);
      this.breath(e.breath, 0);
      controls(true, false);
    } else if (t === "zero" && e.baseline_cmH2O !== null && e.baseline_cmH2O !== undefined) {
      this.rest = e.baseline_cmH2O;
    } else if (t === "rep") {
      this.verdict(repText(e));
    } else if (t === "drop") {
      if (e.rest_cmH2O !== null && e.rest_cmH2O !== undefined) this.rest = e.rest_cmH2O;
      this.verdict(dropText(e));
    } else if (t === "alarm") {
      if (e.kind === "tension") { this.nudge(); this.verdict({ cls: "nudge-item", mark: "~", text: "Tension noticed: let go and breathe out" }); }
      else this.verdict({ cls: "miss", mark: "!", text: e.kind === "overpressure" ? "Too much pressure: ease off" : "Held too long: let go" });
    } else if (t === "fault" && e.active) {
      this.verdict({ cls: "miss", mark: "!", text: "Sensor problem: " + String(e.kind).replace(/_/g, " ") });
    } else if (t === "state") {
      this.paused = e.state === "paused";
      this.states.push(e.state);
      controls(e.state === "running" || e.state === "paused", this.paused);
    } else if (t === "summary") {
      this.running = false; controls(false, false);
      document.getElementById("phase").textContent = e.completed === false ? "Stopped" : "Done";
      document.getElementById("phase").className = "phase";
      document.getElementById("countdown").textContent = "";
      this.breath("free", 0);
      showSummary(e);
    }
  }

  verdict(v) {
    const li = document.createElement("li");
    li.className = v.cls;
    const m = document.createElement("span"); m.className = "mark"; m.textContent = v.mark;
    li.append(m, document.createTextNode(v.text));
    document.getElementById("verdicts-hint").hidden = true;
    document.getElementById("verdicts").append(li);
  }
}

function num(v, d) { return v === null || v === undefined ? "-" : Number(v).toFixed(d); }

function repText(r) {
  const flags = r.flags || [];
  if (r.achieved) {
    let t = "Rep " + r.index + ": reached the target, held " + num(r.held_ms / 1000, 1) + " s";
    if (r.relax_ms !== null && r.relax_ms !== undefined) t += ", let go in " + num(r.relax_ms / 1000, 1) + " s";
    else t += ", did not fully let go";
    return { cls: "good", mark: "\u2713", text: t };
  }
  const why = flags.indexOf("missed") >= 0 ? "no squeeze seen" :
    "peak " + num(r.peak_cmH2O, 1) + " of " + num(r.target_cmH2O, 1) + " cmH2O";
  return { cls: "miss", mark: "\u2717", text: "Rep " + r.index + ": not reached (" + why + ")" };
}

function dropText(d) {
  const flags = d.flags || [];
  const what = d.kind === "push" ? "Push " : "Drop ";
  if (flags.indexOf("paradoxical") >= 0)
    return { cls: "miss", mark: "\u2717", text: what + d.index + ": the floor tightened instead of letting go; soften and breathe out" };
  if (d.kind === "push" && d.pattern) {
    const words = { coordinated: "coordinated: belly and floor together", paradoxical: "the floor tightened while pushing",
      incomplete: "not fully let go", weak_push: "a very gentle push" };
    const ok = d.pattern === "coordinated";
    return { cls: ok ? "good" : "miss", mark: ok ? "\u2713" : "\u2717", text: what + d.index + ": " + (words[d.pattern] || d.pattern) };
  }
  if (d.achieved)
    return { cls: "good", mark: "\u2713", text: what + d.index + ": let go " + num(d.drop_cmH2O, 1) + " cmH2O below rest (" + num(d.relaxation_pct, 0) + " %)" };
  return { cls: "miss", mark: "\u2717", text: what + d.index + ": stayed near the resting level; try a slow breath out" };
}

function showSummary(s) {
  const rows = [];
  const add = (k, v) => { if (v !== null && v !== undefined) rows.push([k, v]); };
  const grades = { great: "Great session", good: "Good session", keep_going: "Keep going" };
  if (s.reps) add("reps reached", s.reps_achieved + " of " + s.reps);
  if (s.mean_held_ms) add("mean hold", num(s.mean_held_ms / 1000, 1) + " s");
  if (s.mean_relax_ms !== null && s.mean_relax_ms !== undefined && s.reps) add("mean time to let go", num(s.mean_relax_ms / 1000, 1) + " s");
  if (s.drops) add("drops below rest", s.drops_achieved + " of " + s.drops);
  if (s.pushes) add("coordinated pushes", s.pushes_coordinated + " of " + s.pushes);
  if (s.paradoxical) add("tightened instead of letting go", s.paradoxical + " times");
  if (s.tension_episodes !== undefined) add("tension nudges", s.tension_episodes);
  if (s.pre_baseline_cmH2O !== null && s.pre_baseline_cmH2O !== undefined)
    add("resting level at the start", num(s.pre_baseline_cmH2O, 1) + " cmH2O");
  if (s.reps && s.relax_quality_pct !== null && s.relax_quality_pct !== undefined)
    add("reps fully let go", s.relax_quality_pct + " %");
  // the device's change with the probe's warm-up taken out: the end's raw reading would count a
  // warming probe as tension
  if (s.rest_tone_change_cmH2O !== null && s.rest_tone_change_cmH2O !== undefined)
    add("resting tone change", num(s.rest_tone_change_cmH2O, 1) + " cmH2O");
  add("length", num((s.duration_ms || 0) / 1000, 0) + " s" + (s.completed === false ? " (stopped early)" : ""));
  const box = document.getElementById("summary");
  box.textContent = "";
  const h = document.createElement("h2");
  h.textContent = (s.grade && grades[s.grade]) ? grades[s.grade] : "Session summary";
  const dl = document.createElement("dl");
  for (const [k, v] of rows) {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  }
  box.append(h, dl); box.hidden = false;
}

/* ---------------- page ---------------- */

let board = null, live = null, serverMode = false;
const programTotals = {};      // name -> length in ms, from the server's program list

function setConn(text, cls) {
  const c = document.getElementById("conn"); c.textContent = text; c.className = "pill " + (cls || "");
}
function note(text) { document.getElementById("note").textContent = text; }

function controls(running, paused) {
  document.getElementById("start").disabled = running || !board;
  document.getElementById("pause").disabled = !running;
  document.getElementById("stop").disabled = !running;
  document.getElementById("pause").textContent = paused ? "Resume" : "Pause";
}

function onItem(kind, item, hostMs) {
  if (kind === "frame") live.frame(item, hostMs);
  else if (kind === "event") live.event(item);
  else if (kind === "board") boardReady(item.programs, item.status);
  else if (kind === "hello" || kind === "note") {
    if (item.note || item.text) note(item.note || item.text);
    if (item.saved && !document.getElementById("tab-progress").hidden) loadProgress();
  }
  else if (kind === "lost") { setConn("disconnected", "conn-bad"); note(item.error); }
}

function boardReady(names, status) {
  setConn("board connected", "conn-ok");
  const sel = document.getElementById("program");
  const keep = sel.value;
  sel.textContent = "";
  for (const n of names || []) { const o = document.createElement("option"); o.value = o.textContent = n; sel.append(o); }
  if (keep && (names || []).indexOf(keep) >= 0) sel.value = keep;
  if (serverMode) board.api("/api/programs").then((r) => { for (const p of r.programs || []) programTotals[p.name] = p.total_ms; });
  const st = status && status.state;
  controls(st === "running" || st === "paused", st === "paused");
  note("");
}

async function send(text) {
  const r = await board.command(text);
  if (!r.ok) note(r.error);
  return r;
}

function wireControls() {
  document.getElementById("start").onclick = async () => {
    const name = document.getElementById("program").value;
    if (!name) return;
    live.reset();
    note("");
    live.totalMs = programTotals[name] || null;
    const r = await send("start " + name);
    if (r.ok) controls(true, false);
  };
  document.getElementById("pause").onclick = async () => {
    const cmd = live.paused ? "resume" : "pause";
    const r = await send(cmd);
    // the engine's state event may come before or after this reply: both say the same
    if (r.ok) { live.paused = cmd === "pause"; controls(true, live.paused); }
  };
  document.getElementById("stop").onclick = () => send("stop");
  for (const b of document.querySelectorAll(".tab")) b.onclick = () => showTab(b.dataset.tab);
}

function showTab(name) {
  for (const b of document.querySelectorAll(".tab")) {
    if (b.dataset.tab === name) b.setAttribute("aria-current", "page"); else b.removeAttribute("aria-current");
  }
  for (const s of document.querySelectorAll(".tab-page")) s.hidden = s.id !== "tab-" + name;
  if (name === "programs") loadPrograms();
  if (name === "settings") loadSettings();
  if (name === "progress") loadProgress();
}

function mmss(ms) { if (ms === null || ms === undefined) return ""; const s = Math.round(ms / 1000); return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0"); }

function cell(tr, text) { const td = document.createElement("td"); td.textContent = text; tr.append(td); return td; }

async function loadPrograms() {
  if (!board) return;
  let rows;
  if (serverMode) rows = (await board.api("/api/programs")).programs;
  else rows = ((await board.command("programs list")).programs || []).map((n) => ({ name: n, title: "", builtin: null }));
  const tb = document.querySelector("#program-table tbody");
  tb.textContent = "";
  for (const p of rows) {
    const tr = document.createElement("tr");
    cell(tr, p.name); cell(tr, p.title || (p.builtin === false ? "(custom)" : "")); cell(tr, mmss(p.total_ms));
    cell(tr, p.reps === null || p.reps === undefined ? "" : p.reps);
    const b = document.createElement("button"); b.textContent = p.builtin ? "Copy to edit" : "Edit";
    b.onclick = () => editProgram(p.name, p.builtin);
    cell(tr, "").append(b);
    tb.append(tr);
  }
}

async function editProgram(name, builtin) {
  let spec;
  if (serverMode) spec = (await board.api("/api/programs/" + encodeURIComponent(name))).program;
  else spec = (await board.command("programs show " + name)).program;
  if (!spec) return;
  spec = JSON.parse(JSON.stringify(spec));
  if (builtin) spec.name = "my-" + name.slice(0, 21);
  document.getElementById("program-json").value = JSON.stringify(spec, null, 1);
}

async function pushProgram() {
  const errs = document.getElementById("program-errors"), ok = document.getElementById("program-ok");
  errs.textContent = ""; ok.textContent = "";
  const r = await board.pushProgram(document.getElementById("program-json").value);
  if (r.error) {
    // one line from the CLI's checks; each problem of the program is separated by "; "
    const head = r.error.indexOf(": ");
    const parts = /^(invalid program|program rejected)/.test(r.error) ? r.error.slice(head + 2).split("; ") : [r.error];
    for (const p of parts) { const li = document.createElement("li"); li.textContent = p; errs.append(li); }
    return;
  }
  ok.textContent = "Pushed " + r.name + " to the board" + (r.total_ms ? " (" + mmss(r.total_ms) + ", " + r.reps + " reps)" : "") + ".";
  const names = (await board.command("programs list")).programs;
  if (names) boardReady(names, null);
  loadPrograms();
}

async function loadSettings() {
  if (!board) return;
  let fields, cfg;
  if (serverMode) { const r = await board.api("/api/config"); fields = r.fields; cfg = r.config; }
  else {
    cfg = (await board.command("config get")).config || {};
    fields = Object.keys(cfg).sort().map((k) => ({ key: k, min: null, max: null, help: "" }));
  }
  const tb = document.querySelector("#settings-table tbody");
  tb.textContent = "";
  for (const f of fields) {
    const tr = document.createElement("tr");
    cell(tr, f.key);
    const td = cell(tr, "");
    const inp = document.createElement("input");
    inp.value = f.key in cfg ? JSON.stringify(cfg[f.key]).replace(/^"|"$/g, "") : "";
    inp.setAttribute("aria-label", f.key); inp.dataset.key = f.key;
    const b = document.createElement("button"); b.textContent = "Save";
    const msg = document.createElement("span"); msg.className = "err-inline";
    b.onclick = async () => {
      msg.textContent = ""; msg.className = "err-inline";
      const r = await board.setConfig(f.key, inp.value);
      if (r.error) msg.textContent = r.error; else { msg.className = "ok"; msg.textContent = "saved"; }
    };
    td.append(inp, b, msg);
    cell(tr, f.min === null || f.min === undefined ? (f.kind === "bool" ? "true or false" : "") : f.min + " to " + f.max);
    cell(tr, f.help || "");
    tb.append(tr);
  }
}

function smallChart(el, xs, series, fromZero) {
  el.textContent = "";
  if (!series.some((s) => s.ys.some((y) => y !== null))) { el.textContent = "no data in these sessions yet"; return; }
  const yRange = (u, lo, hi) => (fromZero ? [0, Math.max(1, hi * 1.15)] : [lo - 1, hi + 1]);
  new uPlot({ width: Math.max(300, el.clientWidth || 400), height: 220, legend: { live: false },
    cursor: { show: false }, scales: { x: { time: false, range: [0.5, xs.length + 0.5] }, y: { range: yRange } },
    axes: [{ label: "session", size: 40, incrs: [1, 2, 5, 10, 20, 50, 100], values: (u, v) => v.map((x) => (Number.isInteger(x) ? x : "")) }, { size: 50 }],
    series: [{ label: "session" }].concat(series.map((s) => ({ label: s.label, stroke: s.colour, width: 2.5, dash: s.dash,
      spanGaps: true, points: { show: true, size: 9, fill: s.colour } }))) },
  [xs].concat(series.map((s) => s.ys)), el);
}

async function loadProgress() {
  if (!serverMode) { document.getElementById("progress-where").textContent = "Progress needs `pacer ui` on the computer that keeps the sessions."; return; }
  const d = await board.api("/api/progress");
  document.getElementById("progress-where").textContent = d.sessions.length + " sessions kept in " + d.folder;
  document.getElementById("csv-link").href = "/api/progress.csv?token=" + encodeURIComponent(board.token);
  // trends per program (as `pacer report` draws them); the busiest program first
  const sel = document.getElementById("progress-program");
  const names = Object.keys(d.programs).sort((a, b) => d.programs[b].length - d.programs[a].length || a.localeCompare(b));
  const keep = names.includes(sel.value) ? sel.value : names[0];
  sel.textContent = "";
  for (const n of names) {
    const o = document.createElement("option");
    o.value = n; o.textContent = n + " (" + d.programs[n].length + ")";
    sel.append(o);
  }
  if (keep) sel.value = keep;
  sel.onchange = () => trends(d.programs[sel.value] || []);
  trends(d.programs[keep] || []);
  calendar(d.days);
  loadProgressTables(d);
}

function trends(rows) {
  // one program's sessions, oldest first: x is the session's place in that program's history
  const xs = rows.map((_, i) => i + 1);
  const v = (k) => rows.map((r) => (r[k] === null || r[k] === undefined ? null : r[k]));
  smallChart(document.getElementById("chart-reps"), xs, [
    { label: "reps reached %", colour: "#009E73", ys: rows.map((r) => (r.reps ? Math.round(100 * r.achieved / r.reps) : null)) }], true);
  smallChart(document.getElementById("chart-strength"), xs, [
    { label: "best", colour: "#0072B2", ys: v("strength_cmH2O") },
    { label: "mean", colour: "#56B4E9", ys: v("mean_peak_cmH2O"), dash: [6, 4] }], true);
  smallChart(document.getElementById("chart-relax"), xs, [
    { label: "time to let go after a squeeze, s", colour: "#CC79A7", ys: v("mean_relax_s") }], true);
  smallChart(document.getElementById("chart-rest"), xs, [
    { label: "at the start", colour: "#555555", ys: v("pre_baseline_cmH2O") },
    { label: "at the end, probe warm-up taken out", colour: "#E69F00", ys: v("rest_end_cmH2O"), dash: [6, 4] }], false);
  smallChart(document.getElementById("chart-drops"), xs, [
    { label: "mean relaxation of the drops, %", colour: "#0072B2", ys: v("mean_relaxation_pct") }], true);
}

function loadProgressTables(d) {
  const per = document.getElementById("per-program"); per.textContent = "";
  const t = document.createElement("table"); t.className = "table";
  const hr = document.createElement("tr");
  for (const h of ["program", "sessions", "reps reached (first \u2192 last)", "strength cmH2O (first \u2192 last)", "time to let go s (first \u2192 last)"]) { const th = document.createElement("th"); th.textContent = h; hr.append(th); }
  t.append(hr);
  for (const [name, list] of Object.entries(d.programs)) {
    const a = list[0], b = list[list.length - 1];
    const pct = (r) => (r.reps ? Math.round(100 * r.achieved / r.reps) + " %" : "-");
    const tr = document.createElement("tr");
    cell(tr, name); cell(tr, list.length); cell(tr, pct(a) + " \u2192 " + pct(b));
    cell(tr, num(a.strength_cmH2O, 1) + " \u2192 " + num(b.strength_cmH2O, 1));
    cell(tr, num(a.mean_relax_s, 1) + " \u2192 " + num(b.mean_relax_s, 1));
    t.append(tr);
  }
  per.append(t);
  const keys = ["day", "program", "reps", "achieved", "strength_cmH2O", "mean_hold_s", "mean_relax_s", "drops", "drops_achieved", "paradoxical", "tension_episodes", "completed"];
  const th = document.querySelector("#sessions-table thead"), tb = document.querySelector("#sessions-table tbody");
  th.textContent = ""; tb.textContent = "";
  const h2 = document.createElement("tr");
  for (const k of keys) { const e = document.createElement("th"); e.textContent = k.replace(/_/g, " "); h2.append(e); }
  th.append(h2);
  for (const r of d.sessions.slice().reverse()) {
    const tr = document.createElement("tr");
    for (const k of keys) cell(tr, r[k] === null || r[k] === undefined ? "" : String(r[k]));
    tb.append(tr);
  }
  const nl = document.getElementById("progress-notes"); nl.textContent = "";
  for (const n of d.notes) { const li = document.createElement("li"); li.textContent = n; nl.append(li); }
}

function calendar(days) {
  // the last 8 weeks, Monday first; darker is more sessions that day
  const el = document.getElementById("calendar"); el.textContent = "";
  for (const h of ["M", "T", "W", "T", "F", "S", "S"]) { const d = document.createElement("div"); d.className = "head"; d.textContent = h; el.append(d); }
  const today = new Date(); today.setHours(12, 0, 0, 0);
  const start = new Date(today); start.setDate(start.getDate() - 55 - ((today.getDay() + 6) % 7));
  for (let d = new Date(start); d <= today; d.setDate(d.getDate() + 1)) {
    const key = d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
    const n = days[key] || 0;
    const c = document.createElement("div");
    c.className = n >= 3 ? "l3" : n === 2 ? "l2" : n === 1 ? "l1" : "";
    c.textContent = n ? String(n) : String(d.getDate());
    c.title = key + ": " + n + " session" + (n === 1 ? "" : "s");
    el.append(c);
  }
}

async function connectSerial() {
  if (!("serial" in navigator)) { note("This browser has no Web Serial: use Chrome, Edge or another Chromium browser, or run `pacer ui`."); return; }
  try {
    const port = await navigator.serial.requestPort();
    const b = new SerialBoard(onItem);
    await b.open(port);
    board = b;
    await b.command("stream on");
    const status = await b.command("status");
    boardReady((await b.command("programs list")).programs, status);
  } catch (e) {
    setConn("not connected", "conn-bad"); note("Could not connect: " + (e && e.message ? e.message : e));
  }
}

function main() {
  live = new Live();
  window.pacerLive = live;     // read by the browser tests and the latency bench
  wireControls();
  controls(false, false);
  document.getElementById("program-push").onclick = pushProgram;
  const m = /token=([A-Za-z0-9_-]+)/.exec(location.hash);
  if (m && location.protocol.startsWith("http")) {
    serverMode = true;
    board = new ServerBoard(m[1], onItem);
    setConn("connecting...");
    board.open().catch(() => { setConn("not connected", "conn-bad"); note("pacer ui refused the connection: open the address it printed (with #token=...)"); });
  } else {
    document.getElementById("serial-connect").hidden = false;
    document.querySelector('.tab[data-tab="progress"]').hidden = true;
    document.getElementById("serial-connect").onclick = connectSerial;
    note("Opened on its own: connect a board with Web Serial (Chromium browsers).");
  }
}

document.addEventListener("DOMContentLoaded", main);
