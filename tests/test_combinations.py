"""Combinations (trainfree.analysis.combine): each registered one by hand on four archs; the DAS
rules, the AZ-NAS aggregate and the HNAS criterion reached through the registry equal their
direct formulas; config errors in one line; a combination defined in a few lines in the package
appears in a tiny study's correlation table."""

import copy
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, resolved_config, run_snakemake
from scipy import stats
from test_reliability import TINY as RELIABILITY_TINY

from trainfree.analysis import das
from trainfree.analysis.combine import (
    add_combinations,
    check_combinations,
    combine,
    get_combination,
    higher_is_better,
    label,
    list_combinations,
    register_combination,
)
from trainfree.analysis.criterion import hnas_criterion
from trainfree.analysis.unify import CRITERION, unification_analysis
from trainfree.config_check import check_config
from trainfree.errors import TrainfreeError
from trainfree.metrics.az_nas import az_nas_aggregate

ARCHS = ["a", "b", "c", "d"]
WIDE = pd.DataFrame({
    "distinguishing_ability": [-3.0, -1.0, -2.0, -4.0],
    "activation_units": [100.0, 400.0, 200.0, 100.0],
    "az_complexity": [1.0, 2.0, 3.0, 4.0],
    "az_expressivity": [4.0, 3.0, 2.0, 1.0],
    "az_progressivity": [1.0, 1.0, 2.0, 2.0],
    "az_trainability": [np.nan, 0.0, 1.0, -np.inf],
    "ntk_trace": [1.0, 2.0, 3.0, 0.0],
    "ntk_condnum": [10.0, np.nan, 4.0, 5.0],
    "naswot": [5.0, 7.0, 6.0, np.nan],
}, index=pd.Index(ARCHS, name="arch_id"))


def test_registered_names():
    assert list_combinations() == ["az_nas", "das_linear", "das_rank", "hnas", "rank_sum"]
    with pytest.raises(ValueError, match="already registered"):
        register_combination("das_rank", metrics=("naswot",))(lambda wide: wide.naswot)
    with pytest.raises(ValueError, match="lower-case"):
        register_combination("My Rule", metrics=("naswot",))


def test_das_linear_by_hand():
    # D + alpha * n * log N_A with alpha = 0.5, n = 8
    want = [-3 + 4 * np.log(100), -1 + 4 * np.log(400), -2 + 4 * np.log(200), -4 + 4 * np.log(100)]
    np.testing.assert_allclose(combine("das_linear", WIDE, batch_size=8, alpha=0.5), want)
    with pytest.raises(TrainfreeError, match="needs the scoring batch size"):
        combine("das_linear", WIDE, alpha=0.5)


def test_das_rank_by_hand():
    # rank(D) = 2, 4, 3, 1; rank(N_A) = 1.5, 4, 3, 1.5 (tie); lam = 2
    got = combine("das_rank", WIDE, lam=2.0)
    assert got.tolist() == [5.0, 12.0, 9.0, 4.0] and list(got.index) == ARCHS


def test_az_nas_by_hand():
    # ranks: complexity 1..4; expressivity 4..1; progressivity 1.5,1.5,3.5,3.5;
    # trainability: NaN and -inf tie lowest (1.5), 0 -> 3, 1 -> 4
    ranks = np.array([[1, 2, 3, 4], [4, 3, 2, 1], [1.5, 1.5, 3.5, 3.5], [1.5, 3, 4, 1.5]])
    want = np.log(ranks / 4).sum(axis=0)
    np.testing.assert_allclose(combine("az_nas", WIDE), want)
    # a subset of components, as a parameter
    np.testing.assert_allclose(combine("az_nas", WIDE, components=["az_complexity"]), np.log([0.25, 0.5, 0.75, 1]))


def test_hnas_by_hand():
    # -(mu |M^2 - nu^2| + kappa / (M + 1e-6)), mu = 0.5, nu = 2; NaN kappa counts as 1e5
    want = -np.array([0.5 * 3 + 10 / (1 + 1e-6), 0.0 + 1e5 / (2 + 1e-6), 0.5 * 5 + 4 / (3 + 1e-6),
                      0.5 * 4 + 5 / 1e-6])
    np.testing.assert_allclose(combine("hnas", WIDE, mu=0.5, nu=2.0), want, rtol=1e-12)


