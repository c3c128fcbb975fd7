"""Files the host tools write: whole or not at all."""
import os
import tempfile

from host_tools.errors import CliError


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


def out_dir(path, what="--out"):
    """Make sure PATH is a folder the tools can write into (creating it), or raise a CliError
    saying why not: a file already has that name, or the path cannot be made."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CliError("%s %s is a file, not a folder; give a folder name" % (what, path))
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise CliError("%s %s: cannot create that folder (%s); give a folder you can write"
                       % (what, path, e.strerror or e))
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as e:
        raise CliError("%s %s: cannot write in that folder (%s); give another"
                       % (what, path, e.strerror or e))
    return path


def out_file(path, what="--out"):
    """Check, before any work, that a file can be written at PATH (creating its folder if
    needed, but not the file), or raise a CliError saying what to do."""
    if os.path.isdir(path):
        raise CliError("%s %s is a folder; give a file name" % (what, path))
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise CliError("%s %s: %s is a file, not a folder; give another path"
                       % (what, path, folder))
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as e:
        raise CliError("%s %s: cannot write there (%s); give a path you can write"
                       % (what, path, e.strerror or e))
    return path
