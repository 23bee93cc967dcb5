"""Our SWAP, MeCo, AZ-NAS, GradSign and TE-NAS metrics against their authors' code, side by side.

For each NB201 arch it builds *our* benchmark network once (seeded default init) and hands
deep copies of it to the authors' functions, read from checkouts under ``--peers`` (nothing
of them is copied here), on the same bundled CIFAR-10 batch; our values come from the
scoring engine on the original. It prints, per metric, the Spearman correlation of ours
with theirs over the archs and, where their code draws random numbers from the global
generator (SWAP's 32 re-initialisations), the Spearman of two of their own seeds.

    python tools/new_metrics_vs_authors.py --peers /path/to/peers --archs 20

``--peers`` holds the checkouts, each under its repository's name:

- ``SWAP/`` (pym1024/SWAP): ``src/metrics/swap.py`` (``SWAP``, ``cal_regular_factor``) and
  ``network_weight_gaussian_init``, as ``correlation.py`` drives them (32 repeats, 16 images);
- ``MeCo/`` (HamsterMimi/MeCo): ``get_score`` of ``correlation/NAS_Bench_201.py``;
- ``AZ-NAS/`` (cvlab-yonsei/AZ-NAS): ``NB201/ZeroShotProxy/compute_az_nas_score.py`` and
  ``compute_te_nas_score.py`` (TE-NAS's linear regions, per network), and xautodl's FLOPs
  counter for the complexity term;
- ``GradSign/`` (cmu-catalyst/GradSign): the ``grad_conflict`` measure of
  ``zero-cost-nas-code``;
- ``TENAS/`` (VITA-Group/TENAS): ``get_ntk_n`` of ``lib/procedures/ntk.py``.

Shims (here, not in the package): their code calls ``.cuda()`` and ``torch.symeig`` (removed
from torch), SWAP's ``count_parameters`` calls ``np.sum`` on a generator (refused by NumPy 2)
and MeCo's script imports torchvision at module level; the shims make ``.cuda()`` a no-op,
give ``torch.symeig`` back on top of ``torch.linalg.eigh``, redo that sum with Python's
``sum``, stub the unused imports,
and give our network the ``extract_cell_features`` method AZ-NAS's NB201 model has (the stem
and each cell's output, as theirs). Seeds: before each of their calls the global generator is
seeded as our metric's generator is (AZ-NAS, TE-NAS linear regions), so both draw the same
numbers where the order of draws is the same.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from trainfree import benchdata
from trainfree.data.datasets import scoring_batch
from trainfree.metrics import ScoringContext, resolve, score_network
from trainfree.metrics import swap as swap_metrics
from trainfree.metrics.az_nas import AZ_COMPONENTS, AZ_SEED, az_nas_aggregate
from trainfree.metrics.swap import SWAP_MU, SWAP_REPEATS, SWAP_SAMPLES, SWAP_SIGMA
from trainfree.metrics.tenas import TENAS_NTK_SAMPLES, TENAS_SEED
from trainfree.spaces import get_space

# --------------------------------------------------------------------------- shims


def _load(path: Path, name: str):
    """Import one source file as module ``name`` (no package ``__init__`` runs)."""
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _cuda_shims() -> None:
    torch.Tensor.cuda = lambda self, *a, **k: self  # CPU run: .cuda() keeps the tensor where it is
    torch.cuda.current_device = lambda: "cpu"
    # torch.symeig (upper triangle by default) now only raises
    torch.symeig = lambda a, eigenvectors=False, upper=True: torch.linalg.eigh(a, UPLO="U" if upper else "L")


class AZModel(nn.Module):
    """Our NB201 network with AZ-NAS's ``extract_cell_features`` (stem, then every cell)."""

    def __init__(self, net: nn.Module, float64: bool = False):
        super().__init__()
        self.net = net
        self.float64 = float64

    def cuda(self, *a, **k):
        return self

    def extract_cell_features(self, x):
        if self.float64:  # after their float32 init and input draws: the same numbers, in float64
            self.net.double()
            x = x.double()
        feats = []
        f = self.net.stem(x)
        feats.append(f)
        for cell in self.net.cells:
            f = cell(f)
            feats.append(f)
        return feats

    def forward(self, x):
        return self.net(x)


