"""The `pacer` command: one sub-command per module in host_tools.commands.

Each command module defines NAME, HELP, EXAMPLE, add_arguments(parser) and run(args) -> int.
Errors meant for the user are raised as CliError and printed as one line, never a traceback.
"""
import argparse
import importlib
import sys

from host_tools import __version__
from host_tools.errors import EXIT_STATUS, NO_BOARD, CliError, ConnectionLost

COMMANDS = ("programs", "replay", "sim", "vboard", "flash", "install_micropython", "status",
            "start", "stop", "log", "test", "sessions", "report", "config", "demo", "ui")


def _load(name):
    try:
        return importlib.import_module("host_tools.commands." + name)
    except ModuleNotFoundError as e:
        if e.name == "host_tools.commands." + name:
            return None
        raise


def build_parser():
    parser = argparse.ArgumentParser(
        prog="pacer",
        description="Host tools for the pacer pelvic-floor trainer: programs, replay, simulator, "
                    "virtual board, flashing, logging, sessions and reports.",
        epilog="Run 'pacer COMMAND --help' for a command's options and an example.\n\n"
               + EXIT_STATUS + "\nenvironment: PACER_PORT, the serial port when --port is "
               "not given", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version="pacer " + __version__)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        mod = _load(name)
        if mod is None:
            continue
        p = sub.add_parser(mod.NAME, help=mod.HELP, description=mod.HELP,
                           epilog="example:\n  " + mod.EXAMPLE + "\n\n" + EXIT_STATUS
                           + "\nenvironment: PACER_PORT, the serial port when --port is not given",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return args._run(args) or 0
    except CliError as e:
        print("pacer %s: error: %s" % (args.command, e), file=sys.stderr)
        return e.code
    except ConnectionLost as e:
        print("pacer %s: error: the link to the board dropped (%s); plug it back in, wait for "
              "it to start and run the command again"
              % (args.command, (str(e).splitlines() or ["port closed"])[0]), file=sys.stderr)
        return NO_BOARD
    except KeyboardInterrupt:
        print("pacer %s: interrupted" % args.command, file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
