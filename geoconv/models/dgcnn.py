"""DGCNN for point-cloud classification and part segmentation (Wang et al., ACM TOG 2019).

https://arxiv.org/abs/1801.07829; the layer sizes follow the authors' PyTorch code
(github.com/WangYueFt/dgcnn, ``model.py``).  Deliberately not included: the
spatial transformer of the segmentation network (the classification network of
the paper does not use one either), so the models are not rotation invariant;
train with random rotations for that.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from geoconv.data import Graph
from geoconv.models.common import as_fields, layer_widths, read_fields, reset_children
from geoconv.nn.dynamic_edge_conv import DynamicEdgeConv
from geoconv.nn.edge_conv import LinearEdgeBlock
from geoconv.nn.global_pool import GlobalPool


def point_mlp(sizes: Sequence[int], *, dropout: float = 0.0, bias: bool = False) -> nn.Sequential:
    """``Linear -> BatchNorm -> LeakyReLU(0.2) [-> Dropout]`` for each consecutive pair of ``sizes``.

    This is the shared point-wise / edge-wise block of DGCNN (``Conv1d``/``Conv2d`` with
    kernel size 1 in the reference code, i.e. a Linear layer applied to every point or edge).
    """
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b, bias=bias), nn.BatchNorm1d(b), nn.LeakyReLU(0.2)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class DGCNN(nn.Module):
    r"""DGCNN classifier: four dynamic EdgeConv layers, a point-wise embedding,
    global max and mean pooling and an MLP head.

    .. math::
        h^{(l)}_i = \max_{j \in \mathrm{kNN}(h^{(l-1)}_i)} \mathrm{MLP}_l(h^{(l-1)}_i \,\Vert\, h^{(l-1)}_j - h^{(l-1)}_i),
        \quad e_i = \mathrm{MLP}(h^{(1)}_i \Vert \dots \Vert h^{(4)}_i),
        \quad y = \mathrm{head}(\max_i e_i \,\Vert\, \operatorname{mean}_i e_i)

    The kNN graph of layer 1 is built on the input (coordinates), the others in
    the feature space of the previous layer.  The output is invariant to the order
    of the points of each cloud.

    Args:
        in_channels: input features per point (3 for coordinates).
        hidden_channels: widths of the EdgeConv layers, one per layer (paper: ``(64, 64, 128, 256)``),
            or one width for all ``num_layers`` layers.
        out_channels: classes ``K``.
        num_layers: EdgeConv layers (default: as many as ``hidden_channels`` lists, or 4).
        dropout: dropout in the head (paper: 0.5).
        k: neighbours (self included, default 20 as in the paper).
        embedding_channels: point-wise embedding before pooling (default 1024 as in the paper).
        head_channels: hidden widths of the classifier MLP (default ``(512, 256)`` as in the paper).
        input_fields: node tensors concatenated as input by :meth:`forward` (default ``("pos",)``;
            ``("pos", "normal")`` with ``in_channels=6`` adds normals).

    Shapes:
        graph: a Graph/Batch of ``G`` clouds; output: ``[G, K]`` logits.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | Sequence[int],
        out_channels: int,
        num_layers: int | None = None,
        dropout: float = 0.5,
        *,
        k: int = 20,
        embedding_channels: int = 1024,
        head_channels: Sequence[int] = (512, 256),
        input_fields: str | Sequence[str] = ("pos",),
    ) -> None:
        super().__init__()
        channels = layer_widths(hidden_channels, num_layers, default_num_layers=4)
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, tuple(channels), out_channels
        self.num_layers, self.dropout, self.k = len(channels), dropout, k
        self.input_fields = as_fields(input_fields, "input_fields")
        widths = [in_channels, *channels]
        self.convs = nn.ModuleList(
            # point_mlp([2a, b]) declared as such: evaluated without per-edge tensors (same parameters and keys)
            DynamicEdgeConv(LinearEdgeBlock(a, b), k) for a, b in zip(widths[:-1], widths[1:])
        )
        self.embedding = point_mlp([sum(channels), embedding_channels])
        self.readout = GlobalPool(("max", "mean"))
        sizes = [2 * embedding_channels, *head_channels]
        # As in the reference code, the first head layer has no bias and the later ones do.
        self.head = nn.Sequential(*(
            point_mlp(sizes[i:i + 2], dropout=dropout, bias=i > 0) for i in range(len(head_channels))
        ))
        self.classifier = nn.Linear(sizes[-1], out_channels)

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, dropout={self.dropout}, "
                f"k={self.k}, input_fields={self.input_fields}")

    def forward(self, graph: Graph) -> Tensor:
        """Logits ``[G, out_channels]`` from the input fields of a Graph/Batch of clouds."""
        x = read_fields(graph, self.input_fields, model="DGCNN", option="input_fields")
        return self.forward_tensors(x, graph.batch, graph.num_graphs)

    def forward_tensors(self, x: Tensor, batch: Tensor | None, num_graphs: int | None = None) -> Tensor:
        """The model on raw tensors: ``x [N, C]``, sorted ``batch [N]`` with ``num_graphs`` (None: one cloud)."""
        embedding = self.point_embedding(x, batch)
        return self.classifier(self.head(self.readout(embedding, batch, num_graphs)))

    def point_embedding(self, x: Tensor, batch: Tensor | None) -> Tensor:
        """``[N, embedding_channels]`` per-point features before pooling."""
        outputs = []
        for conv in self.convs:
            x = conv(x, batch=batch)
            outputs.append(x)
        return self.embedding(torch.cat(outputs, dim=1))


