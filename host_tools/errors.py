"""Errors the CLI reports as one line, and the exit status of every `pacer` command."""

OK = 0
CHECKS_FAILED = 1   # `pacer test`: the board ran, and some check failed
BAD_INPUT = 2       # a wrong argument, file or setting, or a command the board refused
NO_BOARD = 3        # no board found, the port cannot be used, or the connection was lost

EXIT_STATUS = ("exit status: 0 done; 1 checks failed (pacer test); 2 bad input, or a command "
               "the board refused; 3 no board, or the connection to it failed")


class CliError(Exception):
    """A user-facing error: the message says what was wrong and what to do."""

    def __init__(self, message, code=BAD_INPUT):
        Exception.__init__(self, message)
        self.code = code


class NoBoard(CliError):
    """No usable board: not found, port missing or busy, no firmware answering, link lost."""

    def __init__(self, message):
        CliError.__init__(self, message, NO_BOARD)


class ConnectionLost(Exception):
    """The board's serial port went away mid-command (unplugged, reset). Commands that can wait
    for it (pacer log) catch it; anywhere else the CLI reports it in one line (exit NO_BOARD)."""
