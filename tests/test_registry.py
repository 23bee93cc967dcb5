"""The one registry class behind metrics, search spaces, ground-truth readers and assets."""

import pytest

from trainfree.benchmarks import READERS
from trainfree.data.fetch import ASSETS
from trainfree.errors import TrainfreeError
from trainfree.metrics import METRICS
from trainfree.registry import Registry
from trainfree.spaces import SPACES


def test_register_get_names():
    r = Registry("widget")
    assert r.register("b", 2) == 2 and r.register("a", 1) == 1
    assert r.get("a") == 1 and r.names() == ["a", "b"] and r.values() == [1, 2]
    assert "a" in r and "c" not in r and len(r) == 2 and list(r) == ["a", "b"]
    r.register("a", 1)  # the same entry again: no change, no error
    with pytest.raises(TrainfreeError, match="widget 'a' is already registered"):
        r.register("a", 3)
    assert r.register("a", 3, replace=True) == 3 and r.get("a") == 3
    assert r.unregister("b") == 2 and r.names() == ["a"]
    with pytest.raises(TrainfreeError, match="non-empty string"):
        r.register("", 0)


def test_unknown_name_is_one_line_naming_the_known():
    r = Registry("widget", hint=" (see `widgets --list`)")
    r.register("x", 0)
    r.register("y", 0)
    with pytest.raises(TrainfreeError) as e:
        r.get("z")
    assert str(e.value) == "unknown widget 'z'; available: x, y (see `widgets --list`)"
    short = Registry("space", choices=lambda names: f"{names[0]} and {len(names) - 1} more")
    for n in ("p1", "p2", "p3"):
        short.register(n, 0)
    with pytest.raises(TrainfreeError, match=r"^unknown space 'q'; available: p1 and 2 more$"):
        short.get("q")


def test_load_runs_once_on_first_use_and_again_after_a_failure():
    calls = []

    def load():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first load fails")
        r.register("late", 1)

    r = Registry("widget", load=load)
    r.register("early", 0)  # registering does not load
    assert calls == []
    with pytest.raises(RuntimeError):
        r.names()
    assert r.names() == ["early", "late"] and r.get("late") == 1 and len(calls) == 2
    assert r.names() == ["early", "late"] and len(calls) == 2


def test_a_taken_metric_name_names_its_module():
    from trainfree.metrics.registry import register_metric

    assert METRICS.get("naswot").fn.__module__ == "trainfree.metrics.activation"  # loads the families
    with pytest.raises(TrainfreeError, match=r"metric 'naswot' is already registered \(from trainfree.metrics"):
        register_metric("naswot")(lambda ctx: 0.0)


def test_the_four_plugin_kinds_share_the_class():
    for reg, kind, member in ((METRICS, "metric", "naswot"), (SPACES, "search space", "nb201"),
                              (READERS, "ground-truth reader", "nds_DARTS"), (ASSETS, "asset", "cifar10")):
        assert isinstance(reg, Registry) and reg.kind == kind and member in reg.names()
        with pytest.raises(TrainfreeError, match=f"^unknown {kind} 'nope'; available: "):
            reg.get("nope")
    # spaces and readers list the 34 NDS sweeps as one pattern
    assert SPACES.choices() == "darts, nb101, nb201, nds_<release file> (e.g. nds_DARTS)"
    assert READERS.names() == SPACES.names()
