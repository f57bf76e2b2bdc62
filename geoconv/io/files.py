"""Opening local files, decompressing ``.gz``/``.xz``/``.bz2`` transparently."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zlib
from pathlib import Path
from typing import Any

COMPRESSED_SUFFIXES = {".gz": gzip.open, ".xz": lzma.open, ".bz2": bz2.open}
# What reading a truncated or garbage compressed file raises (gzip.BadGzipFile is an OSError).
DECOMPRESSION_ERRORS = (EOFError, lzma.LZMAError, zlib.error, OSError)


def open_file(path: Path, mode: str = "rb") -> Any:
    """Open ``path``, decompressing ``.gz``/``.xz``/``.bz2`` transparently."""
    opener = COMPRESSED_SUFFIXES.get(Path(path).suffix)
    if opener is not None:
        return opener(path, mode)
    return open(path, mode)


def read_bytes(path: Path) -> bytes:
    """The (decompressed) bytes of ``path``."""
    with open_file(path, "rb") as handle:
        return handle.read()


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """The (decompressed) text of ``path``."""
    return read_bytes(path).decode(encoding)


def text_stream(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    """A text stream over the (decompressed) contents of ``path``."""
    return io.TextIOWrapper(open_file(path, "rb"), encoding=encoding)
