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
from geoconv.nn.dynamic_edge_conv import DynamicEdgeConv
from geoconv.ops import scatter


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


def _inputs(graph: Graph, features: Sequence[str]) -> Tensor:
    missing = [name for name in features if name not in graph]
    if missing:
        raise ValueError(f"the graph has no node tensor {missing[0]!r} (DGCNN input features {tuple(features)})")
    parts = [getattr(graph, name) for name in features]
    return torch.cat([p.view(p.shape[0], -1) for p in parts], dim=1)


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
        num_classes: ``K``.
        k: neighbours (self included, 20 in the paper).
        channels: widths of the EdgeConv layers (paper: 64, 64, 128, 256).
        embedding_dim: point-wise embedding before pooling (paper: 1024).
        head: hidden widths of the classifier MLP (paper: 512, 256).
        dropout: dropout in the head (paper: 0.5).
        features: node tensors concatenated as input by :meth:`forward` (default ``("pos",)``;
            ``("pos", "normal")`` with ``in_channels=6`` adds normals).

    Shapes:
        graph: a Graph/Batch of ``G`` clouds; output: ``[G, K]`` logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_classes: int = 40,
        *,
        k: int = 20,
        channels: Sequence[int] = (64, 64, 128, 256),
        embedding_dim: int = 1024,
        head: Sequence[int] = (512, 256),
        dropout: float = 0.5,
        features: Sequence[str] = ("pos",),
    ) -> None:
        super().__init__()
        self.k = k
        self.features = tuple(features)
        widths = [in_channels, *channels]
        self.convs = nn.ModuleList(
            DynamicEdgeConv(point_mlp([2 * a, b]), k) for a, b in zip(widths[:-1], widths[1:])
        )
        self.embedding = point_mlp([sum(channels), embedding_dim])
        sizes = [2 * embedding_dim, *head]
        # As in the reference code, the first head layer has no bias and the later ones do.
        self.head = nn.Sequential(*(
            point_mlp(sizes[i:i + 2], dropout=dropout, bias=i > 0) for i in range(len(head))
        ))
        self.classifier = nn.Linear(head[-1] if head else 2 * embedding_dim, num_classes)

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, graph: Graph) -> Tensor:
        return self.forward_tensors(_inputs(graph, self.features), graph.batch, graph.num_graphs)

    def forward_tensors(self, x: Tensor, batch: Tensor | None, num_graphs: int = 1) -> Tensor:
        """The model on raw tensors: ``x [N, C]``, sorted ``batch [N]`` (None: one cloud)."""
        embedding = self.point_embedding(x, batch)
        index = batch if batch is not None else torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        pooled = torch.cat([
            scatter(embedding, index, 0, num_graphs, "max"),
            scatter(embedding, index, 0, num_graphs, "mean"),
        ], dim=1)
        return self.classifier(self.head(pooled))

    def point_embedding(self, x: Tensor, batch: Tensor | None) -> Tensor:
        """``[N, embedding_dim]`` per-point features before pooling."""
        outputs = []
        for conv in self.convs:
            x = conv(x, batch)
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
        num_parts: part classes (50 for ShapeNetPart).
        num_categories: object categories (16 for ShapeNetPart); 0 disables the category input.
        k: neighbours (self included).
        embedding_dim: global feature size.
        dropout: head dropout.
        features: node tensors used as input (default ``("pos",)``).
        category: name of the graph-level int64 tensor holding each cloud's category.

    Shapes:
        graph: Graph/Batch with ``N`` points; output ``[N, num_parts]`` logits.
    """

    def __init__(
        self,
        in_channels: int = 3,
        num_parts: int = 50,
        num_categories: int = 16,
        *,
        k: int = 40,
        embedding_dim: int = 1024,
        dropout: float = 0.5,
        features: Sequence[str] = ("pos",),
        category: str = "category",
    ) -> None:
        super().__init__()
        self.k = k
        self.features = tuple(features)
        self.category = category
        self.num_categories = num_categories
        self.convs = nn.ModuleList([
            DynamicEdgeConv(point_mlp([2 * in_channels, 64, 64]), k),
            DynamicEdgeConv(point_mlp([2 * 64, 64, 64]), k),
            DynamicEdgeConv(point_mlp([2 * 64, 64]), k),
        ])
        self.embedding = point_mlp([3 * 64, embedding_dim])
        self.category_mlp = point_mlp([num_categories, 64]) if num_categories else None
        global_dim = embedding_dim + (64 if num_categories else 0)
        self.head = nn.Sequential(
            point_mlp([global_dim + 3 * 64, 256], dropout=dropout),
            point_mlp([256, 256], dropout=dropout),
            point_mlp([256, 128]),
            nn.Linear(128, num_parts, bias=False),
        )

    def reset_parameters(self) -> None:
        for module in self.modules():
            if module is not self and hasattr(module, "reset_parameters"):
                module.reset_parameters()

    def forward(self, graph: Graph) -> Tensor:
        category = None
        if self.num_categories:
            if self.category not in graph:
                raise ValueError(f"the graph has no graph-level tensor {self.category!r} (object category)")
            category = getattr(graph, self.category).view(-1)
        return self.forward_tensors(_inputs(graph, self.features), graph.batch, graph.num_graphs, category)

    def forward_tensors(
        self, x: Tensor, batch: Tensor | None, num_graphs: int = 1, category: Tensor | None = None
    ) -> Tensor:
        """Raw tensors: ``x [N, C]``, sorted ``batch [N]``, ``category [G]`` int64."""
        index = batch if batch is not None else torch.zeros(x.shape[0], dtype=torch.long, device=x.device)
        outputs = []
        for conv in self.convs:
            x = conv(x, batch)
            outputs.append(x)
        local = torch.cat(outputs, dim=1)
        global_feature = scatter(self.embedding(local), index, 0, num_graphs, "max")
        if self.category_mlp is not None:
            if category is None or category.numel() != num_graphs:
                raise ValueError(f"category must hold one int64 label per cloud ({num_graphs})")
            one_hot = F.one_hot(category, self.num_categories).to(x.dtype)
            global_feature = torch.cat([global_feature, self.category_mlp(one_hot)], dim=1)
        return self.head(torch.cat([global_feature.index_select(0, index), local], dim=1))
