"""docs/engine.md's table of the engine's rooms names every module of firmware/pacer, and only
those: a module added or renamed without its line there fails here."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_module_table_matches_the_package():
    with open(os.path.join(ROOT, "docs", "engine.md")) as f:
        listed = set(re.findall(r"^\| `([a-z_]+\.py)` \|", f.read(), re.M))
    modules = {f for f in os.listdir(os.path.join(ROOT, "firmware", "pacer"))
               if f.endswith(".py") and f != "__init__.py"}
    assert listed == modules, ("missing from docs/engine.md: %s; listed but gone: %s"
                               % (sorted(modules - listed), sorted(listed - modules)))
