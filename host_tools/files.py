"""Files the host tools write: whole or not at all."""
import os


def write_atomic(path, fill):
    """Write through fill(f) into PATH.part beside path, then rename it into place, so an
    interrupted or failed write never leaves half a file (and an old one stays intact)."""
    tmp = os.fspath(path) + ".part"
    try:
        with open(tmp, "w", newline="\n") as f:
            fill(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
