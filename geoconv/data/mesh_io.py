"""Reading triangle meshes from .obj, .off and .ply files (ASCII and binary PLY).

:func:`read_mesh` needs only numpy; compressed files (``.gz``, ``.xz``,
``.bz2``) are read through :func:`geoconv.datasets.base.open_file`.  Polygons
with more than three corners are split into a triangle fan (``[v0, vi, vi+1]``),
which is what trimesh and MeshCNN's loaders do for convex faces.  A broken
file raises :class:`MeshFormatError` naming the file and the line (or, for
binary PLY, the element) at fault.  trimesh is not needed; :func:`read_mesh`
with ``backend="trimesh"`` reads any other format trimesh knows.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from geoconv.io.files import DECOMPRESSION_ERRORS, open_file
from geoconv.ops.mesh import MeshFormatError

__all__ = ["MeshFormatError", "read_mesh", "write_obj"]

MESH_SUFFIXES = (".obj", ".off", ".ply")


def _open(path: Path):
    return open_file(path, "rb")


def mesh_format(path: str | os.PathLike) -> str:
    """``"obj"``, ``"off"`` or ``"ply"`` from the file name (a ``.gz``/``.xz``/``.bz2`` suffix is skipped)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    while suffixes and suffixes[-1] in (".gz", ".xz", ".bz2"):
        suffixes.pop()
    if not suffixes or suffixes[-1] not in MESH_SUFFIXES:
        raise MeshFormatError(f"{path}: unknown mesh format (expected one of {', '.join(MESH_SUFFIXES)}, optionally compressed)")
    return suffixes[-1][1:]


def read_mesh(
    path: str | os.PathLike,
    *,
    dtype: torch.dtype = torch.float32,
    backend: str = "native",
) -> tuple[Tensor, Tensor]:
    """Read a triangle mesh.

    Args:
        path: a ``.obj``, ``.off`` or ``.ply`` file, optionally ``.gz``/``.xz``/``.bz2`` compressed.
        dtype: floating dtype of the vertices.
        backend: ``"native"`` (numpy parser, default) or ``"trimesh"`` (any format trimesh reads;
            loaded with ``process=False`` so vertex order and faces are kept).

    Returns:
        ``(vertices [V, 3], faces [F, 3] int64)``; polygons are fan-triangulated.

    Raises:
        MeshFormatError: unknown format, malformed line, face index out of range,
            face with fewer than 3 corners; the message names the file and line.
    """
    path = Path(path)
    if backend == "trimesh":
        return _read_trimesh(path, dtype)
    if backend != "native":
        raise ValueError(f"backend must be 'native' or 'trimesh', got {backend!r}")
    kind = mesh_format(path)
    try:
        with _open(path) as handle:
            data = handle.read()
    except DECOMPRESSION_ERRORS as error:  # missing, unreadable, or a truncated / garbage .gz/.xz/.bz2
        raise MeshFormatError(f"{path}: cannot read the file ({type(error).__name__}: {error})") from None
    if kind == "obj":
        vertices, polygons = _parse_obj(data, path)
    elif kind == "off":
        vertices, polygons = _parse_off(data, path)
    else:
        vertices, polygons = _parse_ply(data, path)
    faces = _triangulate(polygons)
    if vertices.shape[0] == 0:
        raise MeshFormatError(f"{path}: the file holds no vertices")
    _check_finite(vertices, path, first=1 if kind == "obj" else 0)
    return torch.as_tensor(vertices, dtype=dtype), torch.as_tensor(faces, dtype=torch.long)


def write_obj(path: str | os.PathLike, vertices: Tensor, faces: Tensor) -> None:
    """Write an ASCII .obj file (1-based face indices)."""
    lines = [f"v {x:.9g} {y:.9g} {z:.9g}" for x, y, z in vertices.detach().cpu().double().tolist()]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces.cpu().tolist()]
    Path(path).write_text("\n".join(lines) + "\n")


