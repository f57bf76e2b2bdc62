"""read_mesh: .obj / .off / .ply (ASCII, binary, gzip) against trimesh and hand-written files."""

from __future__ import annotations

import gzip
import struct
import warnings

import pytest
import torch

from geoconv.data.mesh import mesh_graph, read_mesh_graph
from geoconv.data.mesh_io import MeshFormatError, read_mesh, write_obj
from geoconv.ops.mesh import MeshRepairWarning, MeshTopologyError

# many small tensor ops: one thread is much faster on a shared CPU
pytestmark = pytest.mark.usefixtures("single_thread")

SQUARE_V = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.5]]
SQUARE_F = [[0, 1, 2], [0, 2, 3]]


def _expected():
    return torch.tensor(SQUARE_V), torch.tensor(SQUARE_F)


def test_obj_with_quads_slashes_negative_indices_and_gzip(tmp_path):
    text = "# comment\nv 0 0 0\nv 1 0 0\nvt 0 0\nv 1 1 0\nv 0 1 0.5\nf 1/1/1 2/1/1 3/1/1 4/1/1\n"
    (tmp_path / "a.obj").write_text(text)
    vertices, faces = read_mesh(tmp_path / "a.obj")
    v, f = _expected()
    torch.testing.assert_close(vertices, v)
    assert faces.tolist() == f.tolist()
    (tmp_path / "b.obj.gz").write_bytes(gzip.compress("v 0 0 0\nv 1 0 0\nv 1 1 0\nf -3 -2 -1\n".encode()))
    vertices, faces = read_mesh(tmp_path / "b.obj.gz")
    assert faces.tolist() == [[0, 1, 2]] and vertices.shape == (3, 3)


def test_off_including_glued_header(tmp_path):
    body = "0 0 0\n1 0 0\n1 1 0\n0 1 0.5\n3 0 1 2\n3 0 2 3\n"
    for header in ("OFF\n4 2 0\n", "OFF4 2 0\n"):
        (tmp_path / "a.off").write_text(header + body)
        vertices, faces = read_mesh(tmp_path / "a.off", dtype=torch.float64)
        torch.testing.assert_close(vertices, _expected()[0].double())
        assert faces.tolist() == SQUARE_F


def _ply_header(fmt: str) -> str:
    return (f"ply\nformat {fmt} 1.0\ncomment test\nelement vertex 4\nproperty float x\nproperty float y\n"
            "property float z\nproperty float confidence\nelement face 2\nproperty list uchar int vertex_indices\nend_header\n")


def test_ply_ascii_and_binary_agree(tmp_path):
    rows = "".join(f"{x} {y} {z} 0.5\n" for x, y, z in SQUARE_V)
    (tmp_path / "a.ply").write_text(_ply_header("ascii") + rows + "3 0 1 2\n3 0 2 3\n")
    for order, fmt in (("<", "binary_little_endian"), (">", "binary_big_endian")):
        body = b"".join(struct.pack(order + "4f", *v, 0.5) for v in SQUARE_V)
        body += b"".join(struct.pack(order + "B3i", 3, *f) for f in SQUARE_F)
        (tmp_path / f"{fmt}.ply").write_bytes(_ply_header(fmt).encode() + body)
    results = [read_mesh(tmp_path / name) for name in ("a.ply", "binary_little_endian.ply", "binary_big_endian.ply")]
    for vertices, faces in results:
        torch.testing.assert_close(vertices, _expected()[0])
        assert faces.tolist() == SQUARE_F


def test_real_meshes_match_trimesh(shared_data):
    for name in ("trimesh_models/bunny.ply.gz", "trimesh_models/fandisk.obj.gz", "shrec16_sample/T54.obj"):
        path = shared_data / "meshes" / name
        vertices, faces = read_mesh(path, dtype=torch.float64)
        ref_vertices, ref_faces = read_mesh(path, dtype=torch.float64, backend="trimesh")
        torch.testing.assert_close(vertices, ref_vertices)
        assert torch.equal(faces, ref_faces)
    vertices, faces = read_mesh(shared_data / "meshes/shrec16_sample/T54.obj")
    assert vertices.shape == (252, 3) and faces.shape == (500, 3)


