"""HNAS where the observation is a short training run (its DARTS-space search).

HNAS's DARTS-space search scores a pool of random genotypes with the NTK metrics and runs
the same BO loop as on NB201 (:func:`~trainfree.search.hnas.hnas_search` with
:data:`~trainfree.search.hnas.DARTS_SETTINGS`), but no benchmark holds the accuracies: each
evaluation trains the chosen network briefly (10 epochs of a C=16, 5-cell network on half of
the CIFAR-10 training set) and observes its accuracy on the other half.

The training is the DTB's (:func:`trainfree.training.dtb.train_job`: one fixed protocol,
seeded by the arch id, resumable). Every observation is stored under ``work_dir`` as one
JSON file per (arch, protocol, network) written atomically, so an arch chosen by several
seeds is trained once and an interrupted search resumes with the observations it had.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from trainfree.errors import TrainfreeError
from trainfree.io import write_text
from trainfree.search.hnas import DARTS_SETTINGS, HnasSettings, hnas_search


def observation_key(arch_id: str, protocol_digest: str, model_kwargs: dict) -> str:
    """File stem of one observation: SHA-256 (24 hex) of arch, protocol and network options."""
    text = json.dumps([arch_id, protocol_digest, sorted(model_kwargs.items())], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def observe_arch(arch_id: str, spec: str, space: str, model_kwargs: dict, data, protocol, work_dir: str | Path,
                 device: str = "cpu") -> dict:
    """Train ``spec`` with ``protocol`` (or read the stored result) -> its final accuracies.

    Returns ``arch_id, spec, valid_acc, test_acc, train_seconds, params_m, flops_m`` at the
    last epoch; ``test_acc`` is NaN when the protocol keeps no test image.
    """
    from trainfree.training.dtb import train_job

    work = Path(work_dir)
    key = observation_key(arch_id, protocol.digest(), model_kwargs)
    path = work / f"{key}.json"
    if path.is_file():
        return json.loads(path.read_text())
    job = work / key
    states, info = train_job(arch_id, spec, space, model_kwargs, data, protocol, job / "checkpoints", job,
                             device=device, progress=False)
    last = states[states.epoch == protocol.epochs].set_index("split")["acc"]
    rec = {"arch_id": arch_id, "spec": spec, "valid_acc": float(last.get("valid", math.nan)),
           "test_acc": float(last.get("test", math.nan)), "train_seconds": float(info["train_seconds"]),
           "params_m": float(info["params_m"]), "flops_m": float(info["flops_m"]), "epochs": protocol.epochs}
    write_text(path, json.dumps(rec, indent=1))
    shutil.rmtree(job, ignore_errors=True)  # resume file and checkpoints: the JSON is what counts
    return rec


def hnas_train(scores: pd.DataFrame, space: str, data, protocol, model_kwargs: dict, seeds: Sequence[int],
               work_dir: str | Path, *, settings: HnasSettings = DARTS_SETTINGS, trace_metric: str = "ntk_trace",
               cond_metric: str = "ntk_condnum", device: str = "cpu") -> tuple[pd.DataFrame, pd.DataFrame]:
    """HNAS over a scored pool with training observations, for every seed.

    ``scores``: tidy (``arch_id, metric, value`` [+ ``seconds``]) with both NTK metrics; the
    pool is every scored arch (sorted by id). Returns (runs, evaluations): one row per seed
    (best observed arch in the space's string form, its observed valid and test accuracy,
    params, pool size, scoring seconds of the pool, training seconds of the observed archs as
    measured when each was trained, cost) and one row per evaluation (seed, step, t, c, arch,
    observed accuracy).
    """
    from trainfree.spaces import get_space

    have = set(scores.metric.unique())
    for m in (trace_metric, cond_metric):
        if m not in have:
            raise TrainfreeError(f"HNAS needs metric {m!r} in the score table; it has: {', '.join(sorted(have))}")
    sp = get_space(space)
    from trainfree.search.best_of_n import one_score_per_arch

    wide = one_score_per_arch(scores, [trace_metric, cond_metric])
    pool = wide.index.sort_values()
    m = wide.loc[pool, trace_metric].to_numpy(float)
    k = wide.loc[pool, cond_metric].to_numpy(float)
    secs = math.nan
    if "seconds" in scores.columns:
        sub = scores[scores.metric.isin([trace_metric, cond_metric])]
        secs = float(sub.groupby("arch_id")["seconds"].sum(min_count=1).sum())
    n_train, n_valid = len(data.y_train), len(data.y_valid)
    label = (f"valid acc after {protocol.epochs} epochs on {n_train} training images ({n_valid} held out; "
             f"{space} network {model_kwargs})")
    runs, evals = [], []
    for seed in seeds:
        cache: dict[int, dict] = {}

        def observe(i: int, cache: dict = cache) -> float:
            cache[i] = observe_arch(pool[i], sp.spec(pool[i]), space, model_kwargs, data, protocol, work_dir, device)
            return cache[i]["valid_acc"]

        run = hnas_search(m, k, observe, settings, seed=int(seed), progress=True)
        for step, (i, (t, c), y) in enumerate(zip(run.chosen, run.params, run.observed, strict=True)):
            evals.append({"seed": int(seed), "step": step, "t": t, "c": c, "arch_id": pool[i], "observed": y,
                          "train_seconds": cache[i]["train_seconds"]})
        best = cache[run.best]
        train_s = float(np.sum([cache[i]["train_seconds"] for i in run.chosen]))
        runs.append({"seed": int(seed), "genotype": best["spec"], "observed": best["valid_acc"],
                     "test_acc": best["test_acc"], "params_m": best["params_m"], "n_pool": len(pool),
                     "n_evals": len(run.chosen), "score_seconds": secs, "train_seconds": train_s,
                     "cost_s": (0.0 if math.isnan(secs) else secs) + train_s, "observation": label,
                     "cost": "NTK scoring seconds of the whole pool + training seconds of the observed archs"})
    return pd.DataFrame(runs), pd.DataFrame(evals)


def train_report(runs: pd.DataFrame) -> pd.DataFrame:
    """Per-seed runs of :func:`hnas_train` -> one summary row (mean ± std over seeds)."""
    if runs.empty:
        raise TrainfreeError("no HNAS run to summarise")

    def ms(c: str) -> str:
        return f"{runs[c].mean():.2f} ± {runs[c].std(ddof=0):.2f}"

    return pd.DataFrame([{
        "seeds": len(runs), "distinct_genotypes": runs.genotype.nunique(), "observed_valid": ms("observed"),
        "test_acc": ms("test_acc"), "params_m": ms("params_m"), "n_pool": int(runs.n_pool.iloc[0]),
        "n_evals": int(runs.n_evals.iloc[0]), "score_seconds": float(runs.score_seconds.mean()),
        "train_seconds": float(runs.train_seconds.mean()), "cost_s": float(runs.cost_s.mean()),
        "observation": runs.observation.iloc[0], "cost": runs.cost.iloc[0],
    }])


__all__ = ["hnas_train", "observation_key", "observe_arch", "train_report"]
