"""Download and verify the workflow's external files (datasets, benchmark files).

Every external file is an :class:`Asset`: its file name, download URL(s), size in
bytes and checksum. ``fetch(name, root)`` returns ``root / asset.filename`` once the
file there is verified, in this order:

1. a file already at ``root / asset.filename`` (e.g. copied there by hand: this is the
   documented place for a pre-downloaded file) is verified and accepted;
2. otherwise it is downloaded with ``urllib`` into ``root / (filename + ".part")``,
   resuming a partial ``.part`` with an HTTP ``Range`` request, retried with backoff,
   verified (size, then SHA-256 and/or MD5), and only then renamed atomically to its
   final name;
3. otherwise (offline, no URL, HTTP error, mismatch) a :class:`TrainfreeError` is
   raised whose one-line message names the file, its expected checksum and the place
   to put it.

A file that fails verification never keeps its final name: a download that fails is
deleted (or kept as ``.part`` when it is merely incomplete, so the next call resumes
it), and a pre-placed file that fails is renamed to ``<filename>.rejected``. Readers
elsewhere in the package open only the verified final name, so such a file is never
unpickled or extracted.

Some files have no public, stable URL (the NAS-Bench-201 ``.pth`` files and the
NATS-Bench folder are shared through cloud drives; ImageNet16-120 needs an
image-net.org login) and no published checksum. Those assets are *user-placed*: their
entry says so (``urls == ()``, checksum ``None``) and ``fetch`` only checks that the
named file or folder is present (and, for folders, that the expected member files
exist). The NAS-Bench files are identified by the hash suffix their authors put in the
file name (``-096897``, ``-e61699``, ``-3ffb9``); that suffix is kept in the expected
file name, but it cannot be recomputed here because the hashing rule is not published.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from trainfree.errors import TrainfreeError
from trainfree.registry import Registry

_CHUNK = 1 << 20  # bytes read per step
_USER_AGENT = "trainfree-fetch/0.1 (+python urllib)"


@dataclass(frozen=True)
class Asset:
    """One external file or folder the workflow may need.

    Attributes:
        name: registry key, e.g. ``"cifar10"``.
        filename: name of the file (or folder, for ``kind="folder"``) under ``root``.
        urls: download URLs tried in order; empty for user-placed assets.
        size: expected size in bytes, or None where no size is published.
        sha256: expected SHA-256 (hex), or None where none is known for certain.
        md5: the official MD5 (hex) where that is what the publisher states, else None.
        description: what the file is, one line.
        kind: ``"file"`` (one verified file) or ``"folder"`` (user-placed directory).
        members: for folders, member file names that must exist inside it.
        archive: for folders, an accepted archive name in ``root`` that holds the
            folder (it is extracted only by :func:`fetch` on explicit request).
        how_to_get: where a user obtains a user-placed asset, one line.
        identified_by: what identifies an asset without a checksum.
    """

    name: str
    filename: str
    urls: tuple[str, ...] = ()
    size: int | None = None
    sha256: str | None = None
    md5: str | None = None
    description: str = ""
    kind: str = "file"
    members: tuple[str, ...] = ()
    archive: str | None = None
    how_to_get: str = ""
    identified_by: str = "its file name"

    @property
    def checksum_label(self) -> str:
        """Human label of the expected checksum(s), e.g. ``'sha256 6d95..., md5 c58f...'``."""
        parts = [f"{a} {getattr(self, a)}" for a in ("sha256", "md5") if getattr(self, a)]
        return ", ".join(parts) if parts else f"no published checksum; identified by {self.identified_by}"


#: every external file by name (a :class:`trainfree.registry.Registry`)
ASSETS: Registry[Asset] = Registry("asset", hint=" (see `trainfree fetch --help`)")


def register_asset(asset: Asset, *, replace: bool = False) -> Asset:
    """Add ``asset`` to the registry (``replace=True`` overwrites a same-named entry)."""
    if asset.kind not in ("file", "folder"):
        raise TrainfreeError(f"asset {asset.name!r}: kind must be 'file' or 'folder', got {asset.kind!r}")
    return ASSETS.register(asset.name, asset, replace=replace)


def get_asset(name: str) -> Asset:
    """The registered asset ``name`` (error lists the known names)."""
    return ASSETS.get(name)


def list_assets() -> list[str]:
    """Sorted names of the registered assets."""
    return ASSETS.names()


register_asset(Asset(
    name="cifar10",
    filename="cifar-10-python.tar.gz",
    urls=("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",),
    size=170_498_071,
    sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    md5="c58f30108f718f92721af3b95e74349a",
    description="CIFAR-10, python version (data_batch_1..5, test_batch); official MD5 from the CIFAR page",
))
register_asset(Asset(
    name="cifar100",
    filename="cifar-100-python.tar.gz",
    urls=("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",),
    size=169_001_437,
    sha256="85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7",
    md5="eb9058c3a382ffc7106e4002c42a8d85",
    description="CIFAR-100, python version (train, test, meta); official MD5 from the CIFAR page",
))
register_asset(Asset(
    name="nb201-v1_1",
    filename="NAS-Bench-201-v1_1-096897.pth",
    description="NAS-Bench-201 v1.1 benchmark file (torch.save'd dict; no weights), 15,625 archs",
    how_to_get="get it via the links in the NAS-Bench-201 README (github.com/D-X-Y/NAS-Bench-201)",
    identified_by="the hash suffix 096897 in its name",
))
register_asset(Asset(
    name="nb201-v1_0",
    filename="NAS-Bench-201-v1_0-e61699.pth",
    description="NAS-Bench-201 v1.0 benchmark file (torch.save'd dict), 15,625 archs",
    how_to_get="get it via the links in the NAS-Bench-201 README (github.com/D-X-Y/NAS-Bench-201)",
    identified_by="the hash suffix e61699 in its name",
))
register_asset(Asset(
    name="nats-tss",
    filename="NATS-tss-v1_0-3ffb9-simple",
    kind="folder",
    members=("meta.pickle.pbz2",),
    archive="NATS-tss-v1_0-3ffb9-simple.tar",
    description="NATS-Bench topology space, 'simple' release: meta.pickle.pbz2 + one .pickle.pbz2 per arch",
    how_to_get="get NATS-tss-v1_0-3ffb9-simple.tar via the links in the NATS-Bench README (github.com/D-X-Y/NATS-Bench)",
    identified_by="the hash suffix 3ffb9 in its name and its meta.pickle.pbz2",
))
register_asset(Asset(
    name="nb101-only108",
    filename="nasbench_only108.tfrecord",
    urls=("https://storage.googleapis.com/nasbench/nasbench_only108.tfrecord",),
    sha256="4c39c3936e36a85269881d659e44e61a245babcb72cb374eacacf75d0e5f4fd1",
    description=("NAS-Bench-101, 108-epoch subset (TFRecord; 423,624 cells x 3 repeats); size ~499 MB "
                 "and SHA-256 from the nasbench README (no exact byte size published)"),
    how_to_get="download it from the link in the NAS-Bench-101 README (github.com/google-research/nasbench)",
))
register_asset(Asset(
    name="nds",
    filename="data.zip",
    urls=("https://dl.fbaipublicfiles.com/nds/data.zip",),
    description="NDS release (Radosavovic et al. 2019): one JSON file of trained-model records per design-space sweep",
    how_to_get="download data.zip via the link in the NDS README (github.com/facebookresearch/nds)",
    identified_by="its file name and its member <sweep>.json files (no size or checksum is published)",
))
register_asset(Asset(
    name="swap-darts",
    filename="DARTS_archs_CIFAR10.csv",
    urls=("https://raw.githubusercontent.com/pym1024/SWAP/f6049f7c979b0cfc9ac5a13666fedb79dfe3cce8/"
          "datasets/DARTS_archs_CIFAR10.csv",),
    size=423_509,
    sha256="d28d263aa7dd4103b6a1da1775b1b03ae16ffd2516409ca3bd493c8784abe6b0",
    description=("SWAP's 1,000 DARTS-space genotypes with their CIFAR-10 validation accuracy (reduced-size "
                 "training, 200 epochs); fetched, not bundled: the file states no licence"),
))
register_asset(Asset(
    name="imagenet16-120",
    filename="ImageNet16",
    kind="folder",
    members=tuple(f"train_data_batch_{i}" for i in range(1, 11)) + ("val_data",),
    description="Downsampled ImageNet 16x16 (Chrabaszcz et al. 2017) pickles; NB201 keeps classes 1..120",
    how_to_get=("get Imagenet16_train.zip and Imagenet16_val.zip (Downsampled ImageNet 16x16) from "
                "image-net.org (login needed) and unzip them"),
    identified_by="its 11 member file names",
))


# --------------------------------------------------------------------------- verification

def file_digests(path: Path, algorithms: tuple[str, ...] = ("sha256", "md5")) -> dict[str, str]:
    """Hex digests of ``path`` for each named hashlib algorithm, in one read pass."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            for h in hashers.values():
                h.update(chunk)
    return {a: h.hexdigest() for a, h in hashers.items()}


