"""GridESCN: invariances of the energy, equivariance of the forces, exactly where the grids are exact and
within the sampling error elsewhere, and zero-length edges."""

import math

import pytest
import torch

from geoconv.data import Graph
from geoconv.models import GridESCN
from geoconv.ops import wigner_D_from_matrix
from geoconv.ops.so3 import angles_to_matrix
from geoconv.testing import random_rotation

F64 = torch.float64
LMAX = 3


def model(mmax: int = 2) -> GridESCN:
    torch.manual_seed(0)
    net = GridESCN(10, 8, 1, num_layers=2, lmax=LMAX, mmax=mmax, inner_channels=8, edge_channels=8,
                   num_radial=8, cutoff=5.0).double()
    with torch.no_grad():  # element embeddings of order 1 (the default is +-0.001): they must matter
        for conv in net.convs:
            conv.source_embedding.weight.normal_()
            conv.target_embedding.weight.normal_()
    return net


def molecule(num_nodes: int = 7, seed: int = 3, flat: bool = False) -> Graph:
    generator = torch.Generator().manual_seed(seed)
    pos = torch.randn(num_nodes, 3, dtype=F64, generator=generator) * 1.3
    if flat:  # every edge far from the y axis: edge frames in the first chart, which never roll about y
        pos[:, 1] *= 0.2
    src, dst = torch.meshgrid(torch.arange(num_nodes), torch.arange(num_nodes), indexing="ij")
    keep = src != dst
    z = torch.randint(1, 10, (num_nodes,), generator=generator)
    return Graph(pos=pos, edge_index=torch.stack([src[keep], dst[keep]]), node_data={"z": z})


def about_y(angle: float) -> torch.Tensor:
    zero = torch.tensor(0.0, dtype=F64)
    return angles_to_matrix(torch.tensor(angle, dtype=F64), zero, zero)


def moved(graph: Graph, rotation: torch.Tensor, shift: float = 0.0) -> Graph:
    return graph.replace(pos=graph.pos @ rotation.T + shift)


@pytest.mark.parametrize("mmax", [2, 3])
def test_node_features_and_their_forces_exactly_equivariant_on_the_grid_symmetries(mmax):
    # The node update's grid has 2 (lmax+1) + 1 = 9 longitudes: a rotation about y by 2 pi k / 9 permutes
    # it, and the messages' frames do not roll (first chart), so nothing is approximate.
    net, graph = model(mmax), molecule(flat=True)
    rotation = about_y(2 * math.pi * 2 / 9)
    wigner = wigner_D_from_matrix(rotation, LMAX)

    def features(g: Graph) -> torch.Tensor:
        return net.node_features(g.z, g.pos, g.edge_index)

    x = features(graph)
    torch.testing.assert_close(features(moved(graph, rotation, 0.7)), wigner @ x, atol=1e-10, rtol=0)
    assert x[:, 1:].abs().max() > 1e-3  # degrees above 0 are not vacuous (they start small)

    def forces(g: Graph) -> torch.Tensor:  # of the invariant sum of the degree-0 features
        pos = g.pos.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(net.node_features(g.z, pos, g.edge_index)[:, 0].sum(), pos)
        return -gradient

    expected = forces(graph) @ rotation.T
    torch.testing.assert_close(forces(moved(graph, rotation)), expected, atol=1e-10, rtol=0)


def test_energy_invariant_under_translations_and_permutations():
    net, graph = model(), molecule()
    energy = net(graph)
    torch.testing.assert_close(net(moved(graph, torch.eye(3, dtype=F64), 3.0)), energy, atol=1e-14, rtol=1e-12)
    permutation = torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(1))
    inverse = torch.argsort(permutation)
    permuted = Graph(pos=graph.pos[permutation], edge_index=inverse[graph.edge_index],
                     node_data={"z": graph.z[permutation]})
    torch.testing.assert_close(net(permuted), energy, atol=1e-14, rtol=1e-12)


def test_energy_and_forces_under_random_rotations_within_the_sampling_error():
    # The grids and the readout points are fixed, so invariance holds up to the sampling error (as in the
    # reference implementation).  Measured on this model: energies 3e-6 relative, forces 6% of the largest.
    net, graph = model(), molecule()
    energy, forces = net.energy_and_forces(graph)
    for seed in range(3):
        rotation = random_rotation(F64, torch.Generator().manual_seed(seed))
        rotated_energy, rotated_forces = net.energy_and_forces(moved(graph, rotation, -1.0))
        assert ((rotated_energy - energy).abs() / energy.abs()).max() < 1e-4
        error = (rotated_forces - forces @ rotation.T).abs().max() / forces.abs().max()
        assert error < 0.15, error


def test_zero_length_edges_are_ignored():
    net, graph = model(), molecule(num_nodes=5)
    pos = torch.cat([graph.pos, graph.pos[:1]])  # atom 5 on atom 0
    z = torch.cat([graph.z, graph.z[:1]])
    extra = torch.tensor([[5, 0, 2, 2, 5], [0, 5, 2, 5, 3]])  # 0 <-> 5 (zero length), a self-loop, 2 -> 5, 5 -> 3
    with_zero = Graph(pos=pos, edge_index=torch.cat([graph.edge_index, extra], dim=1), node_data={"z": z})
    without = Graph(pos=pos, edge_index=torch.cat([graph.edge_index, extra[:, 3:]], dim=1), node_data={"z": z})
    energy, forces = net.energy_and_forces(with_zero)
    assert torch.isfinite(energy).all() and torch.isfinite(forces).all()
    expected_energy, expected_forces = net.energy_and_forces(without)
    torch.testing.assert_close(energy, expected_energy, atol=1e-14, rtol=1e-12)
    torch.testing.assert_close(forces, expected_forces, atol=1e-12, rtol=1e-10)
