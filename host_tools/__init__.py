"""pacer host tools: the `pacer` command and what it drives."""

__version__ = "0.1.0"
