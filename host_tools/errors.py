"""Errors the CLI reports as one line."""


class CliError(Exception):
    """A user-facing error: the message says what was wrong and what to do."""

    def __init__(self, message, code=1):
        Exception.__init__(self, message)
        self.code = code


class ConnectionLost(Exception):
    """The board's serial port went away mid-command (unplugged, reset). Commands that can wait
    for it (pacer log) catch it; anywhere else the CLI reports it in one line."""
