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
* **Archives** are extracted into a temporary folder next to their target
  and moved into place only when every member was read without error
  (:func:`extract_archive`): a truncated or garbage tar/zip/gz/xz/bz2 raises
  :class:`DatasetError` naming the file and leaves no folder that a later
  load would accept.
* **Offline**: with ``$GEOCONV_OFFLINE=1`` (set by ``geoconv train --offline``
  for the scripts it runs) nothing is downloaded; a missing file raises
  :class:`DatasetError` instead.
* **Processed tensors** are cached under ``$GEOCONV_CACHE`` (default
  ``~/.cache/geoconv/processed``), never inside the data root (which may be
  read-only or shared), keyed by every raw file's resolved path, size and
  modification time, the loader's options and a format version, so they are
  rebuilt when a raw file or an option changes.
"""

from __future__ import annotations

import hashlib
import io
import lzma
import operator
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import torch

from geoconv.data import Graph
from geoconv.io.files import COMPRESSED_SUFFIXES, open_file  # noqa: F401 (re-exported)

# What a damaged archive or compressed file raises while it is read (gzip.BadGzipFile is an OSError).
DAMAGED_FILE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, zlib.error, OSError)
# Bumped when the layout of every cache entry changes (part of every cache key).
CACHE_FORMAT = "2"
OFFLINE_VARIABLE = "GEOCONV_OFFLINE"


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


def offline() -> bool:
    """True when ``$GEOCONV_OFFLINE`` is set to a true value (``1``, ``true``, ``yes``): never download."""
    return os.environ.get(OFFLINE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def downloads_allowed(download: bool) -> bool:
    """A loader's ``download`` option, overruled by ``$GEOCONV_OFFLINE``."""
    return download and not offline()


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
    try:
        with (opener(path, "rb") if opener else open(path, "rb")) as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except DAMAGED_FILE_ERRORS as error:
        raise damaged_file_error(path, error) from None
    return digest.hexdigest()


def damaged_file_error(path: Path, error: BaseException, source: str | None = None) -> "DatasetError":
    """The :class:`DatasetError` for a file that cannot be read to its end (truncated or not the format)."""
    where = f" from {source}" if source else ""
    return DatasetError(
        f"{path} is damaged or not a valid {''.join(path.suffixes[-2:]) or 'data'} file "
        f"({type(error).__name__}: {' '.join(str(error).split())}). Delete it so that it is downloaded again, or replace it with a "
        f"complete copy{where}."
    )


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
    if offline():
        raise DatasetError(
            f"{file.path} is not under the data root {root} and downloads are off (${OFFLINE_VARIABLE} is set). "
            + _manual_copy_hint(file, root)
        )
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
        if not downloads_allowed(download_missing):
            why = f" (downloads are off: ${OFFLINE_VARIABLE} is set)" if offline() and download_missing else ""
            raise DatasetError(
                f"{file.path} is not under the data root {root_path}{why}. " + _manual_copy_hint(file, root_path)
            )
        local = download(file, root_path)
    verify(local, file, root_path)
    return local


def fetch_all(
    files: dict[str, RemoteFile], root: str | os.PathLike | None, *, download: bool, dataset: str
) -> dict[str, Path]:
    """:func:`fetch` every file of a dataset; one error names the dataset and every file that failed."""
    root_path = data_root(root)
    paths, failed = {}, []
    for part, file in files.items():
        try:
            paths[part] = fetch(file, root_path, download_missing=download)
        except DatasetError as error:
            failed.append((file, error))
    if not failed:
        return paths
    if len(failed) == 1:
        raise DatasetError(f"{dataset} needs {failed[0][0].path}: {failed[0][1]}")
    lines = []
    for file, error in failed:
        state = "missing" if locate(file, root_path) is None else "unusable"
        detail = str(error).split(". ")[0] if state == "unusable" else ("downloads are off" if offline() else "")
        lines.append(f"  {file.path} ({state}{': ' + detail if detail else ''}) <- {file.url}")
    raise DatasetError(
        f"{dataset} needs {failed[0][0].path} and {len(failed) - 1} more files that are missing or unusable "
        f"under the data root {root_path}:\n" + "\n".join(lines) + "\n"
        f"Download each from the URL shown and place it at {root_path}/<path> (a .gz or .xz compressed copy also "
        f"works), or set GEOCONV_DATA to a folder that holds them."
    )


def read_bytes(path: Path) -> bytes:
    """The (decompressed) content of ``path``; a truncated or garbage compressed file raises :class:`DatasetError`."""
    try:
        with open_file(path, "rb") as handle:
            return handle.read()
    except DAMAGED_FILE_ERRORS as error:
        raise damaged_file_error(path, error) from None


