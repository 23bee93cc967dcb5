"""The HNAS selection criterion (Shu et al., NeurIPS 2022), over a scored population.

    criterion(A) = μ · |M(A)² − ν²| + κ(A) / (M(A) + 1e-6)        (lower is better)

with M the NTK trace norm (``ntk_trace``, or any gradient metric standing in for it),
κ the NTK condition number (``ntk_condnum``), μ = 10^c and ν = s·t. The Bayesian
optimisation over (t, c) is :func:`hnas_search` below: a generic loop over a scored pool
and an observation function, with the NB201 and DARTS-space settings of the official
code as :data:`NB201_SETTINGS` and :data:`DARTS_SETTINGS`; :func:`hnas_nb201` runs it on
a score table against the NB201 ground truth.

The loop follows the official search scripts (``nasbench/nasbench2_search.py`` and
``darts_space/search.py`` of the HNAS release), written for ``bayesian-optimization``
1.x; this module uses the 3.x API (``acquisition_function`` objects, ``suggest`` /
``register``). Behavioural differences, all documented in the README:

- acquisition maximisation: 1.x ran L-BFGS-B from 10 *random* seeds after 10,000 random
  tries; 3.x starts it from the 10 *best* of the random tries;
- a suggestion equal to an already observed (t, c) (possible at the bounds): 1.x returned
  the cached value without evaluating an arch (the step is spent, no new arch observed);
  here the step evaluates the next not-yet-chosen arch at that (t, c) and registers it
  (``allow_duplicate_points=True``), so every step observes one new arch;
- the candidate pool is drawn from a seeded ``numpy.random.Generator`` (the official code
  used the global ``np.random`` state); BO's own seed is the same integer.

The criterion and its guards (the official code's) are defined in
``trainfree.analysis.criterion``, which the unification analysis shares, and re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trainfree.analysis.combine import combine
from trainfree.analysis.criterion import KAPPA_NONFINITE, M_EPS, hnas_criterion, hnas_weights
from trainfree.errors import TrainfreeError

# --------------------------------------------------------------------------- BO search


@dataclass(frozen=True)
class HnasSettings:
    """Settings of the HNAS Bayesian optimisation over (t, c) (official values per space).

    ``n_probes`` probes at t = linspace(0, 1, n_probes), c = ``probe_c`` (default: the
    middle of ``c_bounds``), then ``n_steps`` acquisition steps (``ei`` or ``ucb``);
    ``pool_step`` uniform draws (with replacement) from the scored archs join the
    candidate pool before every evaluation (``None``: the whole scored pool from the
    start, as in the DARTS space); ``scale`` is s in ν = s·t.
    """

    n_probes: int = 5
    n_steps: int = 15
    acquisition: str = "ei"
    t_bounds: tuple[float, float] = (0.0, 1.0)
    c_bounds: tuple[float, float] = (-4.0, 0.0)
    probe_c: float | None = -2.0
    scale: float = 5e3
    pool_step: int | None = 2000
    xi: float = 0.0          # EI exploration (1.x default)
    kappa: float = 2.576     # UCB exploration (1.x default)

    @property
    def n_evals(self) -> int:
        return self.n_probes + self.n_steps


NB201_SETTINGS = HnasSettings()
DARTS_SETTINGS = HnasSettings(n_probes=6, n_steps=19, acquisition="ucb", c_bounds=(-4.0, 1.0), probe_c=None,
                              scale=1e2, pool_step=None)


@dataclass
class HnasRun:
    """One search: the evaluated pool indices in order, their (t, c), observations; the best."""

    chosen: list[int] = field(default_factory=list)
    params: list[tuple[float, float]] = field(default_factory=list)
    observed: list[float] = field(default_factory=list)
    pool_size: list[int] = field(default_factory=list)
    in_pool: np.ndarray | None = None  # bool (P,), every arch that entered the candidate pool

    @property
    def best(self) -> int:
        """Pool index of the best observed arch (first on ties)."""
        return self.chosen[int(np.nanargmax(np.asarray(self.observed, dtype=float)))]


def _acquisition(settings: HnasSettings):
    from bayes_opt import acquisition

    if settings.acquisition == "ei":
        return acquisition.ExpectedImprovement(xi=settings.xi)
    if settings.acquisition == "ucb":
        return acquisition.UpperConfidenceBound(kappa=settings.kappa)
    raise TrainfreeError(f"acquisition {settings.acquisition!r}: use 'ei' or 'ucb'")


def hnas_search(trace: np.ndarray, cond: np.ndarray, observe: Callable[[int], float],
                settings: HnasSettings = NB201_SETTINGS, seed: int = 0, progress: bool = False) -> HnasRun:
    """HNAS's BO loop over a scored pool of P archs.

    ``trace`` (P,) the NTK trace norm M, ``cond`` (P,) the condition number κ;
    ``observe(i)`` trains/looks up pool arch ``i`` and returns its validation accuracy
    (to maximise). Every evaluation: grow the candidate pool, pick the not-yet-chosen
    candidate minimising :func:`hnas_criterion` at μ = 10^c, ν = s·t (non-finite values
    never picked; ties: lowest pool index), observe it, register (t, c) -> accuracy with
    the GP. Deterministic for a given ``seed``.
    """
    from bayes_opt import BayesianOptimization
    from tqdm import tqdm

    trace = np.asarray(trace, dtype=float)
    cond = np.asarray(cond, dtype=float)
    if trace.shape != cond.shape or trace.ndim != 1:
        raise TrainfreeError(f"trace and cond must be 1-D arrays of one length, got {trace.shape} and {cond.shape}")
    n = len(trace)
    if n < settings.n_evals:
        raise TrainfreeError(f"pool of {n} archs is smaller than the {settings.n_evals} evaluations of the search")
    rng = np.random.default_rng(seed)
    opt = BayesianOptimization(f=None, pbounds={"t": settings.t_bounds, "c": settings.c_bounds},
                               acquisition_function=_acquisition(settings), random_state=seed, verbose=0,
                               allow_duplicate_points=True)
    probe_c = settings.probe_c if settings.probe_c is not None else float(np.mean(settings.c_bounds))
    probes = [{"t": float(t), "c": float(probe_c)} for t in np.linspace(*settings.t_bounds, settings.n_probes)]
    in_pool = np.zeros(n, dtype=bool) if settings.pool_step else np.ones(n, dtype=bool)
    chosen = np.zeros(n, dtype=bool)
    run = HnasRun()
    for step in tqdm(range(settings.n_evals), desc=f"hnas seed {seed}", disable=not progress):
        params = probes[step] if step < len(probes) else opt.suggest()
        t, c = float(params["t"]), float(params["c"])
        if settings.pool_step:
            in_pool[rng.integers(0, n, settings.pool_step)] = True
        cand = np.flatnonzero(in_pool & ~chosen)
        mu, nu = hnas_weights(t, c, settings.scale)
        pool = pd.DataFrame({"ntk_trace": trace[cand], "ntk_condnum": cond[cand]})
        crit = -combine("hnas", pool, mu=mu, nu=nu).to_numpy()  # the criterion (minimised)
        ok = np.isfinite(crit)
        if not ok.any():
            raise TrainfreeError(f"no candidate with a finite HNAS criterion at step {step} (t={t:.3f}, c={c:.3f}); "
                                 f"the pool's ntk_trace/ntk_condnum values are all NaN or inf")
        i = int(cand[np.flatnonzero(ok)[np.argmin(crit[ok])]])
        y = float(observe(i))
        chosen[i] = True
        opt.register(params={"t": t, "c": c}, target=y)
        run.chosen.append(i)
        run.params.append((t, c))
        run.observed.append(y)
        run.pool_size.append(int(in_pool.sum()))
    run.in_pool = in_pool
    return run


# --------------------------------------------------------------------------- NB201 driver

OBSERVATION_12 = {"dataset": "cifar10-valid", "split": "valid", "epochs": 12, "seed": "mean", "field": "acc"}
OBSERVATION_200 = {"dataset": "cifar10-valid", "split": "valid", "epochs": 200, "seed": "mean", "field": "acc"}
TRAIN_TIME_12 = {"dataset": "cifar10-valid", "split": "cost", "epochs": 12, "seed": "mean", "field": "train_time_s"}


def _has(gt: pd.DataFrame, t: Mapping) -> bool:
    return bool(((gt.dataset == t["dataset"]) & (gt.split == t["split"]) & (gt.epochs == t["epochs"])
                 & (gt.seed.astype(str) == str(t["seed"])) & (gt.field == t["field"])).any())


def observation_field(gt: pd.DataFrame) -> tuple[dict, bool]:
    """The observation HNAS uses: 12-epoch ``cifar10-valid`` valid accuracy when the ground
    truth has it (official NB201/NATS files), else the 200-epoch one -> (target, substitute?)."""
    if _has(gt, OBSERVATION_12):
        return dict(OBSERVATION_12), False
    if _has(gt, OBSERVATION_200):
        return dict(OBSERVATION_200), True
    raise TrainfreeError("the ground truth has no cifar10-valid valid accuracy (12 or 200 epochs); build it with "
                         "`trainfree ground-truth nb201 --source src/trainfree/benchdata/nb201 --out gt.parquet`")


def hnas_nb201(scores: pd.DataFrame, gt: pd.DataFrame, seeds: Sequence[int], *,
               settings: HnasSettings = NB201_SETTINGS, trace_metric: str = "ntk_trace",
               cond_metric: str = "ntk_condnum", targets: Sequence[Mapping] | None = None) -> pd.DataFrame:
    """HNAS on NB201 for every seed: one row per seed.

    ``scores``: tidy (``arch_id, metric, value`` [+ ``seconds``]) with ``trace_metric`` and
    ``cond_metric``; the pool is every arch with both scores and an observation. Columns:
    seed, arch_id (best observed), observed, test accuracy per dataset of ``targets``
    (default: 200-epoch test on C10/C100/IN16), n_pool (scored pool), n_candidates (archs
    drawn into the candidate pool), score_seconds (their scoring time, NaN if the table has
    no ``seconds``), train_seconds (12-epoch training time of the observed archs, NaN when
    the ground truth has none), observation and cost labels.
    """
    from trainfree.benchmarks import describe, select
    from trainfree.search.best_of_n import DEFAULT_TARGETS, truth_table

    have = set(scores.metric.unique())
    for m in (trace_metric, cond_metric):
        if m not in have:
            raise TrainfreeError(f"HNAS needs metric {m!r} in the score table; it has: {', '.join(sorted(have))}")
    from trainfree.search.best_of_n import one_score_per_arch

    wide = one_score_per_arch(scores, [trace_metric, cond_metric])
    obs_t, substitute = observation_field(gt)
    obs = select(gt, **obs_t)
    truth, _ = truth_table(gt, targets or DEFAULT_TARGETS)
    pool = wide.index.intersection(obs.dropna().index).intersection(truth.dropna().index)
    if len(pool) == 0:
        raise TrainfreeError("no scored arch has an observation and test accuracies; check the arch ids")
    pool = pool.sort_values()
    m = wide.loc[pool, trace_metric].to_numpy(float)
    k = wide.loc[pool, cond_metric].to_numpy(float)
    y = obs.loc[pool].to_numpy(float)
    secs = None
    if "seconds" in scores.columns:
        sub = scores[scores.metric.isin([trace_metric, cond_metric])]
        secs = sub.groupby("arch_id")["seconds"].sum(min_count=1).reindex(pool).to_numpy(float)
    train = select(gt, **TRAIN_TIME_12).reindex(pool).to_numpy(float) if _has(gt, TRAIN_TIME_12) else None
    obs_label = describe(**obs_t) + (" [substitute for the 12-epoch valid accuracy]" if substitute else "")
    rows = []
    for seed in seeds:
        run = hnas_search(m, k, lambda i: y[i], settings, seed=int(seed))
        b = run.best
        row = {"seed": int(seed), "arch_id": pool[b], "observed": y[b]}
        for ds in truth.columns:
            row[ds] = float(truth.loc[pool[b], ds])
        row["n_pool"] = len(pool)
        row["n_candidates"] = int(run.in_pool.sum())
        row["n_evals"] = len(run.chosen)
        row["score_seconds"] = float(np.nansum(secs[run.in_pool])) if secs is not None else math.nan
        row["train_seconds"] = float(train[run.chosen].sum()) if train is not None else math.nan
        row["observation"] = obs_label
        row["cost"] = ("scoring seconds of the candidate pool + 12-epoch training seconds of the observed archs"
                       if train is not None else
                       "scoring seconds of the candidate pool only (the ground truth has no training times)")
        rows.append(row)
    return pd.DataFrame(rows)


def summarise_runs(runs: pd.DataFrame, datasets: Sequence[str]) -> pd.DataFrame:
    """Mean ± std (ddof 0) over seeds of the test accuracies and costs of :func:`hnas_nb201`."""
    out = {"seeds": len(runs)}
    for c in [*datasets, "observed", "score_seconds", "train_seconds"]:
        out[f"{c}_mean"] = float(runs[c].mean())
        out[f"{c}_std"] = float(runs[c].std(ddof=0))
    out["n_pool"] = int(runs.n_pool.iloc[0])
    out["observation"] = runs.observation.iloc[0]
    out["cost"] = runs.cost.iloc[0]
    return pd.DataFrame([out])


__all__ = ["DARTS_SETTINGS", "KAPPA_NONFINITE", "M_EPS", "NB201_SETTINGS", "HnasRun", "HnasSettings", "hnas_criterion", "hnas_nb201",
           "hnas_search", "hnas_weights", "observation_field", "summarise_runs"]
