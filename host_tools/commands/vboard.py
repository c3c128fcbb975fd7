"""pacer vboard: a virtual pacer board (the real MicroPython VM) on a pseudo-terminal.

Prints the port on the first line, then runs until Ctrl-C / SIGTERM. Use the port exactly like a
board's: `pacer flash --port P`, `mpremote connect P ...`, `pacer sessions list --port P`. With
--persona a simulated person sits at the device: they feel the vibration patterns, watch the
light and follow the cues after their reaction latency (host_tools/sim/watch.py); --record
writes the outputs and the person's ground truth as JSON lines (docs/vboard.md).
"""
from host_tools.errors import CliError
from host_tools.files import out_dir, out_file

NAME = "vboard"
HELP = ("Start a virtual board (MicroPython VM on a pseudo-terminal, optional simulated person); "
        "prints its port first, runs until stopped.")
EXAMPLE = ("pacer vboard --persona typical --seed 3 --flash-dir build/vflash   (then: pacer flash "
           "--port /dev/pts/N --board pico); pacer vboard --chip rp2040 --flash-dir build/chip")


def add_arguments(p):
    p.add_argument("--chip", choices=("wasm", "rp2040"), default="wasm",
                   help="wasm: the MicroPython VM with a virtual machine module (default); "
                        "rp2040: the official rp2 image on an emulated RP2040 (board pico, or "
                        "pico_w for its wiring)")
    p.add_argument("--image", metavar="FILE",
                   help="--chip rp2040: firmware .bin to run (default: the official "
                        "MicroPython v1.28.0 RPI_PICO image)")
    p.add_argument("--board", default="pico", help="board profile (default pico)")
    p.add_argument("--persona", help="simulated person at the device (pacer sim --help lists them)")
    p.add_argument("--seed", type=int, default=0, help="seed for the person and the sensors")
    p.add_argument("--flash-dir", metavar="DIR",
                   help="host folder holding the board's flash (kept; default: a temp folder)")
    p.add_argument("--realtime", action="store_true",
                   help="real time (default: accelerated virtual time)")
    p.add_argument("--record", metavar="FILE",
                   help="JSONL of the outputs (LED, pixel, motor) and the person's truth")
    p.add_argument("--log", metavar="FILE", help="board diagnostics here instead of stderr")


def run(args):
    from host_tools.sim import personas
    from host_tools.vboard import launcher

    if args.persona is not None and args.persona not in personas.NAMES:
        raise CliError("unknown persona %r; choose from %s"
                       % (args.persona, ", ".join(personas.NAMES)))
    try:
        launcher.board_profile(args.board)
    except launcher.VBoardError as e:
        raise CliError(str(e))
    if args.chip == "rp2040":
        return _run_chip(args)
    if args.image is not None:
        raise CliError("--image needs --chip rp2040 (the wasm board runs no firmware image)")
    if not launcher.VM_MJS.is_file():
        raise CliError("the MicroPython VM is missing; run `make setup`")
    if args.flash_dir is not None:
        out_dir(args.flash_dir, "--flash-dir")
    for opt, path in (("--record", args.record), ("--log", args.log)):
        if path is not None:
            out_file(path, opt)
    argv = ["--board", args.board, "--seed", str(args.seed)]
    for opt, val in (("--persona", args.persona), ("--flash-dir", args.flash_dir),
                     ("--record", args.record), ("--log", args.log)):
        if val is not None:
            argv += [opt, val]
    if args.realtime:
        argv.append("--realtime")
    try:
        return launcher.main(argv)
    except launcher.VBoardError as e:
        raise CliError(str(e))


def _run_chip(args):
    from host_tools.vboard import launcher, rp2040

    try:
        return rp2040.serve(board=args.board, flash_dir=args.flash_dir, image=args.image,
                            realtime=args.realtime,
                            log=args.log, seed=args.seed, persona=args.persona,
                            record=args.record)
    except launcher.VBoardError as e:
        raise CliError(str(e))
