"""The pacer exercise engine: pure, deterministic, integer maths, no hardware, files or clock."""
