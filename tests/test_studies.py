"""Studies on NB101 and the DARTS space exactly as on NB201: ground-truth pool, spec column,
model options of the space, tiny end-to-end runs, Suite-Zero agreement per space."""

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import benchdata, run_snakemake, write_swap_format_csv

from trainfree.config_check import check_config
from trainfree.errors import TrainfreeError
from trainfree.pipeline.sample import sample

NB101_JSON = "nb101/nb101_suitezero_subset250.json"
NB301_JSON = "darts/nb301_suitezero_subset362.json"


def _pool_cfg(space: str, source: Path, n: int, seed: int = 0) -> dict:
    return {"space": space, "sample": {"pool": "ground_truth", "n": n, "seed": seed},
            "ground_truth": {"kind": "benchmark", "source": str(source)}}


def test_nb101_ground_truth_pool_is_every_distinct_cell_with_a_spec(tmp_path):
    src = benchdata(NB101_JSON)
    df = sample(_pool_cfg("nb101", src, 1000), str(tmp_path / "s.parquet"))
    # the file's 250 keys are 162 distinct cells (module hashes)
    assert len(df) == 162 and df.arch_id.is_unique and df.bench_index.notna().all()
    # the spec rebuilds the same id in a process that never saw the hashes
    code = ("import sys, pandas as pd; from trainfree.spaces import nb101; "
            "d = pd.read_parquet(sys.argv[1]).head(5); "
            "print(all(nb101.canonical(s) == a for s, a in zip(d.spec, d.arch_id)))")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "s.parquet")], capture_output=True,
                       text=True, timeout=120)
    assert r.stdout.strip() == "True", r.stderr[-2000:]


def test_ground_truth_pool_subset_is_seeded(tmp_path):
    src = benchdata(NB301_JSON)
    a = sample(_pool_cfg("darts", src, 10, seed=3), str(tmp_path / "a.parquet"))
    b = sample(_pool_cfg("darts", src, 10, seed=3), str(tmp_path / "b.parquet"))
    c = sample(_pool_cfg("darts", src, 10, seed=4), str(tmp_path / "c.parquet"))
    assert list(a.arch_id) == list(b.arch_id) and a.arch_id.is_unique and len(a) == 10
    assert set(a.arch_id) != set(c.arch_id)
    assert (a.spec == a.arch_id).all()  # DARTS: the canonical genotype string is its own spec


def test_ground_truth_pool_needs_a_benchmark_source(tmp_path):
    cfg = {"space": "nb201", "sample": {"pool": "ground_truth", "n": 5, "seed": 0},
           "ground_truth": {"kind": "training", "source": None}}
    with pytest.raises(TrainfreeError, match="sample.pool: ground_truth needs"):
        sample(cfg, str(tmp_path / "s.parquet"))


def _cfg(space: str, model: dict) -> dict:
    return {"space": space, "model": model, "data": {"dataset": "cifar10"},
            "scoring": {"metrics": ["naswot"], "batch_size": 8},
            "downloads": {"assets": []}, "sample": {"n": 5, "seed": 0},
            "ground_truth": {"kind": "training"}, "outputs": ["study"]}


@pytest.mark.parametrize("space, model, msg", [
    ("nb101", {"C": 16}, "config model.C: not an option of the nb101 model; the options are: "
                         "stem_channels, num_stacks, num_modules_per_stack"),
    ("darts", {"C": 0}, "config model.C: must be an integer >= 1, got 0"),
    ("darts", {"auxiliary": 1}, "config model.auxiliary: must be true or false, got 1"),
])
def test_model_section_checked_against_the_space(space, model, msg):
    with pytest.raises(TrainfreeError) as e:
        check_config(_cfg(space, model))
    assert str(e.value) == msg


def test_model_section_of_the_space_passes():
    check_config(_cfg("nb101", {"stem_channels": 8, "num_stacks": 1}))
    check_config(_cfg("darts", {"C": 4, "layers": 2, "auxiliary": False}))


def _tiny(space: str, model: dict, source: Path | list[Path], targets: list[dict], n: int) -> dict:
    return {"study": "tiny", "space": space, "model": model,
            "sample": {"pool": "ground_truth", "n": n, "seed": 0},
            "data": {"dataset": "cifar10", "root": str(benchdata("images/cifar10_partial_5506.npz"))},
            "scoring": {"metrics": ["naswot", "distinguishing_ability", "activation_units", "params"],
                        "batch_size": 16, "fast_steps": []},
            "ground_truth": {"kind": "benchmark", "targets": targets,
                             "source": [str(s) for s in source] if isinstance(source, list) else str(source)},
            "analysis": {"n_boot": 20, "ablation_targets": "all"}}


