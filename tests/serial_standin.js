/* navigator.serial stand-in for tests/test_ui_browser.py (injected before the page loads): a
   port that answers the protocol's commands, with a frame and a garbage line before each reply,
   and on `start` plays a drop session with issue 11's events as a board would send them. */
(() => {
  const enc = new TextEncoder(), dec = new TextDecoder();
  let push;
  const written = [];
  window.serialWritten = written;
  const readable = new ReadableStream({ start(c) { push = (t) => c.enqueue(enc.encode(t)); } });
  const hex = (v, n) => ((v + 0x10000) & 0xffff).toString(16).padStart(4, "0").slice(-n);
  let seq = 0;
  const frame = (t, p, g, step, cue) => "T" + (seq++ & 255).toString(16).padStart(2, "0") +
    t.toString(16).padStart(6, "0") + "," + hex(p, 4) + "," + hex(g, 4) + "," +
    (step < 0 ? "fff" : step.toString(16).padStart(3, "0")) + "," + cue.toString(16).padStart(2, "0") + "\n";
  const ev = (o) => JSON.stringify(o) + "\n";
  function play() {
    const out = [];
    out.push(ev({t_ms: 0, type: "phase", step: 0, breath: "free", muscle: "rest", role: "baseline", duration_ms: 2000}));
    out.push(ev({t_ms: 1000, type: "zero", baseline_cmH2O: 18.2}));
    for (let t = 0; t < 2000; t += 20) out.push(frame(t, 1820, 0, 0, 0));
    out.push(ev({t_ms: 2000, type: "phase", step: 1, breath: "exhale", muscle: "drop", role: null, duration_ms: 2000}));
    for (let t = 2000; t < 4000; t += 20) out.push(frame(t, 1820 - (t - 2000) / 10, 0, 1, 0));
    out.push(ev({t_ms: 4000, type: "phase", step: 2, breath: "inhale", muscle: "rest", role: null, duration_ms: 1000}));
    out.push(ev({t_ms: 5000, type: "drop", index: 1, kind: "drop", step: 1, rest_cmH2O: 18.2, level_cmH2O: 15.9,
      drop_cmH2O: 2.3, relaxation_pct: 12, drop_ms: 900, held_ms: 1200, achieved: true, flags: [],
      abdominal_rise_cmH2O: null, pattern: null}));
    out.push(ev({t_ms: 5000, type: "phase", step: 3, breath: "exhale", muscle: "drop", role: null, duration_ms: 2000}));
    for (let t = 5000; t < 7000; t += 20) out.push(frame(t, 1820 + (t - 5000) / 4, 0, 3, t > 6000 ? 4 : 0));
    out.push(ev({t_ms: 6500, type: "alarm", kind: "tension", pressure_cmH2O: 23.1, step: 3}));
    out.push(ev({t_ms: 7000, type: "drop", index: 2, kind: "drop", step: 3, rest_cmH2O: 18.2, level_cmH2O: 23.1,
      drop_cmH2O: -4.9, relaxation_pct: 0, drop_ms: null, held_ms: 0, achieved: false, flags: ["paradoxical"],
      abdominal_rise_cmH2O: null, pattern: null}));
    out.push(ev({t_ms: 7000, type: "phase", step: 4, breath: "free", muscle: "push", role: null, duration_ms: 1000}));
    out.push(ev({t_ms: 8000, type: "drop", index: 3, kind: "push", step: 4, rest_cmH2O: 18.2, level_cmH2O: 16.0,
      drop_cmH2O: 2.2, relaxation_pct: 11, drop_ms: 700, held_ms: 800, achieved: true, flags: [],
      abdominal_rise_cmH2O: 12.3, pattern: "coordinated"}));
    out.push(ev({t_ms: 8000, type: "summary", program: "reverse-kegel", duration_ms: 8000, completed: true,
      reps: 0, reps_achieved: 0, drops: 2, drops_achieved: 1, paradoxical: 1, pushes: 1, pushes_coordinated: 1,
      tension_episodes: 1, rest_tone_change_cmH2O: -0.8, grade: "keep_going"}));
    let i = 0;
    const timer = setInterval(() => { for (let k = 0; k < 40 && i < out.length; k++) push(out[i++]);
      if (i >= out.length) clearInterval(timer); }, 10);
  }
  const replies = {
    "hello": {ok: true, cmd: "hello", board: "pico", max_line: 512, protocol: 1, version: "0.1.0"},
    "stream on": {ok: true, cmd: "stream", stream: true},
    "status": {ok: true, cmd: "status", state: "idle", protocol: 1},
    "programs list": {ok: true, cmd: "programs list", programs: ["kegel", "reverse-kegel"]},
  };
  let line = "";
  const writable = new WritableStream({ write(chunk) {
    line += dec.decode(chunk);
    let i;
    while ((i = line.indexOf("\n")) >= 0) {
      const cmd = line.slice(0, i); line = line.slice(i + 1);
      written.push(cmd);
      if (cmd === "") continue;
      if (cmd.startsWith("start ")) { push(JSON.stringify({ok: true, cmd: "start"}) + "\n"); play(); }
      else if (replies[cmd]) { push("T00000000,0000,0000,fff,00\n" + "garbage line\n" + JSON.stringify(replies[cmd]) + "\n"); }
      else push(JSON.stringify({ok: false, cmd: cmd.split(" ")[0], error: "unknown"}) + "\n");
    }
  }});
  const port = { open: async () => {}, readable, writable };
  Object.defineProperty(navigator, "serial", { value: { requestPort: async () => port } });
})();
