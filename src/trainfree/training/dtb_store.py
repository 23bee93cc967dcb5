"""DTB as a dataset: assembling the folder (manifest, states, archs, datasheet) and opening it.

Folder layout (``DTB_VERSION``)::

    manifest.json          version, space, network arguments, protocol, data, archs, SHA-256 of every file
    states.csv             arch_id, epoch, split, loss, acc, seconds   (seconds = cumulative training time)
    archs.csv              arch_index, arch_id, spec, params_m, flops_m, train_seconds, checkpoint_dir
    DATASHEET.md           motivation, composition, collection protocol, uses, limits
    checkpoints/arch_NNNN/epoch_EEE.pt   weights + optimizer + scheduler + RNG state at epoch EEE

:func:`open_dtb` (``trainfree.dtb.open``) checks every checksum before anything is used
and refuses the folder with a message naming the first file that differs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from torch import nn

from trainfree.errors import TrainfreeError
from trainfree.io import write_text
from trainfree.training.dtb import build, checkpoint_name, file_sha256, load_state

DTB_VERSION = "1.0"
MANIFEST = "manifest.json"
MANIFEST_MAX_BYTES = 64 << 20  # a manifest of 10^5 checkpoints is ~20 MB


def arch_dir(index: int) -> str:
    """Checkpoint folder of the arch at position ``index`` of the sample."""
    return f"arch_{index:04d}"


def assemble(folder: str | Path, space: str, model_kwargs: dict, protocol: dict, data_info: dict,
             archs: pd.DataFrame, states: pd.DataFrame, sample_seed: int, datasheet: str,
             version: str = DTB_VERSION) -> dict:
    """Write ``states.csv``, ``archs.csv``, ``DATASHEET.md`` and, last, ``manifest.json``.

    ``archs``: one row per arch (``arch_index, arch_id, spec, params_m, flops_m, train_seconds``);
    its checkpoints must already be under ``checkpoints/arch_NNNN/``. Returns the manifest.
    """
    root = Path(folder)
    archs = archs.sort_values("arch_index").reset_index(drop=True)
    archs["checkpoint_dir"] = [f"checkpoints/{arch_dir(int(i))}" for i in archs.arch_index]
    files = []
    for d in archs.checkpoint_dir:
        for e in protocol["checkpoint_epochs"]:
            rel = f"{d}/{checkpoint_name(int(e))}"
            if not (root / rel).is_file():
                raise TrainfreeError(f"checkpoint {root / rel} is missing; rerun the arch's dtb_train job")
            files.append(rel)
    order = {"train": 0, "valid": 1, "test": 2}
    states = states.assign(_o=states.split.map(order)).sort_values(["arch_id", "epoch", "_o"]).drop(columns="_o")
    write_text(root / "states.csv", states.to_csv(index=False))
    write_text(root / "archs.csv", archs.to_csv(index=False))
    write_text(root / "DATASHEET.md", datasheet)
    files = ["states.csv", "archs.csv", "DATASHEET.md", *files]
    manifest = {
        "name": "DTB (training states of sampled architectures)", "version": version, "space": space,
        "model_kwargs": model_kwargs, "num_classes": int(data_info.get("num_classes", 10)),
        "sample_seed": sample_seed, "protocol": protocol, "data": data_info,
        "states_columns": list(states.columns),
        "archs": archs[["arch_index", "arch_id", "spec", "params_m", "flops_m", "checkpoint_dir"]].to_dict("records"),
        "files": {f: {"sha256": file_sha256(root / f), "bytes": (root / f).stat().st_size} for f in files},
    }
    write_text(root / MANIFEST, json.dumps(manifest, indent=1, default=str))
    return manifest


class DTB:
    """An opened, verified DTB folder.

    Attributes: ``path``, ``manifest`` (dict), ``version``, ``space``, ``protocol`` (dict),
    ``states`` (DataFrame ``arch_id, epoch, split, loss, acc, seconds``), ``archs``
    (DataFrame, one row per arch, ``arch_id`` canonical), ``checkpoint_epochs``.
    """

    def __init__(self, path: Path, manifest: dict):
        self.path = path
        self.manifest = manifest
        self.version: str = manifest["version"]
        self.space: str = manifest["space"]
        self.protocol: dict = manifest["protocol"]
        self.checkpoint_epochs: list[int] = [int(e) for e in self.protocol["checkpoint_epochs"]]
        self.states = _table(path / "states.csv", ("arch_id", "epoch", "split", "loss", "acc", "seconds"))
        self.archs = _table(path / "archs.csv", ("arch_index", "arch_id", "spec", "checkpoint_dir"))
        self._by_id = {a: i for i, a in enumerate(self.archs.arch_id)}

    def __repr__(self) -> str:
        return (f"DTB(v{self.version}, space={self.space}, {len(self.archs)} archs, "
                f"{self.protocol['epochs']} epochs, checkpoints at {self.checkpoint_epochs})")

    def _row(self, arch: str | int) -> pd.Series:
        if isinstance(arch, int):
            hit = self.archs.index[self.archs.arch_index == arch]
            if not len(hit):
                raise TrainfreeError(f"no arch with arch_index {arch} in {self.path}")
            return self.archs.loc[hit[0]]
        if arch not in self._by_id:
            from trainfree.spaces import get_space

            canon = get_space(self.space).canonical(arch)
            if canon not in self._by_id:
                raise TrainfreeError(f"arch {arch!r} is not in {self.path}; see .archs for the {len(self.archs)} archs")
            arch = canon
        return self.archs.loc[self._by_id[arch]]

    def final_accuracy(self, split: str = "test") -> pd.Series:
        """Accuracy (%) at the last epoch on ``split``, indexed by arch_id."""
        s = self.states[(self.states.split == split) & (self.states.epoch == self.protocol["epochs"])]
        return s.set_index("arch_id")["acc"]

    def checkpoint_state(self, arch: str | int, epoch: int) -> dict:
        """The raw checkpoint dict (``model``, ``optimizer``, ``scheduler``, ``rng``, ...), verified first."""
        if epoch not in self.checkpoint_epochs:
            raise TrainfreeError(f"no checkpoint at epoch {epoch}; this DTB keeps epochs {self.checkpoint_epochs}")
        rel = f"{self._row(arch).checkpoint_dir}/{checkpoint_name(epoch)}"
        _verify(self.path, rel, self.manifest["files"].get(rel))
        return load_state(self.path / rel)

    def checkpoint(self, arch: str | int, epoch: int, device: str = "cpu") -> nn.Module:
        """The arch's network with the weights of ``epoch`` (0 = untrained), in eval mode.

        ``arch``: canonical arch id, any form the space accepts, or the integer arch_index.
        """
        row = self._row(arch)
        state = self.checkpoint_state(arch, epoch)
        model = build(self.space, row.spec, self.manifest["model_kwargs"], self.manifest["num_classes"])
        model.load_state_dict(state["model"])
        return model.to(device).eval()


def _table(path: Path, columns: tuple[str, ...]) -> pd.DataFrame:
    """A DTB table, its columns checked; any failure is one line naming the file."""
    try:
        df = pd.read_csv(path)
    except Exception as e:  # not CSV, binary, empty
        msg = str(e).splitlines()[0][:200] if str(e) else ""
        raise TrainfreeError(f"cannot read DTB table {path} ({e.__class__.__name__}: {msg}); restore it or "
                             f"rebuild the DTB") from None
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise TrainfreeError(f"DTB table {path} lacks column(s) {', '.join(missing)} (it needs "
                             f"{', '.join(columns)}); restore it or rebuild the DTB")
    return df


def _verify(root: Path, rel: str, entry: dict | None) -> None:
    p = root / rel
    if entry is None:
        raise TrainfreeError(f"{p} is not listed in {root / MANIFEST}; the DTB folder is inconsistent")
    if not p.is_file():
        raise TrainfreeError(f"DTB file {p} is missing; restore it or rebuild the DTB")
    if p.stat().st_size != entry["bytes"] or file_sha256(p) != entry["sha256"]:
        raise TrainfreeError(f"DTB file {p} does not match its SHA-256 in {MANIFEST} (edited or corrupt); "
                             f"restore it or rebuild the DTB")


def open_dtb(path: str | os.PathLike, verify: bool = True) -> DTB:
    """Open the DTB folder ``path``: check every file's SHA-256 against ``manifest.json``
    (``verify=False`` checks only the tables; a checkpoint is always checked when loaded)."""
    root = Path(path)
    mpath = root / MANIFEST
    if not mpath.is_file():
        raise TrainfreeError(f"{mpath} not found; {root} is not a DTB folder (build one with the dtb workflow)")
    if mpath.stat().st_size > MANIFEST_MAX_BYTES:
        raise TrainfreeError(f"{mpath} is {mpath.stat().st_size} bytes, more than a DTB manifest's "
                             f"{MANIFEST_MAX_BYTES}; it is not a valid DTB manifest, rebuild the DTB")
    try:
        manifest = json.loads(mpath.read_text())
        files = manifest["files"]
        missing = [k for k in ("version", "space", "protocol", "model_kwargs", "num_classes") if k not in manifest]
        if missing:
            raise KeyError(", ".join(missing))
        entries = [(str(rel), int(e["bytes"]), str(e["sha256"])) for rel, e in files.items()]
        epochs = [int(e) for e in manifest["protocol"]["checkpoint_epochs"]]
        if not epochs:
            raise ValueError("no checkpoint epochs")
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError, UnicodeDecodeError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else f"{e.__class__.__name__}: {e}"
        raise TrainfreeError(f"{mpath} is not a valid DTB manifest ({str(why).splitlines()[0][:200]}); "
                             f"rebuild the DTB") from None
    for rel, _, _ in entries:
        if Path(rel).is_absolute() or ".." in Path(rel).parts:
            raise TrainfreeError(f"{mpath} lists the file {rel!r} outside the DTB folder; the manifest is not "
                                 f"valid, rebuild the DTB")
    for rel, entry in files.items():
        if verify or not rel.startswith("checkpoints/"):
            _verify(root, rel, entry)
    return DTB(root, manifest)


__all__ = ["DTB", "DTB_VERSION", "MANIFEST", "arch_dir", "assemble", "open_dtb"]
