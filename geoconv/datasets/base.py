"""The dataset framework: where data lives, downloads, checksums and caches.

* **Raw files** live under the data root: ``root`` argument, else
  ``$GEOCONV_DATA``, else ``~/.cache/geoconv``.  The layout under the root is
  one folder per source (``planetoid/ind.cora.x``, ``geom_gcn/new_data/...``),
  the same as ``../shared/data`` in this project, so an existing local copy is
  read in place.  A file may also be present gzip- or xz-compressed
  (``name.gz`` / ``name.xz``); it is read through the decompressor.
* **Downloads** come from the dataset's canonical URL into a temporary file
  next to the target, are checked against their sha256, and only then
  renamed into place (an interrupted or corrupt download never leaves a file
  that looks complete).  Offline or corrupt files raise
  :class:`DatasetError` naming the file, the URL and where to put a manual copy.
* **Processed tensors** are cached under ``$GEOCONV_CACHE`` (default
  ``~/.cache/geoconv/processed``), never inside the data root (which may be
  read-only or shared), keyed by the raw files' size and modification time,
  so they are rebuilt when a raw file changes.
"""

from __future__ import annotations

import hashlib
import operator
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from geoconv.data import Graph
from geoconv.io.files import COMPRESSED_SUFFIXES, open_file, read_bytes, read_text, text_stream  # noqa: F401 (re-exported)


class DatasetError(RuntimeError):
    """A dataset file is missing, cannot be downloaded, or fails its checksum."""


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The raw-data root: ``root``, else ``$GEOCONV_DATA``, else ``~/.cache/geoconv``."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("GEOCONV_DATA")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "geoconv"


