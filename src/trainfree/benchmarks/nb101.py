"""NAS-Bench-101 ground truth: the official ``nasbench_only108.tfrecord`` (read without
TensorFlow) and the NAS-Bench-Suite-Zero NB101 JSON (offline source).

Official file: a TFRecord stream. Each record is framed as ``uint64 length`` (little
endian), ``uint32 masked CRC32C of those 8 bytes``, ``length`` data bytes, ``uint32
masked CRC32C of the data``; both CRCs are verified. The data is a JSON list
``[module_hash, epochs, adjacency "0110...", ops "input,...,output", base64 metrics]``,
where the metrics are a serialized ``nasbench.ModelMetrics`` protobuf::

    ModelMetrics   { repeated EvaluationData evaluation_data = 1; int32 trainable_parameters = 2;
                     double total_time = 3; }
    EvaluationData { double current_epoch = 1; double training_time = 2; double train_accuracy = 3;
                     double validation_accuracy = 4; double test_accuracy = 5; string checkpoint_path = 6; }

One record per (cell, repeat); ``evaluation_data`` holds the evaluations at step 0,
half-way and the end of training: the last one is the result (as the official API's
``final_*``). Rows (``dataset="cifar10"``, ``epochs`` = the record's budget, 108):
``train``/``valid``/``test`` ``acc`` in percent and ``cost`` ``train_time_s`` per repeat
(``seed="repeat1"..``), their mean over repeats (``seed="mean"``, the default target),
and ``cost`` ``params_m`` (``trainable_parameters`` / 1e6). ``arch_id`` is the record's
module hash, which equals ``trainfree.spaces.nb101.canonical`` of the cell.

Suite-Zero JSON (``{"nasbench101": {"cifar10": {KEY: {...}}}}``, KEY the 56-tuple):
``valid`` ``acc`` at 108 epochs (its ``val_accuracy``, percent) with ``seed="single"``:
it is one of the three repeats, not their mean (keys that prune to the same cell carry
different values from that cell's repeats), and ``params_m``, ``flops_m`` (``seed="mean"``).
The shared file's 250 keys are 162 distinct cells (many prune to tiny cells); the tidy
table keeps the first key of each cell (``bench_index`` = that key's position). The
published proxies, one row per key, are read by :func:`read_suitezero_proxies`.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from trainfree.errors import TrainfreeError
from trainfree.json_input import loads

SPACE = "nb101"
PROXIES = ("snip", "jacov", "grad_norm", "plain", "epe_nas", "fisher", "grasp", "l2_norm", "synflow",
           "flops", "params")


# --------------------------------------------------------------------------- CRC32C + TFRecord

def _crc_table() -> list[int]:
    poly, table = 0x82F63B78, []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc_table()


def _crc32c_py(data: bytes) -> int:
    crc, table = 0xFFFFFFFF, _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _fast_crc32c():
    """A compiled CRC-32C when one is installed (``google-crc32c`` or ``crc32c``), else None."""
    try:
        import google_crc32c

        if google_crc32c.implementation == "c":
            return lambda data: google_crc32c.value(data)
    except ImportError:
        pass
    try:
        import crc32c as _c

        return _c.crc32c
    except ImportError:
        return None


_FAST = _fast_crc32c()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as TFRecord uses it. Pure Python (table driven, ~1 MB/s:
    minutes for the official file) unless ``google-crc32c`` or ``crc32c`` is installed."""
    return _FAST(data) if _FAST is not None else _crc32c_py(data)


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC: rotate the CRC-32C right by 15 bits and add 0xa282ead8."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def iter_tfrecord(path: str | Path, verify: bool = True) -> Iterator[bytes]:
    """Data of every record of a TFRecord file; error names the file and byte offset of a bad frame.

    ``verify=False`` skips the data CRC (without a compiled CRC-32C package the pure-Python
    CRC costs minutes on the 0.5 GB official file); the length CRC is always checked.
    """
    path = Path(path)
    with open(path, "rb") as f:
        offset = 0
        while True:
            head = f.read(12)
            if not head:
                return
            if len(head) < 12:
                raise TrainfreeError(f"{str(path)!r} is truncated: incomplete record header at byte {offset}")
            length_bytes, (length_crc,) = head[:8], struct.unpack("<I", head[8:])
            if masked_crc(length_bytes) != length_crc:
                raise TrainfreeError(f"{str(path)!r} is corrupt or not a TFRecord file: length CRC mismatch at "
                                     f"byte {offset}; download it again")
            (length,) = struct.unpack("<Q", length_bytes)
            data = f.read(length)
            tail = f.read(4)
            if len(data) < length or len(tail) < 4:
                raise TrainfreeError(f"{str(path)!r} is truncated: record at byte {offset} needs {length} data "
                                     f"bytes; download it again")
            if verify and masked_crc(data) != struct.unpack("<I", tail)[0]:
                raise TrainfreeError(f"{str(path)!r} is corrupt: data CRC mismatch in the record at byte "
                                     f"{offset}; download it again")
            offset += 16 + length
            yield data


