"""pacer config: show, change, push and pull the board's settings (config.json on the board).

Values are checked on the host with the board's own rules (pacer_app.config.validate, which
uses pacer.settings.check) before anything is sent.
"""
import json

from host_tools import device
from host_tools.errors import CliError
from host_tools.files import write_atomic

NAME = "config"
HELP = "Show or change the board's settings; push a settings file to it, or pull it to one."
EXAMPLE = ("pacer config show\n  pacer config set vibration_pct 40\n"
           "  pacer config pull my.json && pacer config push my.json")


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, h in (("show", "print every setting (or one KEY)"),
                    ("set", "change one setting: KEY VALUE (VALUE is JSON: 40, true, \"anna\")"),
                    ("push", "send every setting in a JSON file to the board"),
                    ("pull", "save the board's settings to a JSON file")):
        s = sub.add_parser(name, help=h, description=h)
        s.add_argument("--port", help="serial port (default: found by USB vendor ID)")
        if name == "show":
            s.add_argument("key", nargs="?", metavar="KEY")
            s.add_argument("--json", action="store_true", help="print JSON")
        elif name == "set":
            s.add_argument("key", metavar="KEY")
            s.add_argument("value", metavar="VALUE")
        else:
            s.add_argument("file", metavar="FILE")


def check(values):
    """Host-side validation with the board's rules; CliError listing every problem."""
    from pacer_app import config as board_config
    if not isinstance(values, dict):
        raise CliError("settings must be a JSON object like {\"vibration_pct\": 40}")
    _, errors = board_config.validate(values)
    if errors:
        raise CliError("settings rejected: " + "; ".join(errors))


def _parse_value(key, text):
    try:
        return json.loads(text)
    except ValueError:
        # a bare word is most likely a string: config set user anna
        if text.replace("-", "").replace("_", "").isalnum():
            return text
        raise CliError("%s: %r is not valid JSON (strings need double quotes)" % (key, text))


def read_file(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise CliError("settings file %s not found" % path)
    except (OSError, UnicodeDecodeError) as e:
        raise CliError("cannot read %s: %s" % (path, e))
    except json.JSONDecodeError as e:
        raise CliError("%s is not valid JSON: %s (line %d, column %d)"
                       % (path, e.msg, e.lineno, e.colno))


def run(args):
    if args.action == "push":
        values = read_file(args.file)
        check(values)
    elif args.action == "set":
        values = {args.key: _parse_value(args.key, args.value)}
        check(values)
    with device.Device.connect(args.port) as dev:
        if args.action == "show":
            if args.key:
                r = dev.command("config get " + args.key)
                print(json.dumps(r["value"]) if args.json else "%s = %s"
                      % (args.key, json.dumps(r["value"])))
                return 0
            cfg = dev.command("config get")["config"]
            if args.json:
                print(json.dumps(cfg, indent=1, sort_keys=True))
            else:
                for k in sorted(cfg):
                    print("%-22s %s" % (k, json.dumps(cfg[k])))
            return 0
        if args.action == "pull":
            cfg = dev.command("config get")["config"]
            try:
                write_atomic(args.file, lambda f: f.write(json.dumps(cfg, indent=1,
                                                                     sort_keys=True) + "\n"))
            except OSError as e:
                raise CliError("cannot write %s: %s" % (args.file, e.strerror or e)) from None
            print("saved %d settings from %s to %s" % (len(cfg), dev.port, args.file))
            return 0
        current = dev.command("config get")["config"]
        changed = 0
        stored = {}
        for k in sorted(values):
            if k in current and current[k] == values[k]:
                stored[k] = current[k]
                continue
            r = dev.command("config set %s %s" % (k, json.dumps(values[k], separators=(",", ":"))))
            stored[k] = r.get("value", values[k])
            changed += 1
        if args.action == "set":
            print("%s = %s" % (args.key, json.dumps(stored[args.key])))   # as the board stores it
        else:
            print("pushed %s: %d setting%s changed, %d already set"
                  % (args.file, changed, "s" * (changed != 1), len(values) - changed))
    return 0