def cache_dir() -> Path:
    """Where processed tensors are cached: ``$GEOCONV_CACHE`` or ``~/.cache/geoconv/processed``."""
    env = os.environ.get("GEOCONV_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "geoconv" / "processed"


@dataclass(frozen=True)
class RemoteFile:
    """One raw file of a dataset.

    Args:
        path: location relative to the data root (``"planetoid/ind.cora.x"``).
        url: canonical download URL.
        sha256: sha256 of the file's (uncompressed) content; None when the
            source publishes none and we could not pin one (then unchecked).
        compressed_sha256: sha256 values of known compressed copies (``.gz``/``.xz``).
    """

    path: str
    url: str
    sha256: str | None = None
    compressed_sha256: tuple[str, ...] = field(default_factory=tuple)


def sha256_of(path: Path, decompress: bool = False) -> str:
    digest = hashlib.sha256()
    opener = COMPRESSED_SUFFIXES.get(path.suffix) if decompress else None
    with (opener(path, "rb") if opener else open(path, "rb")) as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manual_copy_hint(file: RemoteFile, root: Path) -> str:
    return (
        f"Download it from {file.url} and place it at {root / file.path} "
        f"(a .gz or .xz compressed copy next to it also works), or set GEOCONV_DATA to a folder that holds {file.path}."
    )


def locate(file: RemoteFile, root: Path) -> Path | None:
    """The local copy of ``file`` under ``root`` (plain or compressed), if any."""
    plain = root / file.path
    if plain.exists():
        return plain
    for suffix in COMPRESSED_SUFFIXES:
        candidate = plain.with_name(plain.name + suffix)
        if candidate.exists():
            return candidate
    return None


def verify(path: Path, file: RemoteFile, root: Path) -> None:
    """Raise :class:`DatasetError` when ``path`` does not match ``file``'s checksum."""
    if file.sha256 is None:
        return
    if path.suffix in COMPRESSED_SUFFIXES and path.name != Path(file.path).name:
        if sha256_of(path) in file.compressed_sha256:
            return
        actual = sha256_of(path, decompress=True)
    else:
        actual = sha256_of(path)
    if actual != file.sha256:
        raise DatasetError(
            f"{path} is corrupt: sha256 {actual} does not match the expected {file.sha256}. "
            f"The file was left untouched; delete it to download again. " + _manual_copy_hint(file, root)
        )


def download(file: RemoteFile, root: Path, timeout: float = 60.0) -> Path:
    """Download ``file`` to ``root / file.path`` atomically and verify it."""
    target = root / file.path
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DatasetError(f"cannot create {target.parent} to download {file.url}: {error}. " + _manual_copy_hint(file, root)) from error
    handle, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as out:
            try:
                with urllib.request.urlopen(file.url, timeout=timeout) as response:
                    for block in iter(lambda: response.read(1 << 20), b""):
                        digest.update(block)
                        out.write(block)
            except (urllib.error.URLError, OSError, ValueError) as error:
                raise DatasetError(
                    f"could not download {file.path} from {file.url} ({error}). " + _manual_copy_hint(file, root)
                ) from error
        if file.sha256 is not None and digest.hexdigest() != file.sha256:
            raise DatasetError(
                f"the download of {file.path} from {file.url} is corrupt: sha256 {digest.hexdigest()} "
                f"does not match the expected {file.sha256}; nothing was written. " + _manual_copy_hint(file, root)
            )
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return target


def fetch(file: RemoteFile, root: str | os.PathLike | None = None, *, download_missing: bool = True) -> Path:
    """The verified local path of ``file``: an existing copy under the root, else a download."""
    root_path = data_root(root)
    local = locate(file, root_path)
    if local is None:
        if not download_missing:
            raise DatasetError(f"{file.path} is not under the data root {root_path}. " + _manual_copy_hint(file, root_path))
        local = download(file, root_path)
    verify(local, file, root_path)
    return local


def fetch_all(
    files: dict[str, RemoteFile], root: str | os.PathLike | None, *, download: bool, dataset: str
) -> dict[str, Path]:
    """:func:`fetch` every file of a dataset; an error names the dataset and the file it needs."""
    paths = {}
    for part, file in files.items():
        try:
            paths[part] = fetch(file, root, download_missing=download)
        except DatasetError as error:
            raise DatasetError(f"{dataset} needs {file.path}: {error}") from error
    return paths


def cached(name: str, raw_paths: Sequence[Path], build: Callable[[], Any], *, version: str = "1") -> Any:
    """``build()``'s result, cached in :func:`cache_dir` under ``name``.

    The cache key is ``version`` plus each raw file's resolved path, size and
    modification time: touching or replacing a raw file rebuilds.  A cache
    that cannot be written (read-only home) is skipped silently: the result
    is still returned.
    """
    stats = []
    for path in raw_paths:
        stat = Path(path).stat()
        stats.append(f"{Path(path).resolve()}:{stat.st_size}:{stat.st_mtime_ns}")
    key = hashlib.sha256("\n".join([version, *stats]).encode()).hexdigest()
    target = cache_dir() / f"{name}.pt"
    if target.exists():
        try:
            stored = torch.load(target, weights_only=False)
            if isinstance(stored, dict) and stored.get("key") == key:
                return stored["data"]
        except Exception:  # a truncated or foreign cache file is rebuilt, not trusted
            pass
    data = build()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
        os.close(handle)
        torch.save({"key": key, "data": data}, temporary)
        os.replace(temporary, target)
    except OSError:
        pass
    return data


class GraphDataset(torch.utils.data.Dataset):
    """An in-memory list of :class:`Graph` objects with an optional per-item transform."""

    def __init__(self, graphs: Sequence[Graph], transform: Callable[[Graph], Graph] | None = None) -> None:
        self.graphs = list(graphs)
        self.transform = transform

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, index: int | slice | Sequence[int] | torch.Tensor) -> Any:
        if not isinstance(index, (slice, torch.Tensor, list, tuple)):
            graph = self.graphs[operator.index(index)]
            return self.transform(graph) if self.transform else graph
        if isinstance(index, slice):
            indices = range(len(self.graphs))[index]
        elif isinstance(index, torch.Tensor):
            indices = index.tolist()
        else:
            indices = list(index)
        subset = GraphDataset([self.graphs[i] for i in indices], self.transform)
        return subset