# --------------------------------------------------------------------------- protobuf

def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf):
            raise TrainfreeError("truncated varint in a ModelMetrics protobuf")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a protobuf message; bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = _varint(buf, i)
        elif wire == 1:
            val, i = struct.unpack_from("<d", buf, i)[0], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wire == 5:
            val, i = struct.unpack_from("<f", buf, i)[0], i + 4
        else:
            raise TrainfreeError(f"unsupported protobuf wire type {wire} in a ModelMetrics message")
        if i > len(buf):
            raise TrainfreeError("truncated field in a ModelMetrics protobuf")
        yield num, wire, val


_EVAL_FIELDS = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy",
                5: "test_accuracy"}


def decode_model_metrics(buf: bytes) -> dict:
    """ModelMetrics bytes -> ``{"evaluation_data": [dict, ...], "trainable_parameters": int,
    "total_time": float}`` (accuracies as fractions, times in seconds)."""
    out: dict = {"evaluation_data": [], "trainable_parameters": None, "total_time": None}
    for num, wire, val in _fields(buf):
        if num == 1 and wire == 2:
            ev = {_EVAL_FIELDS[n]: v for n, w, v in _fields(val) if n in _EVAL_FIELDS and w == 1}
            out["evaluation_data"].append(ev)
        elif num == 2 and wire == 0:
            out["trainable_parameters"] = val - (1 << 64) if val >= 1 << 63 else val
        elif num == 3 and wire == 1:
            out["total_time"] = val
    return out


# --------------------------------------------------------------------------- readers

def read_tfrecord(path: str | Path, verify: bool = True, seeds: bool = True) -> pd.DataFrame:
    """Official NB101 ``.tfrecord`` -> tidy ground truth (see module doc)."""
    path = Path(path)
    src = f"{path.name} (NAS-Bench-101)"
    index: dict[str, int] = {}
    params: dict[str, int] = {}
    runs: dict[tuple[str, int], list[dict]] = {}
    for data in tqdm(iter_tfrecord(path, verify=verify), desc=f"read {path.name}", mininterval=5, unit="rec"):
        try:
            module_hash, epochs, _adj, _ops, raw = json.loads(data.decode("utf-8"))
            metrics = decode_model_metrics(base64.b64decode(raw))
        except (ValueError, TypeError) as e:
            raise TrainfreeError(f"{str(path)!r}: a record is not [hash, epochs, adjacency, ops, base64 "
                                 f"metrics] ({e}); is this nasbench_only108.tfrecord?") from None
        if not metrics["evaluation_data"]:
            raise TrainfreeError(f"{str(path)!r}: record of {module_hash} has no evaluation data")
        index.setdefault(module_hash, len(index))
        params.setdefault(module_hash, metrics["trainable_parameters"])
        runs.setdefault((module_hash, int(epochs)), []).append(metrics["evaluation_data"][-1])
    if not index:
        raise TrainfreeError(f"{str(path)!r} holds no records")
    rows = []
    for (h, ep), evs in runs.items():
        per = {"train": [e.get("train_accuracy", np.nan) * 100 for e in evs],
               "valid": [e.get("validation_accuracy", np.nan) * 100 for e in evs],
               "test": [e.get("test_accuracy", np.nan) * 100 for e in evs]}
        times = [e.get("training_time", np.nan) for e in evs]
        for split, vals in per.items():
            rows.append((h, index[h], split, ep, "mean", "acc", float(np.mean(vals))))
            if seeds:
                rows += [(h, index[h], split, ep, f"repeat{r + 1}", "acc", v) for r, v in enumerate(vals)]
        rows.append((h, index[h], "cost", ep, "mean", "train_time_s", float(np.mean(times))))
        if seeds:
            rows += [(h, index[h], "cost", ep, f"repeat{r + 1}", "train_time_s", v) for r, v in enumerate(times)]
        rows.append((h, index[h], "cost", ep, "mean", "params_m", params[h] / 1e6))
    return _tidy(rows, src)


