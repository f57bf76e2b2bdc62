"""QM9: units and atomization energies on known rows, the xyz release path, split, radius graphs."""

import bz2
import io
import tarfile

import numpy as np
import pytest
import torch

from geoconv.datasets import DatasetError, RemoteFile, qm9
from geoconv.datasets.qm9 import QM9, TARGETS, molecule_radius_graph

HARTREE_MEV = 27211.386246
# Rows 1 and 2 of the release (methane, ammonia): raw values in Hartree / Debye / Bohr^3.
METHANE = dict(mu=0.0, alpha=13.21, homo=-0.3877, lumo=0.1171, gap=0.5048, r2=35.3641, zpve=0.044749,
               U0=-40.47893, U=-40.476062, H=-40.475117, G=-40.498597, cv=6.469)
METHANE_POS = [[-0.0126981359, 1.0858041578, 0.0080009958], [0.002150416, -0.0060313176, 0.0019761204],
               [1.0117308433, 1.4637511618, 0.0002765748], [-0.540815069, 1.4475266138, -0.8766437152],
               [-0.5238136345, 1.4379326443, 0.9063972942]]
AMMONIA_U0 = -56.525887


def methane_expected() -> list[float]:
    # Free-atom references of atomref.txt: C -37.846772, H -0.500273 (U0), etc.
    refs = {"U0": (-37.846772, -0.500273), "U": (-37.845355, -0.498857),
            "H": (-37.844411, -0.497912), "G": (-37.861317, -0.510927)}
    out = []
    for name in TARGETS:
        value = METHANE[name]
        if name in ("homo", "lumo", "gap", "zpve"):
            value *= HARTREE_MEV
        if name in refs:
            value = (value - refs[name][0] - 4 * refs[name][1]) * HARTREE_MEV
        out.append(value)
    return out


def test_csv_rows_in_paper_units(shared_data):
    dataset = QM9(root=shared_data, max_molecules=50)
    assert len(dataset) == 50
    assert dataset.index[:3].tolist() == [1, 2, 3]
    torch.testing.assert_close(dataset.y[0], torch.tensor(methane_expected(), dtype=torch.float64), rtol=1e-12, atol=1e-9)
    # Methane's U0 atomization energy: -0.631066 Hartree = -17.172 eV.
    assert abs(dataset.y[0, TARGETS.index("U0")].item() - (-0.631066 * HARTREE_MEV)) < 1e-6
    ammonia_u0 = (AMMONIA_U0 - (-54.583861) - 3 * (-0.500273)) * HARTREE_MEV
    assert abs(dataset.y[1, TARGETS.index("U0")].item() - ammonia_u0) < 1e-6
    graph = dataset[0]
    assert graph.z.tolist() == [6, 1, 1, 1, 1]
    torch.testing.assert_close(graph.pos, torch.tensor(METHANE_POS, dtype=torch.float32))
    assert graph.y.shape == (1, 12) and graph.num_graphs == 1
    # 5 Angstrom covers the whole molecule: every ordered pair of distinct atoms.
    assert graph.num_edges == 20
    assert int(dataset.num_atoms().sum()) == dataset.z.numel() == int(dataset.ptr[-1])
    assert set(dataset.z.unique().tolist()) <= {1, 6, 7, 8, 9}
    # Atomization energies are negative and grow with size; gaps are positive.
    assert (dataset.y[:, 7] < 0).all() and (dataset.y[:, 4] > 0).all()


def test_short_cutoff_keeps_only_bonds():
    pos = torch.tensor(METHANE_POS)
    edges = molecule_radius_graph(pos, 1.2)  # C-H bonds are 1.09 A, H-H distances 1.78 A
    assert sorted(map(tuple, edges.T.tolist())) == sorted([(0, i) for i in range(1, 5)] + [(i, 0) for i in range(1, 5)])
    assert molecule_radius_graph(pos[:1], 5.0).shape == (2, 0)


def test_split_sizes_are_the_standard_ones():
    class FullSize:
        def __len__(self):
            return 130_831

    split = QM9.splits(FullSize())
    assert [split[k].numel() for k in ("train", "val", "test")] == [110_000, 10_000, 10_831]
    everything = torch.cat(list(split.values()))
    assert torch.equal(everything.sort().values, torch.arange(130_831))
    again = QM9.splits(FullSize())
    assert all(torch.equal(split[k], again[k]) for k in split)
    assert not torch.equal(QM9.splits(FullSize(), seed=1)["train"], split["train"])