def verify_file(asset: Asset, path: Path) -> str | None:
    """None if ``path`` matches ``asset`` (size, SHA-256, MD5 as known), else why not (one phrase)."""
    if not path.is_file():
        return "file missing"
    size = path.stat().st_size
    if asset.size is not None and size != asset.size:
        return f"size {size} bytes, expected {asset.size}"
    algos = tuple(a for a in ("sha256", "md5") if getattr(asset, a))
    if algos:
        got = file_digests(path, algos)
        for a in algos:
            if got[a] != getattr(asset, a).lower():
                return f"{a} {got[a]} does not match the expected {getattr(asset, a)}"
    return None


def _folder_ok(asset: Asset, path: Path) -> str | None:
    if not path.is_dir():
        return "folder missing"
    missing = [m for m in asset.members if not (path / m).is_file()]
    if missing:
        return f"folder lacks {', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}"
    return None


def _message(asset: Asset, root: Path, reason: str) -> str:
    target = root / asset.filename
    size = f"{asset.size} bytes, " if asset.size is not None else ""
    if asset.kind == "folder":
        shown = ", ".join(asset.members[:2]) + (", ..." if len(asset.members) > 2 else "")
        need = f"the folder {asset.filename}/ (holding {shown})"
        if asset.archive:
            need += f" or its archive {asset.archive}"
        where = f"put {need} in {root} ({asset.checksum_label})"
    else:
        where = f"put {asset.filename} ({size}{asset.checksum_label}) at {target}"
    src = f"download it from {asset.urls[0]} and " if asset.urls else (
        f"{asset.how_to_get}; " if asset.how_to_get else "")
    return f"cannot provide {asset.name}: {reason}; {src}{where}"