def _tidy(rows: list[tuple], source: str) -> pd.DataFrame:
    from trainfree.benchmarks import GT_COLUMNS

    df = pd.DataFrame(rows, columns=["arch_id", "bench_index", "split", "epochs", "seed", "field", "value"])
    df["space"], df["dataset"], df["source"] = SPACE, "cifar10", source
    df["seed"] = df["seed"].astype(str)
    return df[GT_COLUMNS].sort_values(["bench_index", "split", "field", "seed"], kind="stable").reset_index(drop=True)


def _suitezero_cells(path: Path) -> dict:
    obj = loads(path.read_bytes(), repr(str(path)), "give the NAS-Bench-Suite-Zero NB101 JSON")
    try:
        cells = obj["nasbench101"]["cifar10"]
    except (ValueError, KeyError, TypeError):
        raise TrainfreeError(f"{str(path)!r} is not a NAS-Bench-Suite-Zero NB101 JSON "
                             f"({{'nasbench101': {{'cifar10': {{KEY: {{...}}}}}}}})") from None
    return cells


def read_suitezero(path: str | Path) -> pd.DataFrame:
    """Suite-Zero NB101 JSON -> tidy ground truth: valid acc @108 (%), params_m, flops_m."""
    from trainfree.spaces import nb101

    path = Path(path)
    rows = []
    seen: set[str] = set()
    for i, (key, v) in enumerate(_suitezero_cells(path).items()):
        h = nb101.canonical(key)
        if h in seen:
            continue
        seen.add(h)
        rows.append((h, i, "valid", 108, "single", "acc", float(v["val_accuracy"])))
        rows.append((h, i, "cost", 108, "mean", "params_m", float(v["params"])))
        rows.append((h, i, "cost", 108, "mean", "flops_m", float(v["flops"])))
    return _tidy(rows, f"{path.name} (NAS-Bench-Suite-Zero)")


def read_suitezero_proxies(path: str | Path) -> pd.DataFrame:
    """Published Suite-Zero proxies: one row per key of the file (in file order), columns
    ``key`` (the 56-tuple), ``arch_id`` (module hash; repeated where keys prune to one
    cell), ``spec`` (the pruned cell's JSON), ``PROXIES`` and ``val_accuracy`` (%)."""
    from trainfree.spaces import nb101

    path = Path(path)
    recs = []
    for key, v in _suitezero_cells(path).items():
        rec = {"key": key, "arch_id": nb101.canonical(key), "spec": nb101.spec(key)}
        for p in (*PROXIES, "val_accuracy"):
            val = v.get(p)
            rec[p] = float(val["score"] if isinstance(val, dict) else val) if val is not None else np.nan
        recs.append(rec)
    return pd.DataFrame(recs)


def is_tfrecord(path: Path) -> bool:
    return path.is_file() and path.suffix == ".tfrecord"


def is_suitezero(path: Path) -> bool:
    if not (path.is_file() and path.suffix == ".json"):
        return False
    with open(path, "rb") as f:
        return b'"nasbench101"' in f.read(64)


def load(path: Path, *, seeds: bool = True, verify: bool = True, **_ignored) -> pd.DataFrame:
    """Dispatch for ``load_ground_truth("nb101", path)``: a ``.tfrecord`` or the Suite-Zero JSON."""
    if is_tfrecord(path):
        return read_tfrecord(path, verify=verify, seeds=seeds)
    if is_suitezero(path):
        return read_suitezero(path)
    raise TrainfreeError(f"{str(path)!r} is not a recognised NB101 ground-truth source: give the official "
                         f"nasbench_only108.tfrecord or the Suite-Zero JSON "
                         f"(bundled: src/trainfree/benchdata/nb101/nb101_suitezero_subset250.json)")