# ---------------------------------------------------------------------------- helpers
def _check_finite(vertices: np.ndarray, path: Path, first: int) -> None:
    """NaN or inf coordinates would give NaN areas, normals and features: name the vertex as the file counts it."""
    bad = ~np.isfinite(vertices).all(axis=1)
    if bad.any():
        index = int(np.nonzero(bad)[0][0])
        raise MeshFormatError(
            f"{path}: vertex {index + first} (counting from {first}, as the file's faces do) has non-finite "
            f"coordinates {vertices[index].tolist()}; {int(bad.sum())} of {len(vertices)} vertices are not finite"
        )


def _triangulate(polygons: list[list[int]] | np.ndarray) -> np.ndarray:
    if isinstance(polygons, np.ndarray):
        return polygons.reshape(-1, 3).astype(np.int64)
    triangles = []
    for polygon in polygons:
        for i in range(1, len(polygon) - 1):
            triangles.append((polygon[0], polygon[i], polygon[i + 1]))
    return np.asarray(triangles, dtype=np.int64).reshape(-1, 3)


def _check_polygon(polygon: list[int], num_vertices: int, where: str) -> None:
    """0-based indices (OFF, PLY) against the ``num_vertices`` the header announces."""
    if len(polygon) < 3:
        raise MeshFormatError(f"{where}: a face needs at least 3 vertices, got {len(polygon)}")
    for index in polygon:
        if index < 0 or index >= num_vertices:
            raise MeshFormatError(
                f"{where}: face index {index} is out of range 0..{num_vertices - 1} (the file has {num_vertices} vertices)"
            )


def _polygon(values: list[int], at: int, where: str) -> list[int]:
    """The corners of a face row ``[size, i_1, ..., i_size]`` starting at ``values[at]``."""
    size = values[at]
    if size < 3:
        raise MeshFormatError(f"{where}: a face needs at least 3 vertices, got {size}")
    if len(values) < at + size + 1:
        raise MeshFormatError(f"{where}: the face announces {size} vertices but lists {len(values) - at - 1}")
    return values[at + 1:at + size + 1]


def _floats(tokens: list[bytes], count: int, where: str) -> list[float]:
    if len(tokens) < count:
        raise MeshFormatError(f"{where}: expected {count} coordinates, got {len(tokens)}")
    try:
        return [float(t) for t in tokens[:count]]
    except ValueError as error:
        raise MeshFormatError(f"{where}: cannot parse a coordinate ({error})") from None


def _ints(tokens: list[bytes], where: str) -> list[int]:
    try:
        return [int(t) for t in tokens]
    except ValueError as error:
        raise MeshFormatError(f"{where}: cannot parse an index ({error})") from None


# ---------------------------------------------------------------------------- OBJ
def _parse_obj(data: bytes, path: Path) -> tuple[np.ndarray, list[list[int]]]:
    vertices: list[list[float]] = []
    polygons: list[list[int]] = []
    for number, line in enumerate(data.splitlines(), start=1):
        tokens = line.split()
        if not tokens or tokens[0].startswith(b"#"):
            continue
        where = f"{path}:{number}"
        if tokens[0] == b"v":
            vertices.append(_floats(tokens[1:], 3, where))
        elif tokens[0] == b"f":
            raw = _ints([t.split(b"/")[0] for t in tokens[1:]], where)
            if len(raw) < 3:
                raise MeshFormatError(f"{where}: a face needs at least 3 vertices, got {len(raw)}")
            if 0 in raw:
                raise MeshFormatError(f"{where}: OBJ face indices start at 1, got 0")
            # OBJ indices are 1-based; negative ones count back from the last vertex read.
            # Errors quote the index as written in the file.
            for c in raw:
                if c > len(vertices) or -c > len(vertices):
                    raise MeshFormatError(
                        f"{where}: face index {c} is out of range: the file has {len(vertices)} vertices so far "
                        f"(OBJ counts them from 1; -1 is the last one read)"
                    )
            polygons.append([c - 1 if c > 0 else len(vertices) + c for c in raw])
    return np.asarray(vertices, dtype=np.float64).reshape(-1, 3), polygons