def test_rank_sum_by_hand():
    # naswot ranks 1, 3, 2, NaN; ntk_condnum is lower-is-better: ranks of -kappa 1, NaN, 3, 2
    got = combine("rank_sum", WIDE, metrics=["naswot", "ntk_condnum"])
    np.testing.assert_array_equal(got.to_numpy(), [2.0, np.nan, 5.0, np.nan])


def test_direct_formulas_equal_the_registered_functions():
    rng = np.random.default_rng(0)
    D = pd.Series(-rng.uniform(0, 50, 40), index=[f"x{i}" for i in range(40)])
    units = pd.Series(rng.integers(1000, 5000, 40).astype(float), index=D.index)
    wide = pd.DataFrame({"distinguishing_ability": D, "activation_units": units,
                         "ntk_trace": rng.uniform(0, 5, 40), "ntk_condnum": rng.uniform(1, 1e3, 40)})
    wide.loc[wide.index[3], "ntk_condnum"] = np.nan
    for alpha in (0.0, 0.75, 1.0):
        want = D + alpha * 64 * np.log(units)  # the DAS linear rule as written before the registry
        pd.testing.assert_series_equal(das.das_linear(D, units, 64, alpha), want, check_names=False)
        pd.testing.assert_series_equal(combine("das_linear", wide, batch_size=64, alpha=alpha), want,
                                       check_names=False)
    for lam in (0.0, 0.5, 2.0):
        want = D.rank() + lam * units.rank()
        pd.testing.assert_series_equal(das.das_rank(D, units, lam), want, check_names=False)
    mu, nu = 10 ** -1.5, 5e3 * 0.3
    crit = hnas_criterion(wide, mu, nu)
    np.testing.assert_array_equal(-combine("hnas", wide, mu=mu, nu=nu).to_numpy(), crit.to_numpy())
    acc = pd.Series(rng.uniform(80, 95, 40), index=wide.index)
    _, table = unification_analysis(wide, acc, mu, nu)
    row = table.set_index("metric").loc[CRITERION]
    assert row.n == 40
    want = stats.spearmanr(crit, acc).statistic  # a NaN kappa counts as 1e5: no arch dropped
    assert row.spearman == pytest.approx(want, abs=1e-12) and not row.higher_is_better
    az = pd.DataFrame(rng.normal(size=(40, 4)), columns=["az_complexity", "az_expressivity", "az_progressivity",
                                                          "az_trainability"])
    np.testing.assert_array_equal(combine("az_nas", az).to_numpy(), az_nas_aggregate(az).to_numpy())


def test_ablation_table_unchanged_by_the_registry(monkeypatch):
    """The DAS ablation through the registered rules equals the one through the rules written
    out in place (the code before the registry), row for row."""
    rng = np.random.default_rng(1)
    idx = [f"x{i}" for i in range(30)]
    D = -rng.uniform(0, 50, 30)
    units = rng.integers(1000, 5000, 30).astype(float)
    wide = pd.DataFrame({"distinguishing_ability": D, "activation_units": units,
                         "naswot": D + 16 * np.log(units)}, index=idx)
    truth = pd.Series(D + rng.normal(0, 5, 30) + 0.01 * units, index=idx)
    args = (wide, truth, "t", 16, [0.0, 0.5, 1.0, 2.0], [0.0, 1.0, 4.0], 0, 30)
    new = das.ablation_table(*args)

    def old_rule(name, param, w, n):
        Dw, Uw = w["distinguishing_ability"], w["activation_units"]
        return Dw + param * n * np.log(Uw) if name == "das_linear" else Dw.rank() + param * Uw.rank()

    monkeypatch.setattr(das, "_rule", old_rule)
    pd.testing.assert_frame_equal(new, das.ablation_table(*args))
    assert list(new.rule) == ["naswot (WOT)", "distinguishing_ability (D)", "activation_units (N_A)",
                              "das_linear", "das_rank"]


def _tidy(wide: pd.DataFrame, **setting) -> pd.DataFrame:
    t = wide.reset_index().melt(id_vars="arch_id", var_name="metric", value_name="value")
    t["seconds"] = 0.5
    for k, v in setting.items():
        t[k] = v
    return t


