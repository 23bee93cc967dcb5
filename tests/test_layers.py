"""The package's layer order: no module imports from a layer above its own.

Every module of ``trainfree`` is parsed (no import runs) with the walker of
``trainfree.closure``: imports at the top level, inside functions and ``if`` blocks,
relative imports and ``importlib.import_module`` calls all count. A module belongs to a
*component*: its subpackage (``trainfree.metrics.engine`` -> ``metrics``) or, for a module
at the package's top, its own name (``trainfree.io`` -> ``io``; ``trainfree`` itself ->
``trainfree``). Components are ordered in :data:`LAYERS`, lowest first; a module may import
from its own layer and from the layers below.

- ground floor: ``errors``; the package root (every ``import trainfree.x`` runs it, so it
  may load only the ground floor), the bundled-data paths, JSON input, seeding, the import
  closure, the data contracts (``contracts``: the tidy tables' columns and the pure
  table helpers every layer shares) and the plug-in ``registry`` (metrics, spaces, readers and
  assets all use its ``Registry``), the process's ``memory`` (RSS, heap trimming); ``io`` (atomic writers, over ``benchdata``).
- ``spaces``, ``data`` and ``render`` (tables and figures of numbers they are given; the
  analysis, training and search stages write through it);
- ``benchmarks`` (readers: over spaces and data); ``metrics``; ``analysis``; ``training``
  (DTB studies correlate through analysis); ``search`` (HNAS over training observations);
- ``pipeline`` (the workflow's stages); the library's entry points; the command line.
"""

from __future__ import annotations

from pathlib import Path

from trainfree.closure import NAME, PACKAGE, imports, module_name

#: components, lowest layer first; imports go to the same layer or down
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    (NAME, "benchdata", "json_input", "seeding", "closure", "contracts", "registry", "memory"),
    ("io",),
    ("spaces", "data", "render"),
    ("benchmarks",),
    ("metrics",),
    ("analysis",),
    ("training",),
    ("search",),
    ("pipeline",),
    ("config_check", "metric_table", "scoring", "dtb", "workflow_config"),
    ("cli", "timing", "__main__"),
]

#: (importing module, imported module) -> why the upward import stays for now
#: (the root's lazy ``trainfree.score_model`` attribute is not an import: the walker skips a
#: module-level ``__getattr__``)
KNOWN: dict[tuple[str, str], str] = {}

LEVEL = {c: i for i, layer in enumerate(LAYERS) for c in layer}


def component(module: str) -> str:
    """``trainfree.a.b`` -> ``a``; ``trainfree`` -> ``trainfree``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _upward() -> list[tuple[str, str]]:
    found = []
    for name, path in _modules().items():
        own = LEVEL[component(name)]
        targets = imports(path)
        # a parent package counts only when nothing below it is imported (``from a import b``)
        for target in sorted(t for t in targets if not any(u.startswith(t + ".") for u in targets)):
            if LEVEL[component(target)] > own:
                found.append((name, target))
    return found


def test_every_module_has_a_layer():
    missing = sorted({component(m) for m in _modules()} - LEVEL.keys())
    assert not missing, f"components in no layer of LAYERS: {missing}"


def test_no_module_imports_from_a_higher_layer():
    bad = [f"{a} (layer {LEVEL[component(a)]}, {component(a)}) imports {b} "
           f"(layer {LEVEL[component(b)]}, {component(b)})"
           for a, b in _upward() if (a, b) not in KNOWN]
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_known_exceptions_are_still_needed():
    stale = sorted(set(KNOWN) - set(_upward()))
    assert not stale, f"no longer upward, drop from KNOWN: {stale}"


def test_the_walker_sees_function_level_and_dynamic_imports():
    # the metric registry loads its families with import_module inside a function
    assert f"{NAME}.metrics.activation" in imports(PACKAGE / "metrics" / "registry.py")
    # analysis.unify imports the registry inside accuracy_table
    assert f"{NAME}.metrics" in imports(f"{NAME}.analysis.unify")


def test_the_command_line_loads_its_subcommands_with_plain_imports():
    """``trainfree.cli`` imports each subcommand module by name (no ``importlib`` list of
    optional extensions), and every module of the package is one the walker can follow."""
    cli = PACKAGE / "cli"
    subcommands = {module_name(p) for p in cli.glob("*.py")} - {f"{NAME}.cli", f"{NAME}.cli.args", f"{NAME}.cli.__main__"}
    assert subcommands == {f"{NAME}.cli.{m}" for m in ("benchmarks", "metrics", "score", "search", "timing")}
    assert subcommands <= set(imports(f"{NAME}.cli"))
    for path in cli.glob("*.py"):
        assert "importlib" not in path.read_text(), f"{path.name} loads a module by name"