# ---------------------------------------------------------------------------- OFF
def _parse_off(data: bytes, path: Path) -> tuple[np.ndarray, list[list[int]]]:
    lines = [(n, line.split(b"#")[0].split()) for n, line in enumerate(data.splitlines(), start=1)]
    lines = [(n, tokens) for n, tokens in lines if tokens]
    if not lines or not lines[0][1][0].upper().startswith(b"OFF"):
        raise MeshFormatError(f"{path}:1: an OFF file must start with 'OFF'")
    first_number, header = lines[0]
    counts_tokens = header[1:]
    if header[0].upper() != b"OFF":
        # Some files (e.g. ModelNet) glue the counts to the keyword: "OFF490 976 0".
        counts_tokens = [header[0][3:]] + header[1:]
    position = 1
    if not counts_tokens:
        if len(lines) < 2:
            raise MeshFormatError(f"{path}: missing the 'num_vertices num_faces num_edges' line")
        first_number, counts_tokens = lines[1]
        position = 2
    counts = _ints(counts_tokens[:2], f"{path}:{first_number}")
    if len(counts) < 2:
        raise MeshFormatError(f"{path}:{first_number}: expected 'num_vertices num_faces [num_edges]'")
    num_vertices, num_faces = counts
    if num_vertices < 0 or num_faces < 0:
        raise MeshFormatError(f"{path}:{first_number}: negative vertex or face count {num_vertices} {num_faces}")
    if len(lines) < position + num_vertices + num_faces:
        raise MeshFormatError(
            f"{path}: the header announces {num_vertices} vertices and {num_faces} faces "
            f"but the file has only {len(lines) - position} data lines"
        )
    vertices = [_floats(tokens, 3, f"{path}:{n}") for n, tokens in lines[position:position + num_vertices]]
    polygons = []
    for n, tokens in lines[position + num_vertices:position + num_vertices + num_faces]:
        where = f"{path}:{n}"
        values = _ints(tokens, where)
        corners = _polygon(values, 0, where)
        _check_polygon(corners, num_vertices, where)
        polygons.append(corners)
    return np.asarray(vertices, dtype=np.float64).reshape(-1, 3), polygons


# ---------------------------------------------------------------------------- PLY
_PLY_TYPES = {
    b"char": "i1", b"int8": "i1", b"uchar": "u1", b"uint8": "u1",
    b"short": "i2", b"int16": "i2", b"ushort": "u2", b"uint16": "u2",
    b"int": "i4", b"int32": "i4", b"uint": "u4", b"uint32": "u4",
    b"float": "f4", b"float32": "f4", b"double": "f8", b"float64": "f8",
}


def _parse_ply(data: bytes, path: Path) -> tuple[np.ndarray, list[list[int]] | np.ndarray]:
    end = data.find(b"end_header")
    if not data.startswith(b"ply") or end < 0:
        raise MeshFormatError(f"{path}:1: a PLY file must start with 'ply' and have an 'end_header' line")
    newline = data.find(b"\n", end)
    if newline < 0:
        raise MeshFormatError(f"{path}: the PLY header's 'end_header' line is not terminated (the file ends there)")
    body_start = newline + 1
    header_lines = data[:end].splitlines()
    fmt = None
    elements: list[tuple[bytes, int, list[tuple]]] = []
    for number, line in enumerate(header_lines, start=1):
        tokens = line.split()
        where = f"{path}:{number}"
        if not tokens or tokens[0] in (b"ply", b"comment", b"obj_info"):
            continue
        if tokens[0] == b"format":
            fmt = tokens[1] if len(tokens) > 1 else b""
            if fmt not in (b"ascii", b"binary_little_endian", b"binary_big_endian"):
                raise MeshFormatError(f"{where}: unknown PLY format {fmt.decode(errors='replace')!r}")
        elif tokens[0] == b"element":
            if len(tokens) != 3:
                raise MeshFormatError(f"{where}: expected 'element <name> <count>'")
            count = _ints([tokens[2]], where)[0]
            if count < 0:
                raise MeshFormatError(f"{where}: negative element count {count}")
            elements.append((tokens[1], count, []))
        elif tokens[0] == b"property":
            if not elements:
                raise MeshFormatError(f"{where}: property before any element")
            if len(tokens) == 5 and tokens[1] == b"list":
                if tokens[2] not in _PLY_TYPES or tokens[3] not in _PLY_TYPES:
                    raise MeshFormatError(f"{where}: unknown PLY list type")
                elements[-1][2].append((tokens[4], _PLY_TYPES[tokens[2]], _PLY_TYPES[tokens[3]]))
            elif len(tokens) == 3 and tokens[1] in _PLY_TYPES:
                elements[-1][2].append((tokens[2], _PLY_TYPES[tokens[1]], None))
            else:
                raise MeshFormatError(f"{where}: cannot parse the property {line.decode(errors='replace')!r}")
    if fmt is None:
        raise MeshFormatError(f"{path}: the PLY header has no 'format' line")
    names = [name for name, _, _ in elements]
    if b"vertex" not in names:
        raise MeshFormatError(f"{path}: the PLY header declares no 'vertex' element")
    if fmt == b"ascii":
        return _ply_ascii(data, body_start, len(header_lines) + 2, elements, path)
    order = "<" if fmt == b"binary_little_endian" else ">"
    return _ply_binary(data, body_start, order, elements, path)