def load_peers(peers: Path) -> dict:
    _cuda_shims()
    fn = {}
    sys.path.insert(0, str(peers / "SWAP"))
    from src.metrics.swap import SWAP, cal_regular_factor  # type: ignore
    from src.utils.utilities import network_weight_gaussian_init  # type: ignore

    # their count_parameters calls np.sum(generator), which NumPy 2 refuses: the same sum, in Python
    sys.modules["src.metrics.swap"].count_parameters = lambda model: sum(
        int(np.prod(v.size())) for name, v in model.named_parameters() if "auxiliary" not in name) / 1e3
    fn["swap"] = (SWAP, cal_regular_factor, network_weight_gaussian_init)

    sys.path.insert(0, str(peers / "GradSign" / "zero-cost-nas-code"))
    from foresight.pruners.measures.grad_conflict import get_grad_conflict  # type: ignore
    fn["gradsign"] = get_grad_conflict
    for k in [k for k in sys.modules if k == "foresight" or k.startswith("foresight.")]:
        del sys.modules[k]  # MeCo ships its own ``foresight``

    # MeCo's correlation script imports torchvision datasets and NB201 builders it does not
    # need for get_score: stub them
    for name in ("foresight", "foresight.models", "foresight.weight_initializers", "models"):
        sys.modules[name] = types.ModuleType(name)
    ds = types.ModuleType("foresight.dataset")
    import os

    ds.torch, ds.os = torch, os
    ds.__all__ = ["torch", "os"]
    sys.modules["foresight.dataset"] = ds
    sys.modules["foresight.models"].nasbench2 = None
    sys.modules["foresight.weight_initializers"].init_net = None
    sys.modules["models"].get_cell_based_tiny_net = None
    fn["meco"] = _load(peers / "MeCo" / "correlation" / "NAS_Bench_201.py", "meco_nb201").get_score

    zsp = peers / "AZ-NAS" / "NB201" / "ZeroShotProxy"
    fn["az"] = _load(zsp / "compute_az_nas_score.py", "az_nas_score").compute_nas_score
    fn["te_rn"] = _load(zsp / "compute_te_nas_score.py", "az_te_nas_score").compute_RN_score
    fn["flops"] = _load(peers / "AZ-NAS" / "NB201" / "xautodl" / "utils" / "flop_benchmark.py",
                        "xautodl_flops").get_model_infos
    fn["ntk"] = _load(peers / "TENAS" / "lib" / "procedures" / "ntk.py", "tenas_ntk").get_ntk_n
    return fn


# --------------------------------------------------------------------------- their values


GROUPS = {"swap": ["swap", "swap_reg"], "meco": ["meco"], "gradsign": ["gradsign"],
          "tenas": ["tenas_linear_regions", "tenas_ntk_condnum"], "az": list(AZ_COMPONENTS)}


def their_swap(fn, net, x16, seed: int, repeats: int) -> tuple[float, float]:
    SWAP, cal_regular_factor, gauss_init = fn["swap"]
    net = copy.deepcopy(net)
    torch.manual_seed(seed)
    swap = SWAP(model=net, inputs=x16, device="cpu", seed=seed)
    reg = cal_regular_factor(net, SWAP_MU, SWAP_SIGMA).item()
    vals = []
    for _ in range(repeats):  # correlation.py's loop
        net = net.apply(gauss_init)
        swap.reinit()
        vals.append(swap.forward())
        swap.clear()
    return float(np.mean(vals)), float(np.mean(vals)) * reg


