"""ESCN model: equivariant node features, invariant energies, equivariant forces, batching."""

import pytest
import torch

from geoconv.data import Batch, Graph
from geoconv.models import ESCN
from geoconv.ops import wigner_D_from_matrix
from geoconv.testing import assert_permutation_equivariant, permute_graph, random_rotation

F64 = torch.float64


def molecule(num_atoms=6, seed=0, dtype=F64) -> Graph:
    generator = torch.Generator().manual_seed(seed)
    pos = torch.randn(num_atoms, 3, generator=generator, dtype=dtype) * 1.2
    z = torch.randint(1, 10, (num_atoms,), generator=generator)
    src, dst = torch.meshgrid(torch.arange(num_atoms), torch.arange(num_atoms), indexing="ij")
    keep = src != dst
    return Graph(pos=pos, edge_index=torch.stack([src[keep], dst[keep]]), node_data={"z": z})


def make_model(lmax=2, mmax=None, dtype=F64, seed=0, **kwargs) -> ESCN:
    torch.manual_seed(seed)
    out_channels = kwargs.pop("out_channels", 1)
    return ESCN(10, 6, out_channels, num_layers=2, lmax=lmax, mmax=mmax, num_radial=8, edge_channels=5,
                cutoff=4.0, **kwargs).to(dtype)


@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1)])
def test_node_features_rotate_by_wigner_D(lmax, mmax):
    model = make_model(lmax, mmax)
    graph = molecule()
    rotation = random_rotation(F64, torch.Generator().manual_seed(1))
    shift = torch.tensor([0.3, -1.0, 2.0], dtype=F64)
    out = model.node_features(graph.z, graph.pos, graph.edge_index)
    rotated = model.node_features(graph.z, graph.pos @ rotation.T + shift, graph.edge_index)
    wigner = wigner_D_from_matrix(rotation, lmax)
    for l in range(lmax + 1):
        block = slice(l * l, (l + 1) ** 2)
        torch.testing.assert_close(rotated[:, block], wigner[block, block] @ out[:, block], atol=1e-9, rtol=0)
    assert out[:, 1:].abs().max() > 1e-2


def test_energy_invariant_and_forces_equivariant():
    model = make_model()
    graph = molecule()
    rotation = random_rotation(F64, torch.Generator().manual_seed(2))
    energy, forces = model.energy_and_forces(graph)
    moved = graph.replace(pos=graph.pos @ rotation.T + torch.tensor([5.0, 0.0, -1.0], dtype=F64))
    energy_moved, forces_moved = model.energy_and_forces(moved)
    torch.testing.assert_close(energy_moved, energy, atol=1e-9, rtol=0)
    torch.testing.assert_close(forces_moved, forces @ rotation.T, atol=1e-9, rtol=0)
    # Forces are minus the gradient: compare with central differences.
    step = 1e-5
    for atom, axis in [(0, 0), (3, 2)]:
        plus, minus = graph.pos.clone(), graph.pos.clone()
        plus[atom, axis] += step
        minus[atom, axis] -= step
        with torch.no_grad():
            slope = (model(graph.replace(pos=plus)) - model(graph.replace(pos=minus)))[0, 0] / (2 * step)
        torch.testing.assert_close(forces[atom, axis], -slope, atol=1e-7, rtol=0)
    # Internal forces of an isolated molecule sum to zero (translation invariance).
    torch.testing.assert_close(forces.sum(dim=0), torch.zeros(3, dtype=F64), atol=1e-10, rtol=0)


def test_float32_equivariance():
    model = make_model(dtype=torch.float32)
    graph = molecule(dtype=torch.float32)
    rotation = random_rotation(torch.float32, torch.Generator().manual_seed(3))
    out = model.node_features(graph.z, graph.pos, graph.edge_index)
    rotated = model.node_features(graph.z, graph.pos @ rotation.T, graph.edge_index)
    torch.testing.assert_close(rotated, wigner_D_from_matrix(rotation, 2) @ out, atol=1e-4, rtol=0)


