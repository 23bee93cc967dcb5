"""The package modules a module or script runs, found statically, and a hash of their code.

A workflow rule passes :func:`code_hash` of its script as ``params.code``, and a cache stores
the hash of the module that computes it: a job reruns, and a cached value is recomputed,
exactly when a module it imports (directly or not) changes. Nothing is imported here: the
source files are parsed with :mod:`ast`, so that a rule that never loads torch can be
planned without it.

Followed, anywhere in a file (top level, functions, ``if`` blocks): ``import trainfree.a.b``
(with its parent packages ``trainfree`` and ``trainfree.a``, whose ``__init__`` runs first),
``from trainfree.a import b`` (``trainfree.a``, and ``trainfree.a.b`` when ``b`` is a
submodule), relative imports inside the package, and ``importlib.import_module`` /
``__import__``: a literal name is that module; an f-string ``f"trainfree.a.{x}"`` is every
module below ``trainfree.a``; any other argument is every package module named by a string
literal of the calling file. Not followed: the imports of a module-level ``__getattr__`` (a
lazy attribute such as ``trainfree.score_model``). Only ``.py`` files of this package count;
third-party imports are not followed.
"""

from __future__ import annotations

import ast
import hashlib
import os
from functools import cache
from pathlib import Path

#: the package folder and its import name
PACKAGE = Path(__file__).resolve().parent
NAME = PACKAGE.name


def module_file(name: str) -> Path | None:
    """The source file of package module ``name`` (``trainfree.a.b``), or None when ``name``
    is not a module of this package (an attribute, a third-party module)."""
    parts = name.split(".")
    if parts[0] != NAME:
        return None
    base = PACKAGE.joinpath(*parts[1:])
    for f in (base / "__init__.py", base.with_suffix(".py") if len(parts) > 1 else None):
        if f is not None and f.is_file():
            return f
    return None


def module_name(path: Path) -> str | None:
    """The import name of package file ``path``, or None when it lies outside the package."""
    try:
        rel = path.resolve().relative_to(PACKAGE)
    except ValueError:
        return None
    parts = [NAME, *rel.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _with_parents(name: str) -> list[str]:
    """``trainfree.a.b`` -> ``trainfree``, ``trainfree.a``, ``trainfree.a.b`` (each runs on import)."""
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _below(package: str) -> list[str]:
    """Every module of package ``package`` and below it (a dynamic import's candidates)."""
    f = module_file(package)
    if f is None or f.name != "__init__.py":
        return []
    return [n for p in sorted(f.parent.rglob("*.py")) if (n := module_name(p))]


def _is_dynamic_import(call: ast.Call) -> bool:
    fn = call.func
    name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else None
    return name in ("import_module", "__import__") and bool(call.args)


def _dynamic_targets(arg: ast.expr, literals: list[str]) -> list[str]:
    """Modules an ``import_module(arg)`` call may load."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.JoinedStr):
        prefix = ""
        for v in arg.values:
            if not (isinstance(v, ast.Constant) and isinstance(v.value, str)):
                break
            prefix += v.value
        package = prefix.rpartition(".")[0]
        return [package, *_below(package)] if package.split(".")[0] == NAME else []
    return [s for s in literals if module_file(s) is not None]


@cache
def _direct_imports(path: Path) -> frozenset[str]:
    """Package modules file ``path`` imports itself (parents included), anywhere in the file."""
    tree = ast.parse(path.read_bytes(), filename=str(path))
    own = module_name(path)
    # the package a relative import starts from: the module's own package
    package = None if own is None else own if path.name == "__init__.py" else own.rpartition(".")[0]
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    # a module-level ``__getattr__`` (a lazy attribute, PEP 562) imports only when that attribute
    # is read, e.g. ``trainfree.score_model``: not followed (scripts import modules by name)
    lazy = {id(n) for f in tree.body if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
            for n in ast.walk(f)}
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in lazy:
            continue
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if package is None:
                    continue
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append(mod)
            found += [f"{mod}.{a.name}" for a in node.names if a.name != "*"]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found += _dynamic_targets(node.args[0], literals)
    out = set()
    for name in found:
        if name.split(".")[0] == NAME:
            out.update(n for n in _with_parents(name) if module_file(n) is not None)
    return frozenset(out)


@cache
def _closure(path: Path) -> tuple[Path, ...]:
    seen: set[str] = set()
    todo = list(_direct_imports(path))
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += _direct_imports(module_file(name)) - seen
    own = module_name(path)
    if own is not None:
        seen.update(n for n in _with_parents(own) if module_file(n) is not None)
    return tuple(sorted(module_file(n) for n in seen))


def _entry(entry: str | os.PathLike) -> Path:
    """A file path, or the source file of a package module name."""
    if isinstance(entry, str) and entry.split(".")[0] == NAME and not entry.endswith(".py"):
        f = module_file(entry)
        if f is None:
            raise ValueError(f"{entry!r} is not a module of {NAME}")
        return f
    return Path(entry).resolve()


def imports(entry: str | os.PathLike) -> list[str]:
    """Sorted names of the package modules that ``entry`` imports itself (not through other
    modules), their parent packages included; ``entry`` as for :func:`closure`."""
    return sorted(_direct_imports(_entry(entry)))


def closure(entry: str | os.PathLike) -> list[str]:
    """Sorted paths (``trainfree/a/b.py``, relative to the package's parent folder) of every
    package module that ``entry`` imports, directly or through other package modules.

    ``entry`` is a module name (``trainfree.pipeline.score``) or a ``.py`` file (a workflow
    script, a package module); a package module is part of its own closure.
    """
    return [f.relative_to(PACKAGE.parent).as_posix() for f in _closure(_entry(entry))]


@cache
def _hash(path: Path) -> str:
    files = {f.relative_to(PACKAGE.parent).as_posix(): f for f in _closure(path)}
    if module_name(path) is None:  # a script outside the package: its own code counts too
        files[path.name] = path
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode())
        h.update(files[rel].read_bytes())
    return h.hexdigest()[:12]


def code_hash(entry: str | os.PathLike) -> str:
    """12-hex SHA-256 over the sorted (relative path, bytes) of :func:`closure` of ``entry``
    (and of ``entry`` itself when it is a script outside the package). Computed once per
    file and process."""
    return _hash(_entry(entry))