def their_values(fn, net, x, y, groups: list[str], seeds: tuple[int, int], swap_repeats: int) -> dict[str, float]:
    out = {}
    if "swap" in groups:
        out["swap"], out["swap_reg"] = their_swap(fn, net, x[:SWAP_SAMPLES], seeds[0], swap_repeats)
        out["swap#2"], out["swap_reg#2"] = their_swap(fn, net, x[:SWAP_SAMPLES], seeds[1], swap_repeats)
    if "meco" in groups:
        out["meco"] = fn["meco"](copy.deepcopy(net), x[:1], "cpu", measure="meco")
    if "gradsign" in groups:
        out["gradsign"] = float(fn["gradsign"](copy.deepcopy(net), x, y, F.cross_entropy))
    if "tenas" in groups:
        torch.manual_seed(TENAS_SEED)
        out["tenas_linear_regions"] = fn["te_rn"](copy.deepcopy(net), batch_size=x.shape[0],
                                                  image_size=x.shape[2], num_batch=1, gpu=None)
        out["tenas_ntk_condnum"] = float(fn["ntk"]([(x[:TENAS_NTK_SAMPLES], y[:TENAS_NTK_SAMPLES])],
                                                   [copy.deepcopy(net)], recalbn=0, train_mode=True,
                                                   num_batch=1)[0])
    if "az" not in groups:
        return out
    torch.manual_seed(AZ_SEED)
    az = fn["az"](AZModel(copy.deepcopy(net)), gpu=None, trainloader=None, resolution=x.shape[2],
                  batch_size=x.shape[0])
    for k in ("expressivity", "progressivity", "trainability"):
        out[f"az_{k}"] = az[k]
    # the same code on a float64 copy: their float32 covariance loses precision where feature
    # maps grow large (skip/pool chains) and gives negative eigenvalues, hence NaN -> -inf
    torch.manual_seed(AZ_SEED)
    az = fn["az"](AZModel(copy.deepcopy(net), float64=True), gpu=None, trainloader=None, resolution=x.shape[2],
                  batch_size=x.shape[0])
    for k in ("expressivity", "progressivity", "trainability"):
        out[f"az_{k}@float64"] = az[k]
    out["az_complexity"] = fn["flops"](copy.deepcopy(net), (1, *x.shape[1:]))[0]
    return out


def _nan_low(v: pd.Series) -> pd.Series:
    """Official −inf and our NaN are the same event (ranked lowest)."""
    return v.astype(float).replace(-np.inf, np.nan).fillna(-1e300)