def test_add_combinations_appends_rows_per_population():
    small = WIDE[["distinguishing_ability", "activation_units"]]
    shifted = small.assign(distinguishing_ability=-small.distinguishing_ability)  # reverses rank(D)
    scores = pd.concat([_tidy(small, fast_steps=0, batch_size=8), _tidy(shifted, fast_steps=2, batch_size=8)],
                       ignore_index=True)
    specs = [{"name": "das_rank", "lam": 2}, {"name": "das_linear", "alpha": 0.5}]
    assert add_combinations(scores, []) is scores
    out = add_combinations(scores, specs)
    assert list(out.columns) == list(scores.columns) and len(out) == len(scores) + 2 * 2 * 4
    new = out.iloc[len(scores):].set_index(["fast_steps", "metric", "arch_id"]).sort_index()
    # each population ranked on its own: at k=2 rank(D) is reversed (3, 1, 2, 4)
    assert new.loc[(0, "das_rank(lam=2)"), "value"].tolist() == [5.0, 12.0, 9.0, 4.0]
    assert new.loc[(2, "das_rank(lam=2)"), "value"].tolist() == [6.0, 9.0, 8.0, 7.0]
    np.testing.assert_allclose(new.loc[(0, "das_linear(alpha=0.5)"), "value"],
                               combine("das_linear", small, batch_size=8, alpha=0.5))
    assert (new.seconds == 1.0).all() and (new.batch_size == 8).all()  # two metrics of 0.5 s each
    with pytest.raises(TrainfreeError, match="lack az_complexity"):
        add_combinations(scores, [{"name": "az_nas"}])


def test_labels_and_directions():
    assert label({"name": "az_nas"}) == "az_nas"
    assert label({"name": "das_rank", "lam": 1.0}) == "das_rank(lam=1)"
    assert label({"name": "hnas", "nu": 1500, "mu": 0.01}) == "hnas(mu=0.01,nu=1500)"
    assert label({"name": "rank_sum", "metrics": ["naswot", "snip"]}) == "rank_sum(metrics=naswot+snip)"
    assert higher_is_better("das_rank(lam=1)") and higher_is_better("hnas(mu=0.01,nu=1500)")
    assert not higher_is_better("ntk_condnum") and higher_is_better("naswot")
    assert get_combination("das_linear").settings == ("batch_size",)


BASE = resolved_config(ROOT / "config" / "digits.yaml")


def _cfg(combinations, metrics=None) -> dict:
    cfg = copy.deepcopy(BASE)
    cfg.setdefault("analysis", {})["combinations"] = combinations
    if metrics:
        cfg["scoring"]["metrics"] = metrics
    return cfg


@pytest.mark.parametrize("combinations, needle", [
    ([{"name": "nope"}], "config analysis.combinations[0].name: unknown combination 'nope'; choose one of: az_nas,"),
    ([{"name": "az_nas"}], "config analysis.combinations[0]: az_nas reads az_complexity, az_expressivity, "
                           "az_progressivity, az_trainability, not in scoring.metrics; add"),
    ([{"name": "das_rank"}], "config analysis.combinations[0]: das_rank needs lam (a finite number)"),
    ([{"name": "das_rank", "lam": "big"}], "config analysis.combinations[0].lam: das_rank's lam must be a finite number"),
    ([{"name": "das_rank", "lam": 1, "alpha": 2}], "config analysis.combinations[0].alpha: not a parameter of "
                                                   "das_rank; its parameters are: lam"),
    ([{"name": "hnas", "mu": -1.0, "nu": 1.0}], "hnas: mu must be > 0"),
    ([{"name": "das_rank", "lam": 1}, {"name": "das_rank", "lam": 1.0}],
     "config analysis.combinations[1]: das_rank(lam=1) listed twice"),
    ([{"name": "rank_sum", "metrics": []}], "rank_sum's metrics must be a non-empty list of names"),
    ([{"lam": 1}], "config analysis.combinations[0]: give a mapping with a name"),
])
def test_config_errors_are_one_line(combinations, needle):
    with pytest.raises(TrainfreeError) as e:
        check_config(_cfg(combinations))
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_config_accepts_combinations_of_scored_metrics():
    check_config(_cfg([{"name": "das_rank", "lam": 1.0}, {"name": "das_linear", "alpha": 0.5}]))
    az = ["az_complexity", "az_expressivity", "az_progressivity", "az_trainability"]
    check_config(_cfg([{"name": "az_nas"}], metrics=["naswot", *az]))
    assert check_combinations([{"name": "hnas", "mu": 0.01, "nu": 1500.0}], ["ntk_trace", "ntk_condnum"]) \
        == ["hnas(mu=0.01,nu=1500)"]


