"""The metric registry's listing, read from the metric modules' source without importing them.

``trainfree metrics`` prints each metric's name, direction, needs, passes and first doc
line. Importing the metric modules loads torch (about a second); this module instead
parses them with :mod:`ast`: the family list ``FAMILIES`` and the defaults of
``register_metric`` in ``metrics/registry.py``, and every ``@register_metric("name",
...)`` decorator with literal arguments and the decorated function's docstring in the
family modules. Where a module registers a metric in any other way (a call that is not
such a decorator, an argument that is not a literal) :func:`metric_rows` imports the
registry instead, so the listing is always the registry's; a test checks that both
agree.
"""

from __future__ import annotations

import ast
from pathlib import Path

METRICS_DIR = Path(__file__).resolve().parent / "metrics"

#: the keys of a listing row, in order
ROW_KEYS = ("metric", "higher_is_better", "needs_data", "needs_labels", "passes", "doc")


class _NotStatic(Exception):
    """The source registers a metric in a form this reader does not evaluate."""


def _literal(node: ast.expr):
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise _NotStatic(ast.dump(node)) from None


def _registry_facts() -> tuple[tuple[str, ...], dict]:
    """``FAMILIES`` and the keyword defaults of ``register_metric``, from registry.py."""
    tree = ast.parse((METRICS_DIR / "registry.py").read_text(encoding="utf-8"))
    families, defaults = None, None
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "FAMILIES" for t in targets):
                families = tuple(_literal(node.value))
        elif isinstance(node, ast.FunctionDef) and node.name == "register_metric":
            a = node.args
            defaults = {k.arg: _literal(d) for k, d in zip(a.kwonlyargs, a.kw_defaults) if d is not None}
    if families is None or defaults is None:
        raise _NotStatic("registry.py: FAMILIES or register_metric not found")
    return families, defaults


def _module_rows(path: Path, defaults: dict) -> list[dict]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
             and n.func.id == "register_metric"]
    rows, seen = [], set()
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for deco in fn.decorator_list:
            if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Name)
                    and deco.func.id == "register_metric"):
                continue
            if len(deco.args) != 1 or fn not in tree.body:
                raise _NotStatic(f"{path.name}: {fn.name}")
            kw = dict(defaults)
            for k in deco.keywords:
                if k.arg is None:
                    raise _NotStatic(f"{path.name}: **kwargs in {fn.name}")
                kw[k.arg] = _literal(k.value)
            doc = (ast.get_docstring(fn, clean=False) or "").strip()
            rows.append({"metric": _literal(deco.args[0]), "higher_is_better": bool(kw["higher_is_better"]),
                         "needs_data": bool(kw["needs_data"]), "needs_labels": bool(kw["needs_labels"]),
                         "passes": tuple(kw["passes"]), "doc": doc.splitlines()[0] if doc else ""})
            seen.add(id(deco))
    if any(id(c) not in seen for c in calls):  # a registration that is not a plain decorator
        raise _NotStatic(f"{path.name}: register_metric called outside a decorator")
    return rows


def static_rows() -> list[dict]:
    """Listing rows read from the source (raises ``_NotStatic`` where it cannot)."""
    families, defaults = _registry_facts()
    rows = [r for fam in families for r in _module_rows(METRICS_DIR / f"{fam}.py", defaults)]
    names = [r["metric"] for r in rows]
    if len(set(names)) != len(names):
        raise _NotStatic("a metric name registered twice")
    return sorted(rows, key=lambda r: r["metric"])


def registry_rows() -> list[dict]:
    """Listing rows of the imported registry (loads torch and every metric module)."""
    from trainfree.metrics.registry import get_metric, list_metrics

    rows = []
    for name in list_metrics():
        m = get_metric(name)
        rows.append({"metric": name, "higher_is_better": m.higher_is_better, "needs_data": m.needs_data,
                     "needs_labels": m.needs_labels, "passes": tuple(m.passes),
                     "doc": m.doc.splitlines()[0] if m.doc else ""})
    return rows


def metric_rows() -> list[dict]:
    """One row per registered metric, sorted by name (``ROW_KEYS``): from the source when
    every registration is a literal decorator, else from the imported registry."""
    try:
        return static_rows()
    except (_NotStatic, OSError, SyntaxError, KeyError, TypeError):
        return registry_rows()