def _ply_vertex_columns(properties: list[tuple], path: Path) -> list[int]:
    names = [name for name, _, _ in properties]
    missing = [axis for axis in (b"x", b"y", b"z") if axis not in names]
    if missing:
        raise MeshFormatError(f"{path}: the PLY vertex element has no {b','.join(missing).decode()} property")
    return [names.index(axis) for axis in (b"x", b"y", b"z")]


def _ply_face_property(properties: list[tuple], path: Path) -> int:
    for i, (name, _, item_type) in enumerate(properties):
        if item_type is not None and name in (b"vertex_indices", b"vertex_index"):
            return i
    raise MeshFormatError(f"{path}: the PLY face element has no 'vertex_indices' list property")


def _ply_ascii(data: bytes, start: int, first_line: int, elements, path: Path):
    lines = data[start:].splitlines()
    number = 0
    vertices = np.zeros((0, 3))
    polygons: list[list[int]] | np.ndarray = []
    num_vertices = 0
    for name, count, properties in elements:
        if number + count > len(lines):
            raise MeshFormatError(
                f"{path}: the header announces {count} '{name.decode()}' rows but the file ends after "
                f"{len(lines) - number} of them (line {first_line + len(lines)})"
            )
        rows = lines[number:number + count]
        if name == b"vertex":
            columns = _ply_vertex_columns(properties, path)
            has_lists = any(item is not None for _, _, item in properties)
            if has_lists:
                raise MeshFormatError(f"{path}: list properties in the vertex element are not supported")
            try:
                table = np.array([row.split() for row in rows], dtype=np.float64)
            except ValueError:
                for offset, row in enumerate(rows):
                    _floats(row.split(), len(properties), f"{path}:{first_line + number + offset}")
                raise MeshFormatError(f"{path}: malformed vertex rows") from None
            if table.ndim != 2 or table.shape[1] < len(properties):
                raise MeshFormatError(f"{path}:{first_line + number}: vertex rows need {len(properties)} values")
            vertices = table[:, columns].reshape(-1, 3)
            num_vertices = count
        elif name == b"face":
            which = _ply_face_property(properties, path)
            if len(properties) == 1:
                # Fast path: every row is "3 i j k".
                try:
                    table = np.array([row.split() for row in rows], dtype=np.int64).reshape(count, -1)
                except ValueError:
                    table = None
                if table is not None and table.shape[1] == 4 and (table[:, 0] == 3).all():
                    faces = table[:, 1:]
                    if faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
                        bad = int(np.nonzero(((faces < 0) | (faces >= num_vertices)).any(1))[0][0])
                        raise MeshFormatError(
                            f"{path}:{first_line + number + bad}: face index out of range 0..{num_vertices - 1}"
                        )
                    polygons = faces
                    number += count
                    continue
            for offset, row in enumerate(rows):
                where = f"{path}:{first_line + number + offset}"
                # Scalars before the list are skipped (one token each), then the list is read.
                values = _ints(row.split()[which:], where)
                if not values:
                    raise MeshFormatError(f"{where}: the face row is empty")
                corners = _polygon(values, 0, where)
                _check_polygon(corners, num_vertices, where)
                polygons.append(corners)
        number += count
    return vertices, polygons


