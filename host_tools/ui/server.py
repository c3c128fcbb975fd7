"""The aiohttp app behind `pacer ui`.

Security (docs in README, "pacer ui"): the server listens on 127.0.0.1 unless --listen says
otherwise; every request must name an allowed Host (no DNS rebinding) and, when the browser
sends one, an allowed Origin; the WebSocket and every /api/ request need the launch's random
token (query `token` or header X-Pacer-Token); every response carries a Content-Security-Policy
without remote sources. The page may send only the commands in PAGE_COMMANDS over the
WebSocket; programs and settings go through /api/, checked on the host with the CLI's own rules
before anything reaches the board.

WebSocket messages to the page, one JSON object each:
  {"k": "frame", "f": [seq, t_ms, p_cp, target_cp, step, cue, abd_cp|null], "h": read_ms}
    (read_ms: wall-clock ms when the frame came off the serial port, for the latency figure)
  {"k": "event", "e": {...engine event...}}
  {"k": "reply", "id": N, "r": {...board reply...}}   or  {"k": "reply", "id": N, "error": "..."}
  {"k": "board", "info": {...hello...}, "status": {...}, "programs": [...]}  (when it is ready)
  {"k": "note", "text": "..."}, {"k": "lost", "error": "..."}
From the page: {"id": N, "cmd": "start kegel"}.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import os
import re
import secrets
from collections import deque
from pathlib import Path

from aiohttp import WSMsgType, web

from host_tools import programs
from host_tools.errors import CliError
from host_tools.files import write_atomic
from host_tools.ui import progress

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = STATIC / "vendor"
PAGE_COMMANDS = re.compile(
    r"(hello|status|help|pause|resume|stop|calibrate|programs list|sessions list"
    r"|stream (on|off)|config get( [a-z_]{1,32})?|(start|programs show) [a-z0-9_-]{1,24})")
BACKLOG_FRAMES = 3000          # a page that connects mid-session gets the last minute at 50 Hz
BACKLOG_EVENTS = 2000
CLIENT_QUEUE = 4096            # messages waiting for one slow page before it is dropped


class UiState:
    """What the server knows about the board: the link once it is up, what the page needs to
    draw a session it joined late, and where finished sessions are kept."""

    def __init__(self, sessions_dir: str):
        self.link = None
        self.info: dict = {}
        self.status_note = "connecting to the board..."
        self.sessions_dir = sessions_dir
        self.frames: deque = deque(maxlen=BACKLOG_FRAMES)
        self.events: deque = deque(maxlen=BACKLOG_EVENTS)


def allowed_hosts(listen: str, port: int) -> tuple[set[str], bool]:
    """(exact Host values allowed, whether any IP-literal host is allowed too). Names other
    than localhost are never allowed: that is what stops DNS rebinding."""
    hosts = {"127.0.0.1", "localhost", "[::1]"}
    any_ip = False
    try:
        addr = ipaddress.ip_address(listen)
        if addr.is_unspecified:
            any_ip = True
        hosts.add("[%s]" % listen if addr.version == 6 else listen)
    except ValueError:
        hosts.add(listen)
    return {"%s:%d" % (h, port) for h in hosts}, any_ip


def _ip_host(host: str, port: int) -> bool:
    name, _, p = host.rpartition(":")
    if p != str(port):
        return False
    try:
        ipaddress.ip_address(name.strip("[]"))
        return True
    except ValueError:
        return False


def csp(host: str) -> str:
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self' ws://%s; font-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'" % host)


class Server:
    def __init__(self, state: UiState, listen: str, port: int, token: str | None = None):
        self.state = state
        self.listen = listen
        self.port = port
        self.token = token or secrets.token_urlsafe(18)
        self.hosts: set[str] = set()
        self.any_ip = False
        self.clients: set = set()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runner: web.AppRunner | None = None
        self.app = web.Application(middlewares=[self._guard], client_max_size=64 * 1024)
        r = self.app.router
        r.add_get("/", self._index)
        r.add_get("/ws", self._ws)
        r.add_get("/api/programs", self._programs)
        r.add_get("/api/programs/{name}", self._program)
        r.add_post("/api/programs", self._push)
        r.add_get("/api/config", self._config)
        r.add_post("/api/config", self._config_set)
        r.add_get("/api/progress", self._progress)
        r.add_get("/api/progress.csv", self._progress_csv)
        r.add_get("/app.js", self._file)
        r.add_get("/app.css", self._file)
        r.add_static("/vendor/", VENDOR, follow_symlinks=False)

    # -- life --

    async def start(self) -> str:
        self.loop = asyncio.get_running_loop()
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, self.listen, self.port)
        try:
            await site.start()
        except OSError as e:
            raise CliError("cannot listen on %s port %d: %s; pick another with --http-port (0: "
                           "any free port)" % (self.listen, self.port, e.strerror or e))
        self.port = self.runner.addresses[0][1]
        self.hosts, self.any_ip = allowed_hosts(self.listen, self.port)
        return self.url()

    def url(self) -> str:
        host = self.listen if self.listen not in ("0.0.0.0", "::") else "127.0.0.1"
        if ":" in host:
            host = "[%s]" % host
        return "http://%s:%d/#token=%s" % (host, self.port, self.token)

    async def stop(self):
        for ws in list(self.clients):
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()

    # -- from the board (any thread) --

    def board_item(self, kind, item, host_ms):
        """Link callback (link thread): keep for late pages, pass to every page."""
        if kind == "frame":
            msg = {"k": "frame", "f": list(item), "h": round(host_ms, 1)}
        elif kind == "event":
            msg = {"k": "event", "e": item}
        elif kind == "lost":
            msg = {"k": "lost", "error": item["error"]}
        else:
            return
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self._board_msg, kind, item, msg)

    def _board_msg(self, kind, item, msg):
        st = self.state
        if kind == "frame":
            st.frames.append(msg)
        elif kind == "event":
            if item.get("type") == "phase" and item.get("step") == 0:
                st.events.clear()
                st.frames.clear()
            st.events.append(msg)
            if item.get("type") == "summary":
                self._save_session()
        self.broadcast(msg)

    def broadcast(self, msg):
        text = json.dumps(msg, separators=(",", ":"))
        for q in list(self.clients):
            if q.qsize() >= CLIENT_QUEUE:
                continue      # that page stopped reading; frames for it are dropped
            q.put_nowait(text)

    def board_ready(self, info, status, names):
        st = self.state
        st.info = {"info": info, "status": status, "programs": names}
        st.status_note = ""
        self.broadcast({"k": "board", **st.info})

    def note(self, text):
        self.state.status_note = text
        self.broadcast({"k": "note", "text": text})

    def _save_session(self):
        """Keep the finished session on the computer (the Progress page reads it)."""
        link = self.state.link
        if link is None:
            return
        folder = self.state.sessions_dir
        fut = link.call(lambda dev: save_newest(dev, folder))

        def done(f):
            try:
                path = f.result()
                text = "session saved to %s" % path
            except CliError as e:
                text = "could not keep the session on the computer: %s" % e
            if self.loop is not None:
                self.loop.call_soon_threadsafe(self.broadcast, {"k": "note", "text": text,
                                                                "saved": True})
        fut.add_done_callback(done)

    # -- security --

    @web.middleware
    async def _guard(self, request, handler):
        host = request.headers.get("Host", "")
        if host not in self.hosts and not (self.any_ip and _ip_host(host, self.port)):
            return _refuse(403, "refused: Host %r is not this computer's pacer ui address"
                           % host[:80])
        origin = request.headers.get("Origin")
        if origin is not None and (not origin.startswith("http://")
                                   or origin[7:] != host):
            return _refuse(403, "refused: Origin %r is not this page" % origin[:80])
        if request.path == "/ws" or request.path.startswith("/api/"):
            given = request.query.get("token") or request.headers.get("X-Pacer-Token") or ""
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return _refuse(403, "refused: missing or wrong token; open the address "
                                    "`pacer ui` printed (it ends in #token=...)")
        try:
            resp = await handler(request)
        except web.HTTPException as e:
            resp = e
        resp.headers["Content-Security-Policy"] = csp(host)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    # -- pages --

    async def _index(self, request):
        return web.FileResponse(STATIC / "index.html")

    async def _file(self, request):
        return web.FileResponse(STATIC / request.path.lstrip("/"))

    async def _ws(self, request):
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=8192)
        await ws.prepare(request)
        q: asyncio.Queue = asyncio.Queue()
        st = self.state
        for m in [{"k": "hello", "note": st.status_note}] + (
                [{"k": "board", **st.info}] if st.info else []):
            q.put_nowait(json.dumps(m))
        for m in list(st.events) + list(st.frames):
            q.put_nowait(json.dumps(m, separators=(",", ":")))
        self.clients.add(q)
        writer = asyncio.ensure_future(self._writer(ws, q))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._page_command(q, msg.data)
        finally:
            self.clients.discard(q)
            writer.cancel()
        return ws

    async def _writer(self, ws, q):
        while True:
            text = await q.get()
            await ws.send_str(text)

    async def _page_command(self, q, data):
        try:
            msg = json.loads(data)
            cid, cmd = msg["id"], msg["cmd"]
            if not isinstance(cmd, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            q.put_nowait(json.dumps({"k": "reply", "id": None,
                                     "error": "a page message is {\"id\": N, \"cmd\": TEXT}"}))
            return
        out = {"k": "reply", "id": cid}
        if not PAGE_COMMANDS.fullmatch(cmd):
            out["error"] = ("the page may not send %r; programs and settings go through "
                            "their own pages" % cmd[:40])
        else:
            try:
                out["r"] = await self._board(lambda dev: dev.send(cmd))
            except CliError as e:
                out["error"] = str(e)
        q.put_nowait(json.dumps(out))

    async def _board(self, fn):
        link = self.state.link
        if link is None:
            raise CliError(self.state.status_note or "the board is not connected yet")
        return await asyncio.wrap_future(link.call(fn))

    # -- programs --

    async def _programs(self, request):
        from pacer import builtin
        rows = []
        for name in builtin.NAMES:
            tl = builtin.load(name)
            rows.append({"name": name, "title": tl.title, "builtin": True,
                         "total_ms": tl.total_ms, "reps": tl.reps})
        try:
            names = (await self._board(lambda dev: dev.command("programs list")))["programs"]
        except CliError as e:
            return web.json_response({"programs": rows, "error": str(e)})
        for name in names:
            if name not in builtin.NAMES:
                rows.append(await self._custom_row(name))
        return web.json_response({"programs": rows})

    async def _custom_row(self, name):
        row = {"name": name, "title": "", "builtin": False, "total_ms": None, "reps": None}
        try:
            spec = (await self._board(lambda dev: dev.command("programs show " + name)))["program"]
            tl = programs.build(spec, name)
        except CliError:
            return row       # listed without its length; the editor shows the problem
        row.update(title=tl.title, total_ms=tl.total_ms, reps=tl.reps)
        return row

    async def _program(self, request):
        from pacer import builtin
        name = request.match_info["name"]
        if name in builtin.NAMES:
            return web.json_response({"name": name, "builtin": True, "program":
                                      builtin.spec(name)})
        if not re.fullmatch(r"[a-z0-9_-]{1,24}", name):
            return _error(400, "a program name is 1-24 characters of a-z 0-9 - _")
        try:
            r = await self._board(lambda dev: dev.command("programs show " + name))
        except CliError as e:
            return _error(404, str(e))
        return web.json_response({"name": name, "builtin": False, "program": r["program"]})

    async def _push(self, request):
        text = await request.text()
        try:
            spec = json.loads(text)
        except ValueError as e:
            return _error(400, "the program is not valid JSON: %s (line %d, column %d)"
                          % (e.msg, e.lineno, e.colno) if isinstance(e, json.JSONDecodeError)
                          else "the program is not valid JSON")
        try:
            tl, line = programs.push_line(spec, "from the page")
            await self._board(lambda dev: dev.command(line))
        except CliError as e:
            return _error(400, str(e))
        return web.json_response({"ok": True, "name": tl.name, "steps": tl.n, "reps": tl.reps,
                                  "total_ms": tl.total_ms})

    # -- settings --

    async def _config(self, request):
        from pacer import settings
        from pacer_app import config
        fields = []
        for k, (default, lo, hi, what) in settings.FIELDS.items():
            fields.append({"key": k, "default": default, "min": lo, "max": hi, "help": what,
                           "kind": "bool" if lo is None else "number"})
        for k, (default, kind, lo, hi, what) in config.APP_FIELDS.items():
            fields.append({"key": k, "default": default, "min": lo if kind == "int" else None,
                           "max": hi if kind == "int" else None, "help": what, "kind": kind})
        try:
            cfg = (await self._board(lambda dev: dev.command("config get")))["config"]
        except CliError as e:
            return web.json_response({"fields": fields, "config": {}, "error": str(e)})
        return web.json_response({"fields": fields, "config": cfg})

    async def _config_set(self, request):
        from host_tools.commands import config
        try:
            body = await request.json()
            key, value = body["key"], body["value"]
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, "a setting is sent as {\"key\": NAME, \"value\": TEXT}")
        try:
            parsed = config._parse_value(key, value)
            config.check({key: parsed})
            line = "config set %s %s" % (key, json.dumps(parsed, separators=(",", ":")))
            r = await self._board(lambda dev: dev.command(line))
        except CliError as e:
            return _error(400, str(e))
        return web.json_response({"ok": True, "key": key, "value": r.get("value", parsed)})

    # -- progress --

    async def _progress(self, request):
        data = await asyncio.get_running_loop().run_in_executor(
            None, progress.summary, self.state.sessions_dir)
        return web.json_response(data)

    async def _progress_csv(self, request):
        rows, _ = await asyncio.get_running_loop().run_in_executor(
            None, progress.load, self.state.sessions_dir)
        return web.Response(text=progress.to_csv(rows), content_type="text/csv", headers={
            "Content-Disposition": "attachment; filename=\"pacer-sessions.csv\""})


def _refuse(status, text):
    return web.Response(status=status, text=text + "\n", headers={
        "Content-Security-Policy": "default-src 'none'"})


def _error(status, text):
    return web.json_response({"error": text}, status=status)


def save_newest(dev, folder) -> str:
    """Pull the board's newest session (`sessions get`) into folder, never over another file."""
    from host_tools.commands.sessions import valid_record
    listing = dev.command("sessions list")["sessions"]
    if not listing:
        raise CliError("no session stored on the board")
    sid = max(s["id"] for s in listing)
    records: list = []
    dev.command("sessions get %d" % sid, timeout=30.0, records=records)
    kept = [rec for i, rec in enumerate(records) if valid_record(rec, i == 0)]
    text = "".join(json.dumps(rec) + "\n" for rec in kept)
    os.makedirs(folder, exist_ok=True)
    base = os.path.join(folder, "session-%05d" % sid)
    path, n = base + ".jsonl", 2
    while os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            if f.read() == text:
                return path
        path, n = "%s-%d.jsonl" % (base, n), n + 1
    write_atomic(path, lambda f: f.write(text))
    return path
