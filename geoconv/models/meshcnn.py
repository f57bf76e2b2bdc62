"""MeshCNN models (Hanocka et al., "MeshCNN: A Network with an Edge", SIGGRAPH 2019).

* :class:`MeshCNNClassifier`: residual :class:`~geoconv.nn.MeshConv` blocks, each
  followed by normalisation, ReLU and :class:`~geoconv.nn.MeshPool`, then a mean over
  the remaining edges of each mesh and a two-layer MLP (MeshCNN's ``MeshConvNet``).
* :class:`MeshCNNSegmenter`: the encoder-decoder (U-Net) of MeshCNN's segmentation
  experiments: pooling on the way down, :class:`~geoconv.nn.MeshUnpool` and skip
  connections on the way up, one label per input edge.

Both take a mesh :class:`~geoconv.data.Graph` / :class:`~geoconv.data.Batch` built by
:func:`~geoconv.data.mesh.mesh_graph` (features in ``edge_attr``; by default the five features as
MeshCNN's released code computes them, with 0.1 added to every norm it divides by, so that accuracies
compare with the published ones; ``mesh_graph(..., features="exact")`` gives the geometric values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data.graph import Graph
from geoconv.data.mesh import FACE_EDGES, NEIGHBORS
from geoconv.models.common import as_fields, layer_widths, read_fields, reset_children
from geoconv.nn.global_pool import GlobalPool
from geoconv.nn.mesh_conv import MeshConv
from geoconv.nn.mesh_norm import MeshNorm
from geoconv.nn.mesh_pool import MeshPool
from geoconv.nn.mesh_res_block import MeshResBlock
from geoconv.nn.mesh_unpool import MeshUnpool
from geoconv.ops.dropout import dropout
from geoconv.ops.mesh_collapse import MeshPoolResult

__all__ = ["MeshLevel", "MeshCNNClassifier", "MeshCNNSegmenter"]


@dataclass
class MeshLevel:
    """The mesh at one resolution: what the layers need besides the features."""

    pos: Tensor
    face: Tensor
    edge_index: Tensor
    neighbors: Tensor
    face_edges: Tensor
    node_ptr: Tensor
    edge_ptr: Tensor

    @classmethod
    def from_graph(cls, mesh: Graph) -> "MeshLevel":
        for name in ("pos", "face", "edge_index", NEIGHBORS, FACE_EDGES):
            if name not in mesh:
                raise ValueError(f"the mesh graph has no {name!r}; build it with geoconv.data.mesh.mesh_graph")
        device = mesh.edge_index.device
        if hasattr(mesh, "counts"):
            edge_counts = mesh.counts("edge").to(device)
        else:
            edge_counts = torch.tensor([mesh.num_edges], device=device)
        edge_ptr = torch.cat([edge_counts.new_zeros(1), torch.cumsum(edge_counts, 0)])
        return cls(mesh.pos, mesh.face, mesh.edge_index, getattr(mesh, NEIGHBORS), getattr(mesh, FACE_EDGES),
                   mesh.ptr, edge_ptr)

    @classmethod
    def from_pool(cls, result: MeshPoolResult) -> "MeshLevel":
        topology = result.topology
        return cls(result.pos, result.face, topology.edge_index, topology.neighbor, topology.face_edge,
                   result.node_ptr, result.edge_ptr)

    @property
    def num_graphs(self) -> int:
        """Meshes ``G`` of the batch."""
        return self.node_ptr.numel() - 1

    @property
    def edge_graph(self) -> Tensor:
        """Mesh index of every edge ``[M]``."""
        counts = self.edge_ptr[1:] - self.edge_ptr[:-1]
        return torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)

    def pool(self, layer: MeshPool, x: Tensor) -> tuple[Tensor, "MeshLevel", MeshPoolResult]:
        result = layer(x, self.edge_index, self.face, self.pos, node_ptr=self.node_ptr, face_edge=self.face_edges)
        return result.x, MeshLevel.from_pool(result), result


class MeshCNNClassifier(nn.Module):
    """MeshCNN mesh classifier (MeshCNN's ``MeshConvNet``).

    ``num_layers`` blocks of :class:`~geoconv.nn.MeshResBlock` -> :class:`~geoconv.nn.MeshNorm` -> ReLU ->
    :class:`~geoconv.nn.MeshPool`, then the mean over the remaining edges of each mesh
    (:class:`~geoconv.nn.GlobalPool`) and a two-layer MLP.

    Args:
        in_channels: input edge features (5).
        hidden_channels: output channels of the residual blocks, one per block (SHREC: ``(64, 128, 256, 256)``)
            or one width for all ``num_layers`` blocks.
        out_channels: classes.
        num_layers: blocks (default: as many as ``hidden_channels`` lists).
        dropout: dropout before the last linear layer (default 0 as in MeshCNN).
        pool_targets: edges left after each block's pooling (default SHREC's ``(600, 450, 300, 180)``);
            one per block.
        head_channels: width of the MLP's hidden layer (default 100).
        blocks: residual convolutions per block (MeshCNN's ``--resblocks``, default 1).
        norm: ``"group"`` (default, MeshCNN's SHREC setting), ``"batch"`` or ``"none"``.
        groups: groups of the group norm (default 16).
        input_fields: the edge tensor(s) read as input features (default ``"edge_attr"``).

    Shapes:
        input: a mesh Graph/Batch built by :func:`~geoconv.data.mesh.mesh_graph` with ``G`` meshes;
        output: logits ``[G, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int | Sequence[int], out_channels: int,
                 num_layers: int | None = None, dropout: float = 0.0, *,
                 pool_targets: Sequence[int] = (600, 450, 300, 180), head_channels: int = 100, blocks: int = 1,
                 norm: str = "group", groups: int = 16, input_fields: str | Sequence[str] = "edge_attr") -> None:
        super().__init__()
        channels = layer_widths(hidden_channels, num_layers, default_num_layers=len(pool_targets))
        if len(channels) != len(pool_targets):
            raise ValueError(f"{len(channels)} blocks need as many pool_targets, got {len(pool_targets)}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, tuple(channels), out_channels
        self.num_layers, self.dropout, self.pool_targets = len(channels), dropout, tuple(pool_targets)
        self.input_fields = as_fields(input_fields, "input_fields")
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(MeshResBlock(widths[i], widths[i + 1], blocks=blocks) for i in range(len(channels)))
        self.norms = nn.ModuleList(MeshNorm(c, norm, groups=min(groups, c)) for c in channels)
        self.pools = nn.ModuleList(MeshPool(t) for t in pool_targets)
        self.readout = GlobalPool("mean")
        self.fc1 = nn.Linear(widths[-1], head_channels)
        self.fc2 = nn.Linear(head_channels, out_channels)

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, dropout={self.dropout}, "
                f"pool_targets={self.pool_targets}, input_fields={self.input_fields}")

    def forward(self, mesh: Graph) -> Tensor:
        """Logits ``[G, out_channels]`` from the input fields of a mesh Graph/Batch."""
        level = MeshLevel.from_graph(mesh)
        x = read_fields(mesh, self.input_fields, model="MeshCNNClassifier", option="input_fields")
        return self.forward_tensors(x, level)

    def forward_tensors(self, x: Tensor, level: MeshLevel) -> Tensor:
        """The model on tensors: edge features ``x [M, C]`` and the mesh tensors of ``level``."""
        num_graphs = level.num_graphs
        for block, norm, pool in zip(self.blocks, self.norms, self.pools):
            x = block(x, level.neighbors)
            x = F.relu(norm(x, level.edge_graph, num_graphs))
            x, level, _ = level.pool(pool, x)
        x = self.readout(x, level.edge_graph, num_graphs)
        x = F.relu(self.fc1(x))
        x = dropout(x, self.dropout, self.training)
        return self.fc2(x)


class MeshCNNSegmenter(nn.Module):
    """MeshCNN's segmentation U-Net: one logit vector per input edge.

    Encoder level ``i``: ``MeshConv`` -> norm -> ReLU -> ``blocks`` residual
    convolutions, remembered for the skip connection, then ``MeshPool`` to
    ``pool_targets[i]`` (the last level does not pool).  Decoder: ``MeshConv``
    -> ``MeshUnpool`` back to the level's resolution -> concatenation with the
    skip -> ``MeshConv`` -> norm -> ReLU -> residual convolutions; a final
    ``MeshConv`` gives the class logits.

    Args:
        in_channels: input edge features (5).
        hidden_channels: widths of the encoder levels (human body: ``(32, 64, 128, 256)``), or one width
            for all ``num_layers`` levels.
        out_channels: segment classes.
        num_layers: encoder levels (default: as many as ``hidden_channels`` lists).
        dropout: dropout before the final convolution (default 0, as MeshCNN).
        pool_targets: edges after each pooling, ``num_layers - 1`` entries (default ``(1998, 999, 501)``;
            human body in MeshCNN: ``(2000, 1000, 500)``; multiples of 3 apart on closed meshes).
        blocks: residual convolutions per level (default 1).
        norm: ``"batch"`` (default, MeshCNN's segmentation setting), ``"group"`` or ``"none"``.
        groups: groups of the group norm (default 16).
        input_fields: the edge tensor(s) read as input features (default ``"edge_attr"``).

    Shapes:
        input: a mesh Graph/Batch with ``M`` edges in total; output: ``[M, out_channels]``.
    """

    def __init__(self, in_channels: int, hidden_channels: int | Sequence[int], out_channels: int,
                 num_layers: int | None = None, dropout: float = 0.0, *,
                 pool_targets: Sequence[int] = (1998, 999, 501), blocks: int = 1, norm: str = "batch",
                 groups: int = 16, input_fields: str | Sequence[str] = "edge_attr") -> None:
        super().__init__()
        channels = layer_widths(hidden_channels, num_layers, default_num_layers=len(pool_targets) + 1)
        if len(pool_targets) != len(channels) - 1:
            raise ValueError(f"pool_targets needs {len(channels) - 1} entries (one less than the levels), "
                             f"got {len(pool_targets)}")
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, tuple(channels), out_channels
        self.num_layers, self.dropout, self.pool_targets = len(channels), dropout, tuple(pool_targets)
        self.input_fields = as_fields(input_fields, "input_fields")
        widths = [in_channels, *channels]
        self.down_convs = nn.ModuleList(MeshConv(widths[i], widths[i + 1]) for i in range(len(channels)))
        self.down_norms = nn.ModuleList(MeshNorm(c, norm, groups=min(groups, c)) for c in channels)
        self.down_blocks = nn.ModuleList(_ResidualConvs(c, blocks) for c in channels)
        self.pools = nn.ModuleList(MeshPool(t) for t in pool_targets)
        reversed_channels = list(channels[::-1])
        self.up_convs = nn.ModuleList(
            MeshConv(reversed_channels[i], reversed_channels[i + 1]) for i in range(len(channels) - 1))
        self.merge_convs = nn.ModuleList(
            MeshConv(2 * reversed_channels[i + 1], reversed_channels[i + 1]) for i in range(len(channels) - 1))
        self.up_norms = nn.ModuleList(
            MeshNorm(reversed_channels[i + 1], norm, groups=min(groups, reversed_channels[i + 1]))
            for i in range(len(channels) - 1))
        self.up_blocks = nn.ModuleList(_ResidualConvs(reversed_channels[i + 1], blocks) for i in range(len(channels) - 1))
        self.unpool = MeshUnpool()
        self.final = MeshConv(channels[0], out_channels)

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, dropout={self.dropout}, "
                f"pool_targets={self.pool_targets}, input_fields={self.input_fields}")

    def forward(self, mesh: Graph) -> Tensor:
        """Logits ``[M, out_channels]`` for every edge of a mesh Graph/Batch."""
        level = MeshLevel.from_graph(mesh)
        x = read_fields(mesh, self.input_fields, model="MeshCNNSegmenter", option="input_fields")
        return self.forward_tensors(x, level)

    def forward_tensors(self, x: Tensor, level: MeshLevel) -> Tensor:
        """The model on tensors: edge features ``x [M, C]`` and the mesh tensors of ``level``."""
        num_graphs = level.num_graphs
        skips: list[tuple[Tensor, MeshLevel, MeshPoolResult]] = []
        for i, (conv, norm, block) in enumerate(zip(self.down_convs, self.down_norms, self.down_blocks)):
            x = F.relu(norm(conv(x, level.neighbors), level.edge_graph, num_graphs))
            x = block(x, level.neighbors)
            if i < len(self.pools):
                before, before_level = x, level
                x, level, result = level.pool(self.pools[i], x)
                skips.append((before, before_level, result))
        for up, merge, norm, block in zip(self.up_convs, self.merge_convs, self.up_norms, self.up_blocks):
            before, before_level, result = skips.pop()
            x = up(x, level.neighbors)
            x = self.unpool(x, result.assignment, result.num_input_edges)
            level = before_level
            x = merge(torch.cat([x, before], dim=1), level.neighbors)
            x = F.relu(norm(x, level.edge_graph, num_graphs))
            x = block(x, level.neighbors)
        x = dropout(x, self.dropout, self.training)
        return self.final(x, level.neighbors)


class _ResidualConvs(nn.Module):
    """``blocks`` times ``x = relu(x + bn(conv(x)))`` (MeshCNN's DownConv/UpConv inner loop)."""

    def __init__(self, channels: int, blocks: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList(MeshConv(channels, channels) for _ in range(blocks))
        self.norms = nn.ModuleList(nn.BatchNorm1d(channels) for _ in range(blocks))

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        for conv, norm in zip(self.convs, self.norms):
            x = F.relu(x + norm(conv(x, neighbors)))
        return x