# ----------------------------------------------------------------------------- in a tiny study

#: a user's combination, in the few lines docs/metrics.md shows, appended to the package's module
USER_COMBINATION = '''

@register_combination("wot_per_param", metrics=("naswot", "params"))
def wot_per_param(wide: pd.DataFrame, power: float = 1.0) -> pd.Series:
    """NASWOT per parameter**power."""
    return wide["naswot"] / wide["params"] ** power
'''
#: the reproducibility study of test_reliability (6 NB201 archs, digits), with combinations
TINY = {**RELIABILITY_TINY, "analysis": {**RELIABILITY_TINY["analysis"],
                                         "combinations": [{"name": "wot_per_param", "power": 0.5},
                                                          {"name": "das_rank", "lam": 1.0}]}}


@pytest.mark.slow
def test_user_combination_in_a_tiny_study(tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(ROOT / "src" / "trainfree", pkg / "trainfree", ignore=shutil.ignore_patterns("__pycache__"))
    module = pkg / "trainfree" / "analysis" / "combine.py"
    module.write_text(module.read_text() + USER_COMBINATION)
    env = {**os.environ, "PYTHONPATH": str(pkg)}
    work = tmp_path / "run"
    work.mkdir()
    # a bad entry stops the dry run in one line naming the key
    bad = copy.deepcopy(TINY)
    bad["analysis"]["combinations"][0]["power"] = "half"
    r = run_snakemake(work, bad, "-n", "--cores", "1", env=env, timeout=300)
    assert r.returncode != 0
    assert "config analysis.combinations[0].power: wot_per_param's power must be a finite number, got 'half'" \
        in r.stdout + r.stderr
    r = run_snakemake(work, TINY, "--cores", "2", "-q", targets=["results/tiny/tables/correlations.csv"], env=env,
                      timeout=1200)
    assert r.returncode == 0, r.stderr[-3000:]
    out = work / "results" / "tiny"
    corr = pd.read_csv(out / "tables" / "correlations.csv").set_index("metric")
    assert {"wot_per_param(power=0.5)", "das_rank(lam=1)", "naswot", "params"} <= set(corr.index)
    assert corr.loc["wot_per_param(power=0.5)", "higher_is_better"]
    # each combination's tau re-derived from the study's own scores and ground truth
    scores = pd.read_parquet(out / "scores.parquet")
    wide = scores[scores.fast_steps == 0].pivot_table(index="arch_id", columns="metric", values="value",
                                                       dropna=False)
    gt = pd.read_parquet(out / "ground_truth.parquet")
    truth = gt[(gt.split == "test") & (gt.field == "acc") & (gt.epochs == 1)].set_index("arch_id").value
    mine = {"wot_per_param(power=0.5)": wide.naswot / np.sqrt(wide.params),
            "das_rank(lam=1)": wide.distinguishing_ability.rank() + wide.activation_units.rank()}
    for name, values in mine.items():
        both = pd.concat([values, truth], axis=1, join="inner").dropna()
        assert corr.loc[name, "n"] == len(both) >= 3
        assert corr.loc[name, "kendall"] == pytest.approx(stats.kendalltau(both.iloc[:, 0], both.iloc[:, 1])
                                                          .statistic), name
    # the scores file itself is unchanged: combinations live in the correlation stage
    assert not scores.metric.str.contains("(", regex=False).any()
    md = (out / "tables" / "correlations.md").read_text()
    assert "wot_per_param(power=0.5)" in md


def test_schema_default_is_empty_and_shipped_combinations_check():
    """No study changes unless it asks: the schema's default is no combination; a shipped config
    that names combinations names only scored metrics and valid parameters."""
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema["properties"]["analysis"]["properties"]["combinations"]["default"] == []
    for path in sorted((ROOT / "config").rglob("*.yaml")):
        cfg = yaml.safe_load(path.read_text()) or {}
        specs = (cfg.get("analysis") or {}).get("combinations") or []
        if specs:
            check_combinations(specs, cfg["scoring"]["metrics"])