# --------------------------------------------------------------------------- download

class _Retryable(Exception):
    """A transient download failure (network, truncated body): retry with resume."""


class _Fatal(Exception):
    """A failure that retrying the same URL cannot fix (HTTP 404, checksum mismatch)."""


def _download_once(url: str, part: Path, asset: Asset, timeout: float) -> None:
    """One HTTP request appending to ``part``; raises _Retryable/_Fatal; returns when complete."""
    have = part.stat().st_size if part.exists() else 0
    if asset.size is not None and have > asset.size:
        part.unlink()
        have = 0
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have and (asset.size is None or have == asset.size):
            return  # already complete
        if e.code == 416:
            part.unlink(missing_ok=True)
            raise _Retryable(f"HTTP 416 for a resume at byte {have}") from None
        if e.code in (408, 429) or e.code >= 500:
            raise _Retryable(f"HTTP {e.code} {e.reason} from {url}") from None
        raise _Fatal(f"HTTP {e.code} {e.reason} from {url}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        reason = getattr(e, "reason", e)
        raise _Retryable(f"no connection to {url} ({reason})") from None
    with resp:
        status = getattr(resp, "status", 200)
        mode = "ab" if (have and status == 206) else "wb"
        start = have if mode == "ab" else 0
        length = resp.headers.get("Content-Length")
        expected_total = start + int(length) if length is not None and length.isdigit() else None
        try:
            with open(part, mode) as f:
                while chunk := resp.read(_CHUNK):
                    f.write(chunk)
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            raise _Retryable(f"transfer from {url} interrupted ({e.__class__.__name__})") from None
    got = part.stat().st_size
    if expected_total is not None and got < expected_total:
        raise _Retryable(f"transfer from {url} ended at {got} of {expected_total} bytes")
    if asset.size is not None and got < asset.size:
        raise _Retryable(f"transfer from {url} ended at {got} of {asset.size} bytes")


def _download(asset: Asset, root: Path, urls: tuple[str, ...], retries: int, timeout: float,
              backoff_s: float, context: str = "") -> Path:
    target = root / asset.filename
    part = root / (asset.filename + ".part")
    last = "no URL to try"
    for url in urls:
        for attempt in range(max(1, retries)):
            if attempt:
                time.sleep(backoff_s * min(2 ** (attempt - 1), 8))
            resumed = part.exists() and part.stat().st_size > 0
            try:
                _download_once(url, part, asset, timeout)
            except _Retryable as e:
                last = str(e)
                continue
            except _Fatal as e:
                last = str(e)
                break
            bad = verify_file(asset, part)
            if bad is None:
                os.replace(part, target)
                return target
            part.unlink(missing_ok=True)  # never keep unverifiable bytes
            last = f"downloaded file failed verification ({bad})"
            if not resumed:
                break  # a fresh download that is wrong will be wrong again
    raise TrainfreeError(_message(asset, root, f"{last}{context}"))


def _extract_folder_archive(asset: Asset, root: Path) -> Path | None:
    """Extract a user-placed archive of a folder asset (member names checked, data filter)."""
    if not asset.archive:
        return None
    arch = root / asset.archive
    if not arch.is_file() or not tarfile.is_tarfile(arch):
        return None
    with tarfile.open(arch) as tar:
        names = tar.getnames()
        prefix = asset.filename + "/"
        if not names or any(not (n == asset.filename or n.startswith(prefix)) for n in names):
            raise TrainfreeError(_message(asset, root, f"archive {arch} holds files outside {asset.filename}/"))
        tar.extractall(root, filter="data")
    return root / asset.filename


def fetch(name: str | Asset, root: str | os.PathLike, *, url_override: str | None = None,
          retries: int = 3, timeout: float = 60.0, backoff_s: float = 1.0) -> Path:
    """Return the verified local path of asset ``name`` under folder ``root``.

    Args:
        name: a registered asset name (see :func:`list_assets`) or an :class:`Asset`.
        root: folder that holds (or will hold) ``asset.filename``; created if missing.
        url_override: download from this URL instead of the asset's own (a mirror).
        retries: attempts per URL for transient failures (network errors, truncated
            transfers, HTTP 5xx); each later attempt resumes the ``.part`` file.
        timeout: socket timeout per request, seconds.
        backoff_s: base wait between attempts, seconds (doubles, capped at 8x).

    Raises:
        TrainfreeError: with one line naming the file, its expected checksum and where
        to put it, when the file is absent and cannot be downloaded or fails checks.
    """
    asset = name if isinstance(name, Asset) else get_asset(name)
    root = Path(root)
    target = root / asset.filename
    if asset.kind == "folder":
        if _folder_ok(asset, target) is None:
            return target
        if not target.exists():
            out = _extract_folder_archive(asset, root)
            if out is not None and _folder_ok(asset, out) is None:
                return out
        why = _folder_ok(asset, target) or "folder incomplete"
        raise TrainfreeError(_message(asset, root, f"{target} not usable ({why})"))

    if target.exists():
        bad = verify_file(asset, target)
        if bad is None:
            return target
        rejected = root / (asset.filename + ".rejected")
        os.replace(target, rejected)
        pre = f"the file at {target} failed verification ({bad}) and was moved to {rejected.name}"
        urls = (url_override,) if url_override else asset.urls
        if not urls:
            raise TrainfreeError(_message(asset, root, pre))
        return _download(asset, root, urls, retries, timeout, backoff_s, context=f" (after {pre})")

    urls = (url_override,) if url_override else asset.urls
    if not urls:
        raise TrainfreeError(_message(asset, root, f"{target} does not exist and no public stable URL is reachable for it"))
    root.mkdir(parents=True, exist_ok=True)
    return _download(asset, root, urls, retries, timeout, backoff_s)


def remove_partial(name: str | Asset, root: str | os.PathLike) -> None:
    """Delete a leftover ``.part`` download of asset ``name`` under ``root``."""
    asset = name if isinstance(name, Asset) else get_asset(name)
    (Path(root) / (asset.filename + ".part")).unlink(missing_ok=True)


__all__ = ["ASSETS", "Asset", "fetch", "file_digests", "get_asset", "list_assets", "register_asset",
           "remove_partial", "verify_file"]
