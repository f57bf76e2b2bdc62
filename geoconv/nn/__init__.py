"""Layers (one per file).  Layers take tensors; models in :mod:`geoconv.models` take a Graph/Batch.

This package imports only :mod:`geoconv.ops` (and :mod:`geoconv.data` for types): never a model or a dataset.
"""

from geoconv.nn.gcn_conv import GCNConv
from geoconv.nn.global_pool import GlobalPool

__all__ = ["GCNConv", "GlobalPool"]

from geoconv.nn.so2_convolution import SO2Convolution  # noqa: E402
from geoconv.nn.escn_conv import ESCNConv, FrameGate  # noqa: E402
from geoconv.nn.degree_linear import DegreeLinear  # noqa: E402
from geoconv.nn.degree_norm import DegreeNorm  # noqa: E402
from geoconv.nn.node_feed_forward import NodeFeedForward  # noqa: E402

__all__ += ["SO2Convolution", "ESCNConv", "FrameGate", "DegreeLinear", "DegreeNorm", "NodeFeedForward"]

from geoconv.nn.edge_conv import EdgeConv, LinearEdgeBlock  # noqa: E402
from geoconv.nn.dynamic_edge_conv import DynamicEdgeConv  # noqa: E402

__all__ += ["EdgeConv", "DynamicEdgeConv", "LinearEdgeBlock"]

from geoconv.nn.sheaf_learner import SheafLearner  # noqa: E402
from geoconv.nn.sheaf_conv import SheafConv  # noqa: E402

__all__ += ["SheafLearner", "SheafConv"]

from geoconv.nn.neural_fingerprint import NeuralFingerprint  # noqa: E402
from geoconv.nn.weave_conv import WeaveConv  # noqa: E402
from geoconv.nn.atom_bond_encoder import AtomEncoder, BondEncoder, CategoricalEncoder  # noqa: E402
from geoconv.nn.bond_gcn_conv import BondGCNConv  # noqa: E402

__all__ += ["NeuralFingerprint", "WeaveConv", "AtomEncoder", "BondEncoder", "CategoricalEncoder", "BondGCNConv"]

from geoconv.nn.mesh_conv import MeshConv  # noqa: E402
from geoconv.nn.mesh_norm import MeshNorm  # noqa: E402
from geoconv.nn.mesh_res_block import MeshResBlock  # noqa: E402
from geoconv.nn.mesh_pool import MeshPool  # noqa: E402
from geoconv.nn.mesh_unpool import MeshUnpool  # noqa: E402

__all__ += ["MeshConv", "MeshNorm", "MeshResBlock", "MeshPool", "MeshUnpool"]

from geoconv.nn.sage_conv import SAGEConv  # noqa: E402

__all__ += ["SAGEConv"]

from geoconv.nn.so2_bottleneck_convolution import SO2BottleneckConvolution  # noqa: E402
from geoconv.nn.grid_escn_conv import GridESCNConv  # noqa: E402
from geoconv.nn.sphere_grid_mlp import SphereGridMLP  # noqa: E402

__all__ += ["SO2BottleneckConvolution", "GridESCNConv", "SphereGridMLP"]