def read_text(path: Path, encoding: str = "utf-8") -> str:
    try:
        return read_bytes(path).decode(encoding)
    except UnicodeDecodeError as error:
        raise DatasetError(f"{path} is not {encoding} text ({error}); is it the right file?") from None


def text_stream(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    """``path`` as text; the whole file is decompressed first, so damage is reported before parsing starts."""
    return io.StringIO(read_text(path, encoding))


def extract_archive(
    archive: Path,
    folders: Mapping[str, Path],
    *,
    source: str | None = None,
    check: Callable[[str, Path], None] | None = None,
) -> None:
    """Extract the folders ``folders`` (archive member folder -> final path) of a tar or zip archive atomically.

    Everything is extracted into a temporary folder beside the targets; each
    named folder is checked (it must exist, and ``check(name, folder)`` may
    raise :class:`DatasetError` on a wrong structure) and only then renamed
    into place.  A truncated or garbage archive raises :class:`DatasetError`
    naming the file and what to do, and leaves nothing behind.  Targets that
    already exist are left as they are.
    """
    parents = {target.parent for target in folders.values()}
    if len(parents) != 1:
        raise ValueError("extract_archive: all targets must share one parent folder")
    parent = parents.pop()
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", suffix=".extracting", dir=parent))
    except OSError as error:
        raise DatasetError(f"cannot create a folder under {parent} to extract {archive}: {error}") from error
    try:
        try:
            if zipfile.is_zipfile(archive):
                with zipfile.ZipFile(archive) as bundle:
                    bundle.extractall(staging)  # reads every member: a CRC error or truncation raises here
            else:
                with tarfile.open(archive, "r:*") as tar:
                    tar.extractall(staging, filter="data")
        except DAMAGED_FILE_ERRORS as error:
            raise DatasetError(
                f"cannot extract {archive}: it is truncated, damaged or not a tar/zip archive "
                f"({type(error).__name__}: {' '.join(str(error).split())}); nothing was extracted. Delete it so that it is downloaded "
                f"again, or replace it with a complete copy" + (f" from {source}." if source else ".")
            ) from None
        for name, target in folders.items():
            unpacked = staging / name
            if not unpacked.is_dir():
                found = sorted(p.name for p in staging.iterdir())
                raise DatasetError(f"{archive} does not contain the folder {name}/ (found: {found}); is it the right archive?")
            if check is not None:
                check(name, unpacked)
        for name, target in folders.items():
            if not target.exists():
                os.replace(staging / name, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def cached(
    name: str,
    raw_paths: Sequence[Path],
    build: Callable[[], Any],
    *,
    version: str = "1",
    options: Mapping[str, Any] | None = None,
) -> Any:
    """``build()``'s result, cached in :func:`cache_dir` under ``name``.

    The cache key is :data:`CACHE_FORMAT`, the loader's ``version``, its
    ``options`` (every choice that changes the result) and each raw file's
    resolved path, size and modification time: touching, replacing, adding or
    removing a raw file rebuilds, and so does another folder of the same
    shape.  Pass every file the result is built from (all files of an
    extracted folder, not a count).  A corrupt or foreign cache file is
    rebuilt and replaced; a cache that cannot be written (read-only home) is
    skipped: the result is still returned.
    """
    if not raw_paths:
        raise ValueError(f"cached({name!r}): no raw files given; the cache key must depend on the data")
    stats = []
    for path in (Path(p).resolve() for p in raw_paths):
        stat = path.stat()
        stats.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
    described = repr(sorted((str(k), repr(v)) for k, v in (options or {}).items()))
    key = hashlib.sha256("\n".join([CACHE_FORMAT, version, described, *stats]).encode()).hexdigest()
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


SPLIT_NAMES = ("train", "val", "test")
RELEASED_PARTS = ("train", "test")


def split_indices(train: Any, val: Any, test: Any) -> dict[str, torch.Tensor]:
    """The one split format of every dataset: ``{"train", "val", "test"}`` -> int64 index tensors.

    Accepts boolean masks (-> ascending indices) or index sequences (order kept: a split procedure's
    order, e.g. the scaffold groups, is part of what makes a training run reproducible).  See the
    table in ``datasets/README.md``.
    """
    out = {}
    for name, value in zip(SPLIT_NAMES, (train, val, test)):
        value = torch.as_tensor(value)
        if value.dtype == torch.bool:
            value = value.nonzero().view(-1)
        out[name] = value.to(torch.long).view(-1)
    return out


def mask_splits(graph: Graph, index: int = 0) -> dict[str, torch.Tensor]:
    """:func:`split_indices` of a one-graph node dataset from its ``train_mask`` / ``val_mask`` / ``test_mask``.

    Masks are ``[N]`` (one split: ``index`` must be 0) or ``[N, S]`` (``S`` splits, column ``index``).
    """
    if "train_mask" not in graph:
        raise NotImplementedError(f"{type(graph).__name__} {getattr(graph, 'name', '')!s} has no published split".replace("  ", " "))
    masks = [getattr(graph, f"{name}_mask") for name in SPLIT_NAMES]
    num_splits = 1 if masks[0].dim() == 1 else masks[0].shape[1]
    if not -num_splits <= index < num_splits:
        raise IndexError(f"split {index} out of range: the graph has {num_splits} split{'s' if num_splits > 1 else ''}")
    return split_indices(*(mask if mask.dim() == 1 else mask[:, index] for mask in masks))


class GraphDataset(torch.utils.data.Dataset):
    """A list of :class:`Graph` objects with an optional per-item transform.

    Graphs are held in memory (``graphs``), or made on access by a subclass
    that overrides :meth:`__len__` and :meth:`get` (QM9 builds each radius
    graph when it is read).  Indexing with a slice, a list or a tensor gives a
    dataset of the chosen items with the same transform.

    Every dataset answers :meth:`splits` the same way (``{"train", "val",
    "test"}`` -> index tensors; see ``datasets/README.md``).  Datasets read from
    a release with train and test files take ``split="train"``, ``"test"`` or
    ``"all"`` (both, train first); ``parts`` records where each item came from.
    """

    def __init__(self, graphs: Sequence[Graph] | None = None, transform: Callable[[Graph], Graph] | None = None) -> None:
        self.graphs = list(graphs) if graphs is not None else []
        self.transform = transform
        self.parts: list[str] | None = None

    def __len__(self) -> int:
        return len(self.graphs)

    def get(self, index: int) -> Graph:
        """Item ``index`` before the transform."""
        return self.graphs[index]

    def __getitem__(self, index: int | slice | Sequence[int] | torch.Tensor) -> Any:
        single = not isinstance(index, (slice, list, tuple, range)) and (
            not hasattr(index, "__len__") or getattr(index, "ndim", 1) == 0)  # int, numpy or 0-d tensor
        if single:
            position = operator.index(index)
            if not -len(self) <= position < len(self):
                raise IndexError(f"index {position} out of range for a dataset of {len(self)} items")
            graph = self.get(position % len(self))
            return self.transform(graph) if self.transform else graph
        if isinstance(index, slice):
            indices = list(range(len(self))[index])
        elif hasattr(index, "dtype"):  # a tensor or a numpy array of indices or a boolean mask
            index = torch.as_tensor(index)
            indices = (index.nonzero().view(-1) if index.dtype == torch.bool else index.view(-1)).tolist()
        else:
            indices = list(index)
        return self.subset(indices)

    def subset(self, indices: Sequence[int]) -> "GraphDataset":
        """The items ``indices`` (before their transform) as a dataset with the same transform."""
        return GraphDataset([self.get(i) for i in indices], self.transform)

    def splits(self) -> dict[str, torch.Tensor]:
        """``{"train", "val", "test"}`` -> item indices: the released part each item was read from.

        Releases with train and test files only have no validation part: ``"val"`` is empty.
        """
        if self.parts is None:
            raise NotImplementedError(f"{type(self).__name__} has no published split")
        parts = self.parts
        return split_indices(*([i for i, part in enumerate(parts) if part == name] for name in SPLIT_NAMES))

    def _load_parts(self, load: Callable[[str], "GraphDataset"], parts: Sequence[str] = RELEASED_PARTS,
                    split: str = "all") -> None:
        """Fill ``self`` with the released ``parts`` in order, each loaded by ``load(part)``."""
        loaded = {part: load(part) for part in parts}
        self.__dict__.update(loaded[parts[0]].__dict__)
        self.graphs = [graph for part in parts for graph in loaded[part].graphs]
        self.parts = [part for part in parts for _ in range(len(loaded[part]))]
        self.split = split


class DatasetView(GraphDataset):
    """The items ``indices`` of ``parent``, read from it on access (nothing is copied), with ``transform``."""

    def __init__(self, parent: GraphDataset, indices: Sequence[int], transform: Callable[[Graph], Graph] | None = None) -> None:
        super().__init__(None, transform)
        self.parent, self.indices = parent, [operator.index(i) for i in indices]

    def __len__(self) -> int:
        return len(self.indices)

    def get(self, index: int) -> Graph:
        return self.parent.get(self.indices[index])

    def subset(self, indices: Sequence[int]) -> "DatasetView":
        return DatasetView(self.parent, [self.indices[i] for i in indices], self.transform)