@pytest.mark.slow
def test_tiny_nb101_study_end_to_end(tmp_path):
    cfg = _tiny("nb101", {"stem_channels": 8, "num_stacks": 1, "num_modules_per_stack": 1},
                benchdata(NB101_JSON), [{"dataset": "cifar10", "split": "valid", "epochs": 108,
                                         "seed": "single", "field": "acc"}], n=8)
    r = run_snakemake(tmp_path, cfg, "--cores", "2", "-q", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny"
    label = "cifar10 valid acc @108ep (seed single)"
    corr = pd.read_csv(out / "tables" / "correlations.csv")
    assert set(corr.ground_truth) == {label} and (corr.n == 8).all()
    abl = pd.read_csv(out / "tables" / "das_ablation.csv")
    assert abl.rule.iloc[0] == "naswot (WOT)" and set(abl.ground_truth) == {label}
    # NASWOT's published NB101 tau is registered (vs test acc): the valid-acc row names it
    pvo = pd.read_csv(out / "tables" / "paper_vs_ours.csv").set_index("metric")
    assert "0.285" in pvo.loc["naswot", "paper_source"] and pd.isna(pvo.loc["naswot", "paper_kendall"])
    assert (out / "figures" / "scatter_naswot.pdf").stat().st_size > 1000
    assert "n = 8" in (out / "summary.md").read_text()


@pytest.mark.slow
def test_tiny_darts_study_each_target_on_its_archs(tmp_path):
    nb301 = {"dataset": "cifar10", "split": "valid", "epochs": 100, "seed": "mean", "field": "acc",
             "source": "NB301"}
    swap = {"dataset": "cifar10", "split": "valid", "epochs": 200, "seed": "mean", "field": "acc",
            "source": "SWAP"}
    swap_csv = write_swap_format_csv(tmp_path / "swap_format.csv", 500)
    cfg = _tiny("darts", {"C": 4, "layers": 2}, [swap_csv, benchdata(NB301_JSON)], [nb301, swap], n=12)
    r = run_snakemake(tmp_path, cfg, "--cores", "2", "-q", timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "results" / "tiny"
    smp = pd.read_parquet(out / "sample.parquet")
    gt = pd.read_parquet(out / "ground_truth.parquet")
    corr = pd.read_csv(out / "tables" / "correlations.csv")
    abl = pd.read_csv(out / "tables" / "das_ablation.csv")
    text = (out / "summary.md").read_text()
    assert corr.ground_truth.nunique() == 2 and abl.ground_truth.nunique() == 2
    # each target is correlated on the sampled archs that have it
    for tag, ep in (("NB301", 100), ("SWAP", 200)):
        have = set(gt[(gt.epochs == ep) & (gt.field == "acc")].arch_id) & set(smp.arch_id)
        n = corr[corr.ground_truth.str.contains(tag) & (corr.metric == "params")].n.iloc[0]
        assert n == len(have) and 0 < n < 12
        # the summary lists each target's correlations with that target's n
        head, = [c for c in text.split("at initialisation vs **")[1:] if c.split("**")[0].endswith(f"[{tag}]")]
        block = head.split("\n\n")[1]
        assert "- params: τ = " in block and f"n = {n}," in block
    # no registered published numbers for the DARTS space: no paper-vs-ours table
    assert not (out / "tables" / "paper_vs_ours.csv").exists()


def test_suitezero_published_nb101_and_nb301():
    from trainfree.analysis import suitezero

    root = benchdata(NB101_JSON).parents[1]
    benchdata(NB301_JSON)
    p101 = suitezero.load_published(root, "nb101")
    assert len(p101) == 250 and p101.index.nunique() == 162 and {"jacob_cov", "synflow", "acc"} <= set(p101)
    p301 = suitezero.load_published(root, "darts")
    assert len(p301) == 362 and {"naswot", "synflow", "acc"} <= set(p301)
    with pytest.raises(TrainfreeError, match="no NAS-Bench-Suite-Zero proxies registered for space 'x'"):
        suitezero.published_source("x")


def test_suitezero_nb101_params_rank_as_published():
    from trainfree.analysis import suitezero

    root = benchdata(NB101_JSON).parents[1]
    pub = suitezero.sample_rows(suitezero.load_published(root, "nb101"), 6, 0)
    specs = pub.spec.groupby(level=0).first().tolist()
    scores = suitezero.score_sample(specs, seed=0, images=benchdata("images/cifar10_partial_5506.npz"),
                                    batch_size=8, metrics=("params",), progress=False, space="nb101")
    table = suitezero.validation_table(suitezero.wide_scores(scores), pub).set_index("metric")
    # the official network at the benchmark's size counts exactly the published parameters
    assert table.loc["params", "spearman_ours_published"] == pytest.approx(1.0)
    assert table.loc["params", "n"] == 6