def test_subset_split_and_indexing(shared_data):
    dataset = QM9(root=shared_data, max_molecules=1000)
    split = dataset.splits()
    assert [split[k].numel() for k in ("train", "val", "test")] == [840, 76, 84]
    subset = dataset[split["val"]]
    assert len(subset) == 76
    assert int(subset[0].index) == int(dataset.index[split["val"][0]])
    assert int(dataset[-1].index) == int(dataset.index[-1])
    with pytest.raises(IndexError, match="out of range"):
        dataset[1000]


def xyz_text(index: int, elements, positions, raw: dict) -> str:
    props = "\t".join(str(raw[name]) for name in TARGETS[:7]) + "\t" + "\t".join(
        str(raw[name]) for name in TARGETS[7:])
    lines = [str(len(elements)), f"gdb {index}\t157.7\t157.7\t157.7\t{props}\t"]
    for element, (x, y, z) in zip(elements, positions):
        lines.append(f"{element}\t{x}\t{y}\t{z}\t0.0")
    lines += ["1341.3\t1562.7", "C\tC", "InChI=1S/CH4/h1H4\tInChI=1S/CH4/h1H4"]
    return "\n".join(lines) + "\n"


def make_release(folder, molecules):
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for index, text in molecules:
            data = text.encode()
            info = tarfile.TarInfo(f"dsgdb9nsd_{index:06d}.xyz")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive = folder / "release.tar.bz2"
    archive.write_bytes(bz2.compress(buffer.getvalue()))
    skip = folder / "uncharacterized.txt"
    skip.write_text("Indices of the molecules that failed the consistency check\n header\n\n"
                    "     2  -56.0   -56.1   1.0\n\n end of list\n")
    return archive, skip


def test_official_xyz_release_download_and_parse(tmp_path, monkeypatch):
    # Methane written as in the release (one value in Mathematica's "*^" notation), a second
    # molecule that uncharacterized.txt flags, and a third one.
    positions = [list(p) for p in METHANE_POS]
    text = xyz_text(1, "CHHHH", positions, METHANE).replace("0.002150416", "2.150416*^-3")
    assert "*^" in text
    bad = xyz_text(2, "NHHH", positions[:4], dict(METHANE, U0=AMMONIA_U0))
    third = xyz_text(3, "OHH", positions[:3], METHANE)
    archive, skip = make_release(tmp_path / "source", [(3, third), (1, text), (2, bad)])
    monkeypatch.setattr(qm9, "XYZ_FILE", RemoteFile("qm9/dsgdb9nsd.xyz.tar.bz2", archive.as_uri()))
    monkeypatch.setattr(qm9, "UNCHARACTERIZED_FILE", RemoteFile("qm9/uncharacterized.txt", skip.as_uri()))
    root = tmp_path / "root"
    dataset = QM9(root=root)
    assert (root / "qm9" / "dsgdb9nsd.xyz.tar.bz2").exists()
    assert dataset.index.tolist() == [1, 3]
    torch.testing.assert_close(dataset.y[0], torch.tensor(methane_expected(), dtype=torch.float64), rtol=1e-12, atol=1e-9)
    torch.testing.assert_close(dataset[0].pos, torch.tensor(METHANE_POS, dtype=torch.float32))
    assert dataset[1].z.tolist() == [8, 1, 1]


def test_missing_files_and_bad_arguments(tmp_path, monkeypatch):
    monkeypatch.setattr(qm9, "XYZ_FILE", RemoteFile("qm9/dsgdb9nsd.xyz.tar.bz2", (tmp_path / "nowhere").as_uri()))
    with pytest.raises(DatasetError, match="QM9 needs either qm9/qm9.csv or the official release"):
        QM9(root=tmp_path / "empty", download=False)
    with pytest.raises(DatasetError, match="could not download"):
        QM9(root=tmp_path / "empty")
    with pytest.raises(ValueError, match="cutoff must be positive"):
        QM9(root=tmp_path, cutoff=0.0)
    with pytest.raises(ValueError, match="max_molecules must be positive"):
        QM9(root=tmp_path, max_molecules=0)
    with pytest.raises(DatasetError, match="unexpected element symbol 'X'"):
        qm9._element_codes(b"CHX")
    with pytest.raises(DatasetError, match="not a QM9 xyz file"):
        qm9.parse_xyz("garbage\n")


def test_convert_targets_leaves_other_units():
    raw = np.array([list(METHANE.values())])
    converted = qm9.convert_targets(raw, np.array([6, 1, 1, 1, 1]), np.array([0, 5]))
    assert converted[0, TARGETS.index("alpha")] == 13.21 and converted[0, TARGETS.index("cv")] == 6.469
    assert converted[0, TARGETS.index("r2")] == 35.3641
