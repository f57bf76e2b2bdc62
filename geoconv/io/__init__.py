"""Low-level file I/O below both :mod:`geoconv.data` and :mod:`geoconv.datasets`.

Imports nothing else from geoconv, so that mesh readers in ``data`` and dataset loaders can both use it.
"""

from geoconv.io.files import COMPRESSED_SUFFIXES, open_file, read_bytes, read_text, text_stream

__all__ = ["COMPRESSED_SUFFIXES", "open_file", "read_bytes", "read_text", "text_stream"]