def test_write_obj_round_trip(tmp_path):
    vertices, faces = torch.rand(5, 3, dtype=torch.float64), torch.tensor([[0, 1, 2], [2, 3, 4]])
    write_obj(tmp_path / "m.obj", vertices, faces)
    v, f = read_mesh(tmp_path / "m.obj", dtype=torch.float64)
    torch.testing.assert_close(v.cpu(), vertices.cpu(), atol=1e-8, rtol=0)
    assert torch.equal(f.cpu(), faces.cpu())


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("bad.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 9\n", r"bad.obj:4: face index 9 is out of range: the file has 3 vertices so far \(OBJ counts them from 1"),
        # Negative indices count back from the last vertex: -4 names a vertex before the first.
        ("neg.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf -1 -2 -4\n", r"neg.obj:4: face index -4 is out of range"),
        ("nan.obj", "v 0 0 0\nv 1 nan 0\nv 0 1 0\nf 1 2 3\n",
         r"nan.obj: vertex 2 \(counting from 1, as the file's faces do\) has non-finite coordinates"),
        ("inf.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 inf 0\n3 0 1 2\n", r"inf.off: vertex 2 \(counting from 0"),
        ("nan.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                    "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\nnan 1 0\n3 0 1 2\n",
         r"nan.ply: vertex 2 \(counting from 0.*1 of 3 vertices are not finite"),
        ("range.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 3\n", r"range.off:6: face index 3 is out of range 0..2"),
        ("zero.obj", "v 0 0 0\nf 0 1 2\n", r"zero.obj:2: OBJ face indices start at 1"),
        ("coord.obj", "v 0 x 0\n", r"coord.obj:1: cannot parse a coordinate"),
        ("short.obj", "v 0 0 0\nv 1 0 0\nf 1 2\n", r"short.obj:3: a face needs at least 3 vertices"),
        ("a.off", "OFF\n3 1 0\n0 0 0\n1 0 0\n", r"a.off: the header announces 3 vertices and 1 faces"),
        ("b.off", "PLY\n", r"b.off:1: an OFF file must start with 'OFF'"),
        ("c.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n0\n", r"no y,z property"),
        ("d.ply", "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
                  "element face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n",
         r"d.ply:13: face index out of range"),
        ("e.stl", "solid\n", r"unknown mesh format"),
    ],
)
def test_documented_errors(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(MeshFormatError, match=message):
        read_mesh(tmp_path / name)


def test_truncated_binary_ply(tmp_path):
    body = b"".join(struct.pack("<4f", *v, 0.5) for v in SQUARE_V)
    (tmp_path / "t.ply").write_bytes(_ply_header("binary_little_endian").encode() + body + b"\x03\x00")
    with pytest.raises(MeshFormatError, match="t.ply: binary PLY element 'face'"):
        read_mesh(tmp_path / "t.ply")


TETRAHEDRON = "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 2 3 4\nf 1 4 3\n"


def test_read_mesh_graph_raises_on_a_non_manifold_mesh_unless_asked_to_repair(tmp_path):
    # A fin on edge (0, 1): three faces share it.  Repairing drops the fin; that must not pass unseen.
    (tmp_path / "fin.obj").write_text(TETRAHEDRON.replace("v 0 0 1\n", "v 0 0 1\nv 0 -1 0\n") + "f 1 2 5\n")
    assert issubclass(MeshTopologyError, MeshFormatError)
    with pytest.raises(MeshTopologyError, match=r"fin.obj: non-manifold edge \(0, 1\) is shared by 3 faces.*repair=True"):
        read_mesh_graph(tmp_path / "fin.obj")
    with pytest.warns(MeshRepairWarning, match=r"fin.obj: dropped 1 of 5 faces .* split 0 non-manifold vertices"):
        graph = read_mesh_graph(tmp_path / "fin.obj", repair=True)
    assert graph.face.tolist() == [[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]]
    # A mesh that needs nothing is read without a warning, repaired or not.
    (tmp_path / "tet.obj").write_text(TETRAHEDRON)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_mesh_graph(tmp_path / "tet.obj", repair=True).num_edges == 6
        assert read_mesh_graph(tmp_path / "tet.obj").num_edges == 6


def test_mesh_graph_rejects_non_finite_vertices():
    pos = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, float("inf")]])
    face = torch.tensor([[0, 2, 1], [0, 1, 3], [1, 2, 3], [0, 3, 2]])
    for check in (True, False):
        with pytest.raises(MeshFormatError, match=r"vertex 3 has non-finite coordinates \[0.0, 0.0, inf\]"):
            mesh_graph(pos, face, check=check)
