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

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data.graph import Graph
from geoconv.data.mesh import FACE_EDGES, NEIGHBORS
from geoconv.nn.mesh_conv import MeshConv
from geoconv.nn.mesh_pool import MeshPool
from geoconv.nn.mesh_unpool import MeshUnpool
from geoconv.ops.mesh_collapse import MeshPoolResult
from geoconv.ops.dropout import dropout
from geoconv.ops.scatter import scatter

__all__ = ["MeshLevel", "MeshCNNClassifier", "MeshCNNSegmenter", "MeshNorm", "MeshResBlock"]


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
        return cls(result.pos, result.face, topology.edge.t(), topology.neighbor, topology.face_edge,
                   result.node_ptr, result.edge_ptr)

    @property
    def edge_graph(self) -> Tensor:
        """Mesh index of every edge ``[M]``."""
        counts = self.edge_ptr[1:] - self.edge_ptr[:-1]
        return torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)

    def pool(self, layer: MeshPool, x: Tensor) -> tuple[Tensor, "MeshLevel", MeshPoolResult]:
        result = layer(x, self.edge_index, self.face, self.pos, node_ptr=self.node_ptr, face_edge=self.face_edges)
        return result.x, MeshLevel.from_pool(result), result


class MeshNorm(nn.Module):
    """Normalisation over the edges of each mesh separately.

    ``"group"``: group norm per mesh (MeshCNN's ``--norm group``: statistics over
    the edges of one mesh and the channels of one group); ``"batch"``: batch norm
    over all edges of the batch; ``"none"``.
    """

    def __init__(self, channels: int, kind: str = "group", *, groups: int = 16, eps: float = 1e-5) -> None:
        super().__init__()
        if kind not in ("group", "batch", "none"):
            raise ValueError(f"norm must be 'group', 'batch' or 'none', got {kind!r}")
        self.kind = kind
        self.groups = groups if kind == "group" else 1
        if kind == "group" and channels % groups:
            raise ValueError(f"group norm needs channels ({channels}) divisible by groups ({groups})")
        self.eps = eps
        self.batch_norm = nn.BatchNorm1d(channels) if kind == "batch" else None
        self.weight = nn.Parameter(torch.ones(channels)) if kind == "group" else None
        self.bias = nn.Parameter(torch.zeros(channels)) if kind == "group" else None

    def forward(self, x: Tensor, edge_graph: Tensor, num_graphs: int) -> Tensor:
        if self.kind == "none":
            return x
        if self.kind == "batch":
            return self.batch_norm(x)
        num_edges, channels = x.shape
        grouped = x.view(num_edges, self.groups, channels // self.groups)
        count = scatter(torch.ones_like(edge_graph, dtype=x.dtype), edge_graph, 0, num_graphs, "sum")
        count = (count * (channels // self.groups)).clamp(min=1).view(-1, 1)
        mean = scatter(grouped.sum(2), edge_graph, 0, num_graphs, "sum") / count
        centred = grouped - mean.index_select(0, edge_graph).unsqueeze(2)
        var = scatter(centred.pow(2).sum(2), edge_graph, 0, num_graphs, "sum") / count
        normed = centred / (var.index_select(0, edge_graph).unsqueeze(2) + self.eps).sqrt()
        return normed.reshape(num_edges, channels) * self.weight + self.bias


class MeshResBlock(nn.Module):
    """MeshCNN's ``MResConv``: ``y = conv0(x)``, then ``blocks`` times ``y = conv(bn(relu(y)))``, output ``relu(y + conv0(x))``."""

    def __init__(self, in_channels: int, out_channels: int, *, blocks: int = 1) -> None:
        super().__init__()
        self.conv0 = MeshConv(in_channels, out_channels, bias=False)
        self.norms = nn.ModuleList(nn.BatchNorm1d(out_channels) for _ in range(blocks))
        self.convs = nn.ModuleList(MeshConv(out_channels, out_channels, bias=False) for _ in range(blocks))

    def forward(self, x: Tensor, neighbors: Tensor) -> Tensor:
        x = self.conv0(x, neighbors)
        skip = x
        for norm, conv in zip(self.norms, self.convs):
            x = conv(norm(F.relu(x)), neighbors)
        return F.relu(x + skip)


class MeshCNNClassifier(nn.Module):
    """MeshCNN mesh classifier.

    Args:
        in_channels: input edge features (5).
        num_classes: output classes.
        channels: output channels of the residual blocks (SHREC: ``(64, 128, 256, 256)``).
        pool_targets: edges left after each block's pooling (SHREC: ``(600, 450, 300, 180)``);
            same length as ``channels``.
        hidden: width of the MLP's hidden layer (100).
        blocks: residual convolutions per block (MeshCNN's ``--resblocks``).
        norm: ``"group"`` (MeshCNN's SHREC setting), ``"batch"`` or ``"none"``.
        groups: groups of the group norm.
        dropout: dropout before the last linear layer (0 as in MeshCNN).

    Shapes:
        input: a mesh Graph/Batch with ``G`` meshes; output: logits ``[G, num_classes]``.
    """

    def __init__(self, in_channels: int, num_classes: int, *, channels=(64, 128, 256, 256),
                 pool_targets=(600, 450, 300, 180), hidden: int = 100, blocks: int = 1,
                 norm: str = "group", groups: int = 16, dropout: float = 0.0) -> None:
        super().__init__()
        if len(channels) != len(pool_targets):
            raise ValueError(f"channels ({len(channels)}) and pool_targets ({len(pool_targets)}) must have the same length")
        widths = [in_channels, *channels]
        self.blocks = nn.ModuleList(MeshResBlock(widths[i], widths[i + 1], blocks=blocks) for i in range(len(channels)))
        self.norms = nn.ModuleList(MeshNorm(c, norm, groups=min(groups, c)) for c in channels)
        self.pools = nn.ModuleList(MeshPool(t) for t in pool_targets)
        self.fc1 = nn.Linear(widths[-1], hidden)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.dropout = dropout

    def forward(self, mesh: Graph) -> Tensor:
        level = MeshLevel.from_graph(mesh)
        x = mesh.edge_attr
        num_graphs = level.node_ptr.numel() - 1
        for block, norm, pool in zip(self.blocks, self.norms, self.pools):
            x = block(x, level.neighbors)
            x = F.relu(norm(x, level.edge_graph, num_graphs))
            x, level, _ = level.pool(pool, x)
        x = scatter(x, level.edge_graph, 0, num_graphs, "mean")
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
        num_classes: segment classes.
        channels: widths of the encoder levels (human body: ``(32, 64, 128, 256)``).
        pool_targets: edges after each pooling, ``len(channels) - 1`` entries
            (human body in MeshCNN: ``(2000, 1000, 500)``; multiples of 3 apart on closed meshes).
        blocks: residual convolutions per level.
        norm: ``"batch"`` (MeshCNN's segmentation default), ``"group"`` or ``"none"``.

    Shapes:
        input: a mesh Graph/Batch with ``M`` edges in total; output: ``[M, num_classes]``.
    """

    def __init__(self, in_channels: int, num_classes: int, *, channels=(32, 64, 128, 256),
                 pool_targets=(1998, 999, 501), blocks: int = 1, norm: str = "batch", groups: int = 16) -> None:
        super().__init__()
        if len(pool_targets) != len(channels) - 1:
            raise ValueError(f"pool_targets needs len(channels) - 1 = {len(channels) - 1} entries, got {len(pool_targets)}")
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
        self.final = MeshConv(channels[0], num_classes)

    def forward(self, mesh: Graph) -> Tensor:
        level = MeshLevel.from_graph(mesh)
        num_graphs = level.node_ptr.numel() - 1
        x = mesh.edge_attr
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
