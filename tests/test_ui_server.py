"""`pacer ui`'s server without a board or a browser: the security checks (Host, Origin, token,
CSP), the page's command allow-list, the program checks of `pacer programs push`, progress from
saved sessions with and without issue 11's drop events, and saving a session without
overwriting another."""
import asyncio
import json

import aiohttp
import pytest

from host_tools.ui import progress, server


@pytest.fixture
def srv(tmp_path):
    state = server.UiState(str(tmp_path / "sessions"))
    s = server.Server(state, "127.0.0.1", 0, token="tok123")
    return s


def run(srv, fn):
    async def go():
        await srv.start()
        try:
            async with aiohttp.ClientSession() as c:
                return await fn(c, "http://127.0.0.1:%d" % srv.port)
        finally:
            await srv.stop()
    return asyncio.run(go())


async def status(c, url, headers=None, method="GET", data=None):
    async with c.request(method, url, headers=headers or {}, data=data) as r:
        return r.status, await r.text(), r.headers


def test_host_origin_and_token_checks(srv):
    async def fn(c, base):
        out = {}
        out["page"] = await status(c, base + "/")
        out["page_foreign_host"] = await status(c, base + "/", {"Host": "evil.example:%d"
                                                                % srv.port})
        out["page_foreign_port"] = await status(c, base + "/", {"Host": "127.0.0.1:1"})
        out["api"] = await status(c, base + "/api/config?token=tok123")
        out["api_header"] = await status(c, base + "/api/config", {"X-Pacer-Token": "tok123"})
        out["api_no_token"] = await status(c, base + "/api/config")
        out["api_bad_token"] = await status(c, base + "/api/config?token=tok12")
        out["api_origin"] = await status(c, base + "/api/config?token=tok123",
                                         {"Origin": "http://evil.example"})
        out["api_null_origin"] = await status(c, base + "/api/config?token=tok123",
                                              {"Origin": "null"})
        out["api_own_origin"] = await status(c, base + "/api/config?token=tok123",
                                             {"Origin": base})
        out["ws_no_token"] = await status(c, base + "/ws", {"Upgrade": "websocket",
                                                            "Connection": "Upgrade"})
        return out
    out = run(srv, fn)
    assert out["page"][0] == 200
    csp = out["page"][2]["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "http" not in csp and "*" not in csp and "unsafe" not in csp
    for k in ("page_foreign_host", "page_foreign_port", "api_no_token", "api_bad_token",
              "api_origin", "api_null_origin", "ws_no_token"):
        assert out[k][0] == 403, k
    assert "Host" in out["page_foreign_host"][1] and "Origin" in out["api_origin"][1]
    assert "token" in out["api_no_token"][1]
    for k in ("api", "api_header", "api_own_origin"):
        assert out[k][0] == 200, k
        # no board yet: the settings and their limits still come, with why the values do not
        body = json.loads(out[k][1])
        assert {"key": "loop_hz", "default": 50, "min": 10, "max": 100,
                "help": "control loop rate in Hz", "kind": "int"} in body["fields"]
        assert body["error"]


def test_listen_on_all_addresses_allows_ip_hosts_only():
    hosts, any_ip = server.allowed_hosts("0.0.0.0", 8470)
    assert any_ip and "127.0.0.1:8470" in hosts
    assert server._ip_host("192.168.1.20:8470", 8470)
    assert not server._ip_host("evil.example:8470", 8470)
    assert not server._ip_host("192.168.1.20:80", 8470)
    hosts, any_ip = server.allowed_hosts("127.0.0.1", 8470)
    assert not any_ip and hosts == {"127.0.0.1:8470", "localhost:8470", "[::1]:8470"}


def test_page_commands_allow_list():
    ok = ["start kegel", "pause", "resume", "stop", "status", "programs list",
          "programs show my-1", "config get", "config get loop_hz", "stream on"]
    bad = ["inject on", "S 0 1500", "sessions delete 1", "config set loop_hz 10",
           "programs push {}", "start kegel; stop", "start ../x", "hello\nstop", ""]
    assert all(server.PAGE_COMMANDS.fullmatch(c) for c in ok)
    assert not any(server.PAGE_COMMANDS.fullmatch(c) for c in bad)


def test_push_refused_before_the_board_with_cli_errors(srv):
    async def fn(c, base):
        api = base + "/api/programs?token=tok123"
        return [await status(c, api, method="POST", data=d) for d in (
            '{"name": "x", "blocks": []}', '{"name": "x", "blocks": [',
            '[1, 2]', '{"name": "kegel", "blocks": [{"steps": [{"s": 5}]}]}',
            json.dumps({"name": "ok-one", "blocks": [{"steps": [{"s": 5}]}]}))]
    r = run(srv, fn)
    assert [x[0] for x in r] == [400] * 5
    errors = [json.loads(x[1])["error"] for x in r]
    assert errors[0] == "invalid program from the page: blocks: must be a non-empty list of blocks"
    assert errors[1].startswith("the program is not valid JSON: Expecting value (line 1")
    assert errors[2].startswith("invalid program from the page: a program is a JSON object")
    assert errors[3] == "'kegel' is a built-in program's name; rename yours"
    # a valid program gets as far as the board, which is not connected
    assert "connecting to the board" in errors[4]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_progress_reads_sessions_with_and_without_drop_events(tmp_path):
    old = [{"program": "kegel", "user": "default", "board": "pico", "mvc_cp": 0,
            "version": "0.1.0"},
           {"t_ms": 0, "type": "phase", "step": 0, "breath": "free", "muscle": "rest",
            "role": "baseline", "duration_ms": 10000},
           {"t_ms": 1000, "type": "zero", "baseline_cmH2O": 15.0},
           {"t_ms": 20000, "type": "rep", "index": 1, "kind": "squeeze", "target_cmH2O": 23.0,
            "achieved": True, "peak_cmH2O": 40.0, "held_ms": 5000, "relax_ms": 1000,
            "flags": []},
           {"t_ms": 30000, "type": "summary", "program": "kegel", "completed": True,
            "reps": 1, "reps_achieved": 1, "pre_baseline_cmH2O": 15.0}]
    new = [{"program": "reverse-kegel"},
           {"t_ms": 0, "type": "phase", "step": 0, "breath": "free", "muscle": "rest",
            "role": "baseline", "duration_ms": 10000},
           {"t_ms": 14000, "type": "drop", "index": 1, "kind": "drop", "step": 1,
            "rest_cmH2O": 18.2, "drop_cmH2O": 2.3, "relaxation_pct": 12, "achieved": True,
            "flags": []},
           {"t_ms": 20000, "type": "drop", "index": 2, "kind": "drop", "step": 3,
            "rest_cmH2O": 18.2, "drop_cmH2O": -3.0, "relaxation_pct": 0, "achieved": False,
            "flags": ["paradoxical"]},
           {"t_ms": 21000, "type": "alarm", "kind": "tension", "pressure_cmH2O": 23.0,
            "step": 3},
           {"t_ms": 30000, "type": "summary", "program": "reverse-kegel", "completed": True,
            "reps": 0, "reps_achieved": 0, "rest_tone_change_cmH2O": -0.8,
            "grade": "keep_going"}]
    folder = tmp_path / "s"
    folder.mkdir()
    _write(folder / "session-00001.jsonl", old)
    _write(folder / "session-00002.jsonl", new)
    (folder / "broken.jsonl").write_text("not json\n")
    d = progress.summary(str(folder))
    rows = {r["program"]: r for r in d["sessions"]}
    assert rows["kegel"]["achieved"] == 1 and rows["kegel"]["drops"] == 0
    assert rows["kegel"]["rest_tone_change_cmH2O"] is None
    assert rows["kegel"]["paradoxical"] is None and rows["kegel"]["mean_relaxation_pct"] is None
    r = rows["reverse-kegel"]
    assert (r["drops"], r["drops_achieved"], r["paradoxical"], r["tension_episodes"]) == \
        (2, 1, 1, 1)
    assert r["mean_relaxation_pct"] == 6.0 and r["rest_tone_change_cmH2O"] == -0.8
    assert d["notes"] and "broken.jsonl line 1 is not JSON" in d["notes"][0]
    text = progress.to_csv(d["sessions"])
    header = text.splitlines()[0].split(",")
    assert header[:2] == ["session", "program"] and {"date", "day"} <= set(header)
    assert len(text.splitlines()) == 3


class FakeDev:
    def __init__(self, records):
        self.records = records

    def command(self, text, timeout=5.0, records=None):
        if text == "sessions list":
            return {"ok": True, "sessions": [{"id": 3, "size": 10, "summary": True}]}
        assert text == "sessions get 3"
        records.extend(self.records)
        return {"ok": True, "records": len(self.records)}


def test_saving_a_session_never_overwrites_another(tmp_path):
    a = [{"program": "kegel"}, {"t_ms": 0, "type": "summary", "reps": 1}]
    b = [{"program": "relax"}, {"t_ms": 0, "type": "summary", "reps": 0}]
    p1 = server.save_newest(FakeDev(a), str(tmp_path))
    p2 = server.save_newest(FakeDev(a), str(tmp_path))       # the same session again
    p3 = server.save_newest(FakeDev(b), str(tmp_path))       # another board's session 3
    assert p1 == p2 and p1.endswith("session-00003.jsonl")
    assert p3.endswith("session-00003-2.jsonl")
    assert json.loads(open(p1).readline()) == {"program": "kegel"}
    assert json.loads(open(p3).readline()) == {"program": "relax"}