def _ply_binary(data: bytes, offset: int, order: str, elements, path: Path):
    vertices = np.zeros((0, 3))
    polygons: list[list[int]] | np.ndarray = []
    num_vertices = 0
    for name, count, properties in elements:
        where = f"{path}: binary PLY element '{name.decode()}'"
        has_lists = any(item is not None for _, _, item in properties)
        if not has_lists:
            dtype = np.dtype([(f"p{i}", order + t) for i, (_, t, _) in enumerate(properties)])
            size = dtype.itemsize * count
            if offset + size > len(data):
                raise MeshFormatError(f"{where}: the file ends before its {count} rows")
            table = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
            offset += size
            if name == b"vertex":
                columns = _ply_vertex_columns(properties, path)
                vertices = np.stack([table[f"p{c}"].astype(np.float64) for c in columns], axis=1)
                num_vertices = count
            continue
        if name == b"vertex":
            raise MeshFormatError(f"{where}: list properties in the vertex element are not supported")
        which = _ply_face_property(properties, path) if name == b"face" else -1
        # Fast path: a face element whose only property is a list of exactly 3 indices.
        if name == b"face" and len(properties) == 1:
            _, count_type, item_type = properties[0]
            row = np.dtype([("n", order + count_type), ("i", order + item_type, (3,))])
            if offset + row.itemsize * count <= len(data):
                table = np.frombuffer(data, dtype=row, count=count, offset=offset)
                if count == 0 or (table["n"] == 3).all():
                    faces = table["i"].astype(np.int64)
                    if faces.size and (faces.min() < 0 or faces.max() >= num_vertices):
                        bad = int(np.nonzero((faces < 0) | (faces >= num_vertices))[0][0])
                        raise MeshFormatError(f"{where}: face {bad} has an index out of range 0..{num_vertices - 1}")
                    polygons = faces
                    offset += row.itemsize * count
                    continue
        rows: list[list[int]] = []
        for index in range(count):
            for p, (_, scalar_type, item_type) in enumerate(properties):
                if item_type is None:
                    offset += np.dtype(scalar_type).itemsize
                    continue
                count_dtype = np.dtype(order + scalar_type)
                if offset + count_dtype.itemsize > len(data):
                    raise MeshFormatError(f"{where}: the file ends inside row {index}")
                size = int(np.frombuffer(data, dtype=count_dtype, count=1, offset=offset)[0])
                offset += count_dtype.itemsize
                if size < 0:
                    raise MeshFormatError(f"{where}: row {index} announces a list of {size} items")
                item_dtype = np.dtype(order + item_type)
                if offset + item_dtype.itemsize * size > len(data):
                    raise MeshFormatError(f"{where}: the file ends inside row {index}")
                values = np.frombuffer(data, dtype=item_dtype, count=size, offset=offset)
                offset += item_dtype.itemsize * size
                if p == which:
                    corners = values.astype(np.int64).tolist()
                    _check_polygon(corners, num_vertices, f"{where}, row {index}")
                    rows.append(corners)
        if name == b"face":
            polygons = rows
    return vertices, polygons


# ---------------------------------------------------------------------------- trimesh
def _read_trimesh(path: Path, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    from geoconv._optional import require

    trimesh = require("trimesh", "read_mesh(backend='trimesh')")
    kind = [s for s in path.suffixes if s.lower() not in (".gz", ".xz", ".bz2")]
    with _open(path) as handle:
        try:
            mesh = trimesh.load(handle, file_type=kind[-1][1:] if kind else None, process=False, force="mesh")
        except Exception as error:  # trimesh raises many types; name the file
            raise MeshFormatError(f"{path}: trimesh cannot read the file ({error})") from error
    return (torch.as_tensor(np.asarray(mesh.vertices), dtype=dtype),
            torch.as_tensor(np.asarray(mesh.faces), dtype=torch.long))