def test_permutation_equivariance_and_batch_consistency():
    model = make_model()
    graph = molecule()
    assert_permutation_equivariant(
        lambda g: model.node_features(g.z, g.pos, g.edge_index).flatten(1), graph, atol=1e-10, rtol=0
    )
    permuted = permute_graph(graph, torch.randperm(graph.num_nodes, generator=torch.Generator().manual_seed(4)))
    torch.testing.assert_close(model(permuted), model(graph), atol=1e-10, rtol=0)
    molecules = [molecule(5, seed=5), molecule(1, seed=6), molecule(7, seed=7)]
    batch = Batch.from_graphs(molecules)
    torch.testing.assert_close(model(batch), torch.cat([model(m) for m in molecules]), atol=1e-10, rtol=0)


def test_invariant_baseline_and_outputs():
    model = make_model(lmax=0, out_channels=3)
    graph = molecule()
    assert model(graph).shape == (1, 3)
    assert model.node_features(graph.z, graph.pos, graph.edge_index).shape == (6, 1, 6)
    rotation = random_rotation(F64, torch.Generator().manual_seed(8))
    torch.testing.assert_close(model(graph.replace(pos=graph.pos @ rotation.T)), model(graph), atol=1e-9, rtol=0)
    # Atoms beyond the cutoff do not interact: two far-apart copies give twice the energy.
    far = Graph(pos=torch.cat([graph.pos, graph.pos + 100.0]),
                edge_index=torch.cat([graph.edge_index, graph.edge_index + 6], dim=1),
                node_data={"z": torch.cat([graph.z, graph.z])})
    torch.testing.assert_close(model(far), 2 * model(graph), atol=1e-10, rtol=0)


def test_bad_inputs_raise_clear_errors():
    model = make_model()
    graph = molecule()
    with pytest.raises(ValueError, match=r"atomic numbers must be in \[0, in_channels=10\)"):
        model.node_features(graph.z + 20, graph.pos, graph.edge_index)
    with pytest.raises(ValueError, match=r"pos must have shape \[N=6, 3\]"):
        model.node_features(graph.z, graph.pos[:, :2], graph.edge_index)
    with pytest.raises(ValueError, match="atomic numbers must be an int64 tensor"):
        model.node_features(graph.z.float(), graph.pos, graph.edge_index)
    with pytest.raises(ValueError, match="forces need a single"):
        make_model(out_channels=2).energy_and_forces(graph)
    with pytest.raises(ValueError, match="num_layers must be >= 1"):
        ESCN(10, 6, 1, num_layers=0)
    with pytest.raises(ValueError, match="ESCN reads atomic_number_field=\\('z',\\), but the graph has no tensor 'z'"):
        model(Graph(pos=graph.pos, edge_index=graph.edge_index, x=graph.z.view(-1, 1)))
    # The field is a constructor option, not a guess: atomic numbers stored as x are read when asked to.
    as_x = Graph(pos=graph.pos, edge_index=graph.edge_index, x=graph.z.view(-1, 1))
    torch.testing.assert_close(make_model(atomic_number_field="x")(as_x), model(graph), atol=1e-12, rtol=0)


@pytest.mark.parametrize("lmax,mmax", [(2, 2), (3, 1)])
def test_first_block_on_degree_zero_equals_the_full_block(lmax, mmax):
    # The first convolution is handed only the degree-0 features (the rest are zero before the first block
    # and the norm keeps them zero).  Hand it the norm's full output instead: outputs and gradients must agree,
    # which fails if the norm ever makes the higher degrees nonzero or the shortcut drops a term.
    model = make_model(lmax, mmax)
    graph = molecule()
    pos = graph.pos.clone().requires_grad_(True)
    full_input = {}
    model.conv_norms[0].register_forward_hook(lambda module, args, output: full_input.update(x=output))

    def energy_and_grads():
        energy = model(Graph(pos=pos, edge_index=graph.edge_index, node_data={"z": graph.z})).sum()
        return energy, torch.autograd.grad(energy, [pos, *model.parameters()], allow_unused=True)

    energy, grads = energy_and_grads()
    assert full_input["x"].shape[1] == (lmax + 1) ** 2
    handle = model.convs[0].register_forward_pre_hook(lambda module, args: (full_input["x"], *args[1:]))
    full_energy, full_grads = energy_and_grads()
    handle.remove()
    torch.testing.assert_close(energy, full_energy, atol=1e-12, rtol=0)
    for grad, full_grad in zip(grads, full_grads):
        assert (grad is None) == (full_grad is None)
        if grad is not None:
            torch.testing.assert_close(grad, full_grad, atol=1e-12, rtol=0)