class DGCNNSegmentation(nn.Module):
    r"""DGCNN for part segmentation: per-point logits from three dynamic EdgeConv
    blocks, a global feature and the object category.

    .. math::
        g = \max_i \mathrm{MLP}(h^{(1)}_i \Vert h^{(2)}_i \Vert h^{(3)}_i),\quad
        y_i = \mathrm{MLP}(g \,\Vert\, \mathrm{MLP}(\mathrm{onehot}(c)) \,\Vert\, h^{(1)}_i \Vert h^{(2)}_i \Vert h^{(3)}_i)

    Sizes of the reference code: EdgeConv MLPs (6 -> 64 -> 64), (128 -> 64 -> 64),
    (128 -> 64); embedding 1024; category 16 -> 64; head 1280 -> 256 -> 256 -> 128 -> parts,
    dropout 0.5 after the first two head layers; k = 40.  Point-order equivariant.

    Args:
        in_channels: input features per point.
        hidden_channels: width of the EdgeConv blocks (default 64 as the reference), or one width per block.
        out_channels: part classes (50 for ShapeNetPart).
        num_layers: EdgeConv blocks (default 3 as the reference; every block but the last has a
            two-layer MLP).
        dropout: head dropout (default 0.5).
        num_categories: object categories (default 16 for ShapeNetPart); 0 disables the category input.
        k: neighbours (self included, default 40).
        embedding_channels: global feature size (default 1024).
        input_fields: node tensors used as input (default ``("pos",)``).
        category_field: name of the graph-level int64 tensor holding each cloud's category.

    Shapes:
        graph: Graph/Batch with ``N`` points; output ``[N, out_channels]`` logits.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int | Sequence[int],
        out_channels: int,
        num_layers: int | None = None,
        dropout: float = 0.5,
        *,
        num_categories: int = 16,
        k: int = 40,
        embedding_channels: int = 1024,
        input_fields: str | Sequence[str] = ("pos",),
        category_field: str = "category",
    ) -> None:
        super().__init__()
        channels = layer_widths(hidden_channels, num_layers, default_num_layers=3)
        self.in_channels, self.hidden_channels, self.out_channels = in_channels, tuple(channels), out_channels
        self.num_layers, self.dropout, self.k = len(channels), dropout, k
        self.input_fields = as_fields(input_fields, "input_fields")
        self.category_field = category_field
        self.num_categories = num_categories
        widths = [in_channels, *channels]
        last = len(channels) - 1
        self.convs = nn.ModuleList(
            DynamicEdgeConv(point_mlp([2 * widths[i], widths[i + 1]] + ([widths[i + 1]] if i < last else [])), k)
            for i in range(len(channels))
        )
        self.embedding = point_mlp([sum(channels), embedding_channels])
        self.readout = GlobalPool("max")
        self.category_mlp = point_mlp([num_categories, 64]) if num_categories else None
        global_dim = embedding_channels + (64 if num_categories else 0)
        self.head = nn.Sequential(
            point_mlp([global_dim + sum(channels), 256], dropout=dropout),
            point_mlp([256, 256], dropout=dropout),
            point_mlp([256, 128]),
            nn.Linear(128, out_channels, bias=False),
        )

    def reset_parameters(self) -> None:
        reset_children(self)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.hidden_channels}, {self.out_channels}, dropout={self.dropout}, k={self.k}, "
                f"num_categories={self.num_categories}, input_fields={self.input_fields}, "
                f"category_field={self.category_field!r}")

    def forward(self, graph: Graph) -> Tensor:
        """Logits ``[N, out_channels]`` from the input fields (and the category field) of a Graph/Batch."""
        x = read_fields(graph, self.input_fields, model="DGCNNSegmentation", option="input_fields")
        category = None
        if self.num_categories:
            category = read_fields(graph, (self.category_field,), model="DGCNNSegmentation",
                                   option="category_field").view(-1)
        return self.forward_tensors(x, graph.batch, graph.num_graphs, category)

    def forward_tensors(
        self, x: Tensor, batch: Tensor | None, num_graphs: int | None = None, category: Tensor | None = None
    ) -> Tensor:
        """Raw tensors: ``x [N, C]``, sorted ``batch [N]`` with ``num_graphs`` (None: one cloud),
        ``category [G]`` int64."""
        if batch is None:
            num_graphs = 1 if num_graphs is None else num_graphs
            index = torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        else:
            index = batch
        outputs = []
        for conv in self.convs:
            x = conv(x, batch=batch)
            outputs.append(x)
        local = torch.cat(outputs, dim=1)
        global_feature = self.readout(self.embedding(local), index, num_graphs)
        if self.category_mlp is not None:
            if category is None or category.numel() != num_graphs:
                raise ValueError(f"category must hold one int64 label per cloud ({num_graphs})")
            one_hot = F.one_hot(category, self.num_categories).to(x.dtype)
            global_feature = torch.cat([global_feature, self.category_mlp(one_hot)], dim=1)
        return self.head(torch.cat([global_feature.index_select(0, index), local], dim=1))
