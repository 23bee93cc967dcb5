"""Scoring keeps nothing per arch: no hooks left on the network or globally, the network and
its scoring context are freed, no tensor outlives the arch; the RSS benchmark runs."""

import gc
import importlib.util
import json
import weakref
from pathlib import Path

import pytest
import torch
from torch.nn.modules import module as nn_module

from trainfree.metrics import ScoringContext, list_metrics, resolve, score_network
from trainfree.spaces import get_space

ROOT = Path(__file__).resolve().parents[1]
ARCHS = ("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_1x1~2|",
         "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")  # a live and a dead arch


def _tensors() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is torch.Tensor or type(o) is torch.nn.Parameter)


def _global_hooks() -> int:
    names = ("_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
             "_global_backward_pre_hooks")
    return sum(len(getattr(nn_module, n, {})) for n in names)


def _score(arch: str, x, y) -> tuple[weakref.ref, weakref.ref]:
    model = get_space("nb201").build_model(arch, C=4, N=1)
    ctx = ScoringContext(model, x, y, "cpu")
    score_network(ctx, resolve(list_metrics()))
    for m in model.modules():
        for hooks in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks"):
            assert not getattr(m, hooks), f"{type(m).__name__}.{hooks} left registered"
    for p in model.parameters():
        assert p.grad is None and not getattr(p, "_backward_hooks", None)
    return weakref.ref(model), weakref.ref(ctx)


def test_scoring_leaves_no_hooks_and_frees_the_network(one_thread):
    torch.manual_seed(0)
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    hooks_before = _global_hooks()
    _score(ARCHS[0], x, y)  # warm-up: lazily created module state outside the arch
    before = _tensors()
    for arch in ARCHS:
        model_ref, ctx_ref = _score(arch, x, y)
        gc.collect()
        assert model_ref() is None, f"{arch}: the network outlives its scoring"
        assert ctx_ref() is None, f"{arch}: the scoring context outlives its scoring"
    assert _tensors() == before, "tensors kept after scoring"
    assert _global_hooks() == hooks_before


def test_rss_bench_runs_and_writes_its_table(tmp_path, capsys, one_thread):
    spec = importlib.util.spec_from_file_location("rss_bench", ROOT / "tools" / "rss_bench.py")
    rss_bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rss_bench)
    out = tmp_path / "rss.json"
    assert rss_bench.main(["--archs", "3", "--every", "2", "--C", "2", "--N", "1", "--batch-size", "4",
                           "--metrics", "naswot,snip,synflow", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["archs"] for r in rows] == [1, 2, 3]
    assert all(r["rss_mib"] > 0 for r in rows)
    assert "RSS growth" in capsys.readouterr().out


def test_heap_guard_trims_only_past_its_limit(monkeypatch):
    import trainfree.memory as memory

    rss = iter([1000.0, 1200.0, 1257.0, 1100.0, 1300.0])
    trims = []
    monkeypatch.setattr(memory, "rss_mib", lambda: next(rss))
    monkeypatch.setattr(memory, "malloc_trim", lambda: trims.append(1) or True)
    monkeypatch.setattr(memory, "_trim_fn", lambda: object())
    g = memory.HeapGuard(256.0)
    assert g.check() is False and g.level == 1000.0        # the first unit sets the level
    assert g.check() is False                              # +200 MiB: under the bound
    assert g.check() is True and g.trims == 1              # +257: trimmed
    assert g.check() is False and g.level == 1000.0        # the level stays
    assert g.check() is True and g.trims == 2 and len(trims) == 2
    assert memory.HeapGuard(0).check() is False            # 0 disables it


def test_rss_is_read_and_trim_is_harmless():
    import trainfree.memory as memory

    assert memory.rss_mib() > 10
    assert memory.malloc_trim() in (True, False)


def test_profile_tool_prints_operators_and_functions(capsys):
    spec = importlib.util.spec_from_file_location("profile_scoring", ROOT / "tools" / "profile_scoring.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--archs", "1", "--batch-size", "8", "--threads", "1", "--top", "5"]) == 0
    out = capsys.readouterr().out
    assert "naswot, batch 8" in out and "aten::" in out and "score_archs" in out


def _grasp_stages():
    spec = importlib.util.spec_from_file_location("grasp_stages", ROOT / "tools" / "grasp_stages.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside torch.func itself
def test_grasp_stage_tool_times_both_exact_hessian_products_and_they_agree(capsys):
    tool = _grasp_stages()
    assert tool.main(["--archs", "1", "--batch-size", "8", "--threads", "1", "--fwd-over-rev",
                      "--peer-seconds", "4"]) == 0
    out = capsys.readouterr().out
    assert "| double backward |" in out and "| forward-over-reverse |" in out and "peer 4.000 s" in out
    # reverse-over-reverse (the grasp metric) and forward-over-reverse are two exact routes to H·g
    worst = float(out.split("relative to Σ|W·Hg|, ")[1].split()[0])
    assert worst < 1e-5  # float32 rounding; a wrong product is off by order one


def test_grasp_stage_tool_refuses_bad_arch_lists_in_one_line(tmp_path, capsys):
    tool = _grasp_stages()
    no_column, bad_arch = tmp_path / "a.csv", tmp_path / "b.csv"
    no_column.write_text("x,y\n1,2\n")
    bad_arch.write_text("arch_str\nnot-an-arch\n")
    for args, says in ((["--arch-csv", str(tmp_path / "none.csv")], "cannot read"),
                       (["--arch-csv", str(no_column)], "needs an arch_str column"),
                       (["--arch-csv", str(bad_arch)], "malformed NB201 arch"),
                       (["--archs", "0"], "at least 1")):
        with pytest.raises(SystemExit) as e:
            tool.main(args)
        assert e.value.code == 2 and says in capsys.readouterr().err
