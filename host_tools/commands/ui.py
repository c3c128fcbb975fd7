"""pacer ui: a local web app for a board: the live view (pressure against the target band or
the resting line, phase and countdown, breath pacer, verdicts, tension nudges, summary), start,
pause and stop, programs and settings, and progress from the sessions kept on the computer.

The server (host_tools/ui/server.py) listens on 127.0.0.1 only unless --listen says otherwise,
refuses foreign Host and Origin headers, and needs the random token in the printed address for
the WebSocket and the API. The URL is the first line printed.
"""
import asyncio
import contextlib
import os
import shutil
import signal
import sys
import threading
import webbrowser

from host_tools.errors import CliError

NAME = "ui"
HELP = ("A local web app: live view of the pressure, start/pause/stop, programs, settings and "
        "progress, in the browser (127.0.0.1 only unless --listen).")
EXAMPLE = ("pacer ui --vboard --persona typical     (a virtual board with a simulated person)\n"
           "  pacer ui --port /dev/ttyACM0 --no-browser")


def add_arguments(p):
    p.add_argument("--port", help="serial port of the board (default: found by USB vendor ID)")
    p.add_argument("--vboard", action="store_true",
                   help="start a virtual board with a simulated person instead")
    p.add_argument("--persona", default="typical",
                   help="with --vboard: the simulated person (default typical)")
    p.add_argument("--seed", type=int, default=1, help="with --vboard: the person's seed")
    p.add_argument("--board", default="pico", help="with --vboard: board profile (default pico)")
    p.add_argument("--rate", type=float, default=1.0,
                   help="with --vboard: times real time (default 1, a real session's pace)")
    p.add_argument("--http-port", type=int, default=8470, metavar="N",
                   help="web server port (default 8470; 0 picks a free one)")
    p.add_argument("--listen", default="127.0.0.1", metavar="ADDR",
                   help="address to listen on (default 127.0.0.1, this computer only); "
                        "e.g. 0.0.0.0 for a phone on the home network: anyone there with "
                        "the printed address (it holds the token) can use the board")
    p.add_argument("--sessions", metavar="DIR",
                   help="where finished sessions are kept and read for Progress (default "
                        "./sessions, with --vboard build/ui/sessions)")
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser; the address is the first line printed")
    p.add_argument("--out", default="build/ui", metavar="DIR",
                   help="with --vboard: where its flash and log go (default build/ui)")


def run(args):
    from host_tools.ui import server as ui_server
    if not ui_server.VENDOR.joinpath("uPlot.iife.min.js").is_file():
        raise CliError("the page's chart library is missing (%s); run `make setup`"
                       % ui_server.VENDOR)
    if not 0 <= args.http_port <= 65535:
        raise CliError("--http-port must be from 0 to 65535, got %d" % args.http_port)
    if args.vboard:
        from host_tools.sim import personas
        from host_tools.vboard import VBoardError, launcher
        if args.persona not in personas.NAMES:
            raise CliError("unknown persona %r; choose from %s"
                           % (args.persona, ", ".join(personas.NAMES)))
        if args.rate <= 0:
            raise CliError("--rate must be above 0 (1 is real time), got %g" % args.rate)
        try:
            launcher.board_profile(args.board)
        except VBoardError as e:
            raise CliError(str(e))
    folder = args.sessions or (os.path.join(args.out, "sessions") if args.vboard else "sessions")
    state = ui_server.UiState(folder)
    srv = ui_server.Server(state, args.listen, args.http_port)
    try:
        asyncio.run(_serve(srv, args))
    except KeyboardInterrupt:
        pass
    return 0


async def _serve(srv, args):
    url = await srv.start()
    print(url, flush=True)
    if args.listen != "127.0.0.1":
        print("pacer ui: listening on %s: other devices on this network can reach it; the "
              "token in the address above is required for everything but the page itself, so "
              "share that address only with your own phone" % args.listen, flush=True)
    if not args.no_browser:
        webbrowser.open(url)
    stop = threading.Event()
    loop = asyncio.get_running_loop()
    parts: dict = {}
    done = asyncio.Event()
    with contextlib.suppress(NotImplementedError):     # no signal handlers on Windows
        loop.add_signal_handler(signal.SIGTERM, done.set)
    boot = loop.run_in_executor(None, _connect, srv, args, parts, stop)
    try:
        await boot
        await done.wait()     # until Ctrl-C or SIGTERM
    finally:
        stop.set()
        await srv.stop()
        link = srv.state.link
        if link is not None:
            link.close()
        vb = parts.get("vboard")
        if vb is not None:
            vb.stop()


def _connect(srv, args, parts, stop):
    """Bring the board up (in a worker thread, so the page loads at once) and start the link."""
    from host_tools import device
    from host_tools.ui.link import Link
    try:
        if args.vboard:
            from host_tools.vboard import launcher
            from host_tools.vboard import session as vs
            out = os.path.abspath(args.out)
            os.makedirs(out, exist_ok=True)
            flash_dir = os.path.join(out, "flash")
            shutil.rmtree(flash_dir, ignore_errors=True)
            say(srv, "starting a virtual %s with a simulated %s person (seed %d)..."
                % (args.board, args.persona, args.seed))
            vb = launcher.start(board=args.board, flash_dir=flash_dir, seed=args.seed,
                                persona=args.persona, log=os.path.join(out, "vboard.log"),
                                realtime=args.rate == 1.0,
                                rate=None if args.rate == 1.0 else args.rate)
            parts["vboard"] = vb
            say(srv, "deploying the firmware to the virtual board with `pacer flash`...")
            vs.flash(vb.port, args.board)
            dev = vs.connect(vb.port)
        else:
            say(srv, "connecting to the board...")
            dev = device.Device.connect(args.port)
        if stop.is_set():
            dev.close()
            return
        dev.command("stream on")
        status = dev.command("status")
        names = dev.command("programs list")["programs"]
        link = Link(dev, srv.board_item)
        srv.state.link = link
        link.start()
        srv.loop.call_soon_threadsafe(srv.board_ready, dev.info, status, names)
        print("pacer ui: board ready on %s" % dev.port, flush=True)
    except CliError as e:
        say(srv, "board not available: %s" % e)
        print("pacer ui: error: %s" % e, file=sys.stderr, flush=True)
    except Exception as e:   # the server keeps running and the page says why
        why = (str(e).splitlines() or [type(e).__name__])[0]
        say(srv, "board not available: %s" % why)
        print("pacer ui: error: %s" % why, file=sys.stderr, flush=True)


def say(srv, text):
    print("pacer ui: " + text, flush=True)
    with contextlib.suppress(RuntimeError):
        srv.loop.call_soon_threadsafe(srv.note, text)
