"""Fixture sweeps in the NDS release's exact layout (data.zip -> data/<sweep>.json).

A record holds the keys the NDS notebooks read (job_id, rng_seed, exp_mem, params, flops,
net, optim, act_mem, prec_time, iter_time, min_test_top1, train_ep_loss, train_ep_top1,
test_ep_top1, train_it_loss, train_it_top1); the rerun sweeps are ``{"top": [...],
"mid": [...]}``. Cell nets carry genotype/width/depth/aux/drop_prob, block nets
block_type/ds/ws/ss/bot_muls/num_gs (empty lists where unused), as the release's readers
(NNI's NDS importer, NASWOT's loader) expect. Networks are tiny; errors are made up per
record (deterministic).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

# One genotype per cell family, ops drawn from that family's op set.
GENOTYPES = {
    "DARTS": {"normal": [["sep_conv_3x3", 0], ["dil_conv_5x5", 1], ["skip_connect", 0], ["sep_conv_5x5", 2],
                         ["max_pool_3x3", 1], ["dil_conv_3x3", 3], ["avg_pool_3x3", 2], ["skip_connect", 4]],
              "normal_concat": [2, 3, 4, 5],
              "reduce": [["max_pool_3x3", 0], ["sep_conv_3x3", 1], ["skip_connect", 1], ["dil_conv_3x3", 2],
                         ["avg_pool_3x3", 0], ["sep_conv_5x5", 3], ["skip_connect", 0], ["max_pool_3x3", 4]],
              "reduce_concat": [2, 3, 4, 5]},
    "ENAS": {"normal": [["sep_conv_5x5", 1], ["skip_connect", 0], ["avg_pool_3x3", 1], ["sep_conv_3x3", 2],
                        ["max_pool_3x3", 0], ["sep_conv_3x3", 3], ["skip_connect", 2], ["avg_pool_3x3", 4],
                        ["sep_conv_5x5", 5], ["skip_connect", 1]],
             "normal_concat": [2, 3, 4, 5, 6],
             "reduce": [["sep_conv_3x3", 0], ["max_pool_3x3", 1], ["sep_conv_5x5", 2], ["skip_connect", 1],
                        ["avg_pool_3x3", 0], ["sep_conv_3x3", 3], ["max_pool_3x3", 2], ["sep_conv_5x5", 4],
                        ["skip_connect", 5], ["avg_pool_3x3", 3]],
             "reduce_concat": [6]},
    "PNAS": {"normal": [["sep_conv_7x7", 0], ["max_pool_3x3", 1], ["sep_conv_5x5", 1], ["skip_connect", 2],
                        ["conv_7x1_1x7", 0], ["dil_conv_3x3", 3], ["sep_conv_3x3", 4], ["skip_connect", 1],
                        ["max_pool_3x3", 2], ["sep_conv_3x3", 5]],
             "normal_concat": [2, 3, 4, 5, 6],
             "reduce": [["sep_conv_5x5", 0], ["max_pool_3x3", 0], ["sep_conv_7x7", 1], ["max_pool_3x3", 1],
                        ["skip_connect", 2], ["conv_7x1_1x7", 3], ["sep_conv_3x3", 0], ["dil_conv_3x3", 4],
                        ["max_pool_3x3", 5], ["skip_connect", 1]],
             "reduce_concat": [2, 3, 4, 5, 6]},
    "NASNet": {"normal": [["conv_3x1_1x3", 0], ["conv_1x1", 1], ["max_pool_5x5", 1], ["conv_3x3", 2],
                          ["max_pool_7x7", 0], ["sep_conv_7x7", 3], ["dil_conv_3x3", 4], ["skip_connect", 2],
                          ["avg_pool_3x3", 1], ["conv_7x1_1x7", 5]],
               "normal_concat": [6],
               "reduce": [["conv_1x1", 0], ["conv_3x3", 1], ["conv_3x1_1x3", 2], ["max_pool_7x7", 1],
                          ["sep_conv_5x5", 0], ["max_pool_5x5", 3], ["skip_connect", 4], ["conv_7x1_1x7", 2],
                          ["avg_pool_3x3", 5], ["sep_conv_3x3", 0]],
               "reduce_concat": [6]},
    "Amoeba": {"normal": [["dil_sep_conv_3x3", 0], ["avg_pool_3x3", 1], ["sep_conv_7x7", 1], ["skip_connect", 2],
                          ["conv_7x1_1x7", 0], ["sep_conv_5x5", 3], ["max_pool_3x3", 4], ["sep_conv_3x3", 2],
                          ["skip_connect", 1], ["dil_sep_conv_3x3", 5]],
               "normal_concat": [6],
               "reduce": [["sep_conv_3x3", 0], ["max_pool_3x3", 1], ["conv_7x1_1x7", 0], ["dil_sep_conv_3x3", 2],
                          ["avg_pool_3x3", 3], ["sep_conv_7x7", 1], ["skip_connect", 2], ["sep_conv_5x5", 4],
                          ["max_pool_3x3", 5], ["skip_connect", 0]],
               "reduce_concat": [6]},
}

# One net per block family (CIFAR stem is the reader's default: res_stem_cifar, 16 channels).
BLOCK_NETS = {
    "Vanilla": {"block_type": "double_plain_block", "ds": [1, 2, 1], "ws": [8, 16, 24], "ss": [1, 2, 2],
                "bot_muls": [], "num_gs": []},
    "ResNet": {"block_type": "res_basic_block", "ds": [2, 1, 1], "ws": [16, 24, 32], "ss": [1, 2, 2],
               "bot_muls": [], "num_gs": []},
    "ResNet-B": {"block_type": "res_bottleneck_block", "ds": [1, 1, 2], "ws": [16, 32, 48], "ss": [1, 2, 2],
                 "bot_muls": [0.25, 0.25, 0.25], "num_gs": [1, 1, 1]},
    "ResNeXt-A": {"block_type": "res_bottleneck_block", "ds": [1, 2, 1], "ws": [16, 32, 64], "ss": [1, 2, 2],
                  "bot_muls": [0.5, 0.25, 1.0], "num_gs": [2, 4, 8]},
    "ResNeXt-B": {"block_type": "res_bottleneck_block", "ds": [2, 1, 1], "ws": [24, 32, 64], "ss": [1, 2, 2],
                  "bot_muls": [1.0, 0.5, 0.25], "num_gs": [4, 2, 2]},
}


def family_net(stem: str, i: int = 0) -> dict:
    """The ``net`` config of record ``i`` of sweep ``stem`` (width/depth/stages vary with i)."""
    fam = stem.split("_")[0]
    if fam in GENOTYPES:
        return {"genotype": GENOTYPES[fam], "width": 4 + 2 * (i % 3), "depth": 5 + (i % 2), "aux": i % 2 == 1,
                "drop_prob": 0.0}
    net = json.loads(json.dumps(BLOCK_NETS[fam]))
    net["ds"] = [d + (i % 2) if k == 0 else d for k, d in enumerate(net["ds"])]
    net["ws"] = [w + 8 * (i % 3) * (k == 2) for k, w in enumerate(net["ws"])]
    return net


def record(stem: str, i: int, params: int, epochs: int = 3) -> dict:
    """One release record of sweep ``stem`` with made-up, record-dependent errors."""
    final = 10.0 + (i * 37 % 11) * 0.75
    test = [final + 4.0 * (epochs - e) for e in range(1, epochs + 1)]
    train = [t - 2.0 for t in test]
    return {
        "job_id": 1000 + i, "rng_seed": 1, "exp_mem": 100.0, "params": params, "flops": 1000 * params + i,
        "net": family_net(stem, i),
        "optim": {"base_lr": 0.1 if "lr-wd" not in stem else 0.05 * (1 + i), "wd": 5e-4, "lr_policy": "cos",
                  "max_ep": epochs, "momentum": 0.9, "nesterov": True},
        "act_mem": 10.0, "prec_time": 0.1, "iter_time": 0.2, "min_test_top1": min(test) - 0.5,
        "train_ep_loss": [1.0] * epochs, "train_ep_top1": train, "test_ep_top1": test,
        "train_it_loss": [1.0] * epochs, "train_it_top1": train,
    }


def sweep(stem: str, n: int, count_params=lambda stem, net: 0) -> list | dict:
    recs = [record(stem, i, count_params(stem, family_net(stem, i))) for i in range(n)]
    if stem.endswith("_reruns"):
        return {"top": recs[: n // 2], "mid": recs[n // 2:]}
    return recs


def write_release(root: Path, sweeps: dict[str, int], count_params=lambda stem, net: 0, as_zip: bool = True) -> Path:
    """Write ``data/<stem>.json`` per sweep (``n`` records each) into ``root/data.zip`` (or a folder)."""
    root.mkdir(parents=True, exist_ok=True)
    files = {f"data/{s}.json": json.dumps(sweep(s, n, count_params)) for s, n in sweeps.items()}
    if as_zip:
        out = root / "data.zip"
        with zipfile.ZipFile(out, "w") as z:
            for name, text in files.items():
                z.writestr(name, text)
        return out
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root