def _spearman(a: pd.Series, b: pd.Series) -> float:
    return float(stats.spearmanr(_nan_low(a), _nan_low(b))[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peers", type=Path, required=True, help="folder holding the authors' checkouts")
    ap.add_argument("--archs", type=int, default=20, help="number of NB201 archs (nb201.sample, seed 0)")
    ap.add_argument("--arch", action="append", help="score these NB201 archs instead of a sample (repeatable)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seeds", type=int, nargs=2, default=(0, 1), help="two seeds of their random SWAP runs")
    ap.add_argument("--metrics", default=",".join(GROUPS), help=f"comma-separated groups of {list(GROUPS)}")
    ap.add_argument("--swap-repeats", type=int, default=SWAP_REPEATS,
                    help="re-initialisations averaged by SWAP, ours and theirs alike (official: 32)")
    ap.add_argument("--out", type=Path, help="CSV of every value (ours and theirs)")
    args = ap.parse_args()

    torch.set_num_threads(1)
    groups = [g.strip() for g in args.metrics.split(",") if g.strip()]
    bad = [g for g in groups if g not in GROUPS]
    if bad:
        ap.error(f"unknown groups {bad}; choose from {list(GROUPS)}")
    names = [m for g in groups for m in GROUPS[g]]
    fn = load_peers(args.peers)
    x, y = scoring_batch("cifar10", args.batch_size, seed=0, root=benchdata.path("images/cifar10_partial_5506.npz"))
    x = x.contiguous()  # a data loader gives contiguous batches; SWAP .view()s feature maps
    space = get_space("nb201")
    rows = []
    archs = args.arch or space.sample(args.archs, seed=0)
    for i, arch in enumerate(archs):
        t0 = time.perf_counter()
        torch.manual_seed(i)
        net = space.build_model(arch)
        theirs = their_values(fn, net, x, y, groups, tuple(args.seeds), args.swap_repeats)
        if "swap" in groups and args.swap_repeats != SWAP_REPEATS:  # our metric at their repeat count
            swap_metrics.SWAP_REPEATS = args.swap_repeats
        ours = score_network(ScoringContext(copy.deepcopy(net), x, y), resolve(names))
        rows.append({"arch": arch, **{f"ours:{k}": v for k, (v, _s) in ours.items()},
                     **{f"theirs:{k}": v for k, v in theirs.items()}})
        print(f"[{i + 1}/{len(archs)}] {time.perf_counter() - t0:.0f} s {arch}", file=sys.stderr)
        if args.out:  # after every arch, so a long run leaves what it has
            pd.DataFrame(rows).to_csv(args.out, index=False)
    d = pd.DataFrame(rows)
    table = []
    cols = [(m, m) for m in names] + [(f"{m}@float64", m) for m in AZ_COMPONENTS if f"theirs:{m}@float64" in d]
    for label, m in cols:
        a, b = d[f"ours:{m}"], d[f"theirs:{label}"]
        rel = ((a - b).abs() / b.abs().where(b != 0)).replace([np.inf, -np.inf], np.nan)
        seed_rho = _spearman(b, d[f"theirs:{m}#2"]) if f"theirs:{m}#2" in d else float("nan")
        same = int((np.isfinite(b) & ((a - b).abs() <= 1e-6 * b.abs())).sum() + (a.isna() & ~np.isfinite(b)).sum())
        table.append((label, len(d), _spearman(a, b), seed_rho, float(rel.median()), float(rel.max()),
                      int((~np.isfinite(b)).sum()), same))
    if "az" in groups:
        wide_ours = d[[f"ours:{c}" for c in AZ_COMPONENTS]].set_axis(list(AZ_COMPONENTS), axis=1)
        for suffix in ("", "@float64"):
            wide = {c: d[f"theirs:{c}{suffix}"] if c != "az_complexity" else d["theirs:az_complexity"]
                    for c in AZ_COMPONENTS}
            # AZ-NAS notebook's aggregation (tss_general.ipynb): Σ log(rankdata(v) / N), −inf lowest
            theirs_agg = sum(np.log(stats.rankdata(_nan_low(wide[c])) / len(d)) for c in AZ_COMPONENTS)
            table.append((f"az_nas aggregate{suffix}", len(d),
                          _spearman(az_nas_aggregate(wide_ours), pd.Series(theirs_agg)),
                          float("nan"), float("nan"), float("nan"), 0, 0))
    print(f"{len(d)} NB201 archs (our network, C=16, N=5, one set of weights each), CIFAR-10 batch "
          f"{args.batch_size} (bundled images; SWAP {SWAP_SAMPLES}, MeCo 1, TE-NAS NTK {TENAS_NTK_SAMPLES} of them); "
          f"SWAP repeats {args.swap_repeats}")
    print("| metric | archs | Spearman ours vs theirs | Spearman theirs seed a vs seed b | median rel. diff "
          "| max rel. diff | theirs non-finite | equal to 1e-6 |")
    print("|---|---|---|---|---|---|---|---|")
    for m, n, rho, srho, med, mx, nonfin, same in table:
        s = "—" if np.isnan(srho) else f"{srho:.4f}"
        r = "n/a (constant)" if np.isnan(rho) else f"{rho:.4f}"
        print(f"| {m} | {n} | {r} | {s} | {med:.1e} | {mx:.1e} | {nonfin} | {same} |")


if __name__ == "__main__":
    main()
