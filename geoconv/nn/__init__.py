"""Layers (one per file).  Layers take tensors; models in :mod:`geoconv.models` take a Graph/Batch."""

from geoconv.nn.gcn_conv import GCNConv

__all__ = ["GCNConv"]

from geoconv.nn.so2_convolution import SO2Convolution  # noqa: E402
from geoconv.nn.escn_conv import ESCNConv, FrameGate  # noqa: E402

__all__ += ["SO2Convolution", "ESCNConv", "FrameGate"]

from geoconv.nn.edge_conv import EdgeConv  # noqa: E402
from geoconv.nn.dynamic_edge_conv import DynamicEdgeConv  # noqa: E402

__all__ += ["EdgeConv", "DynamicEdgeConv"]

from geoconv.nn.sheaf_learner import SheafLearner  # noqa: E402
from geoconv.nn.sheaf_diffusion import SheafDiffusion  # noqa: E402
from geoconv.nn.sheaf_conv import SheafConv  # noqa: E402
# The model classes live in geoconv.models; they are re-exported here by name.
from geoconv.models.sheaf_diffusion import (  # noqa: E402
    BundleSheafDiffusion, DiagSheafDiffusion, GeneralSheafDiffusion,
)

__all__ += ["SheafLearner", "SheafDiffusion", "SheafConv",
            "DiagSheafDiffusion", "BundleSheafDiffusion", "GeneralSheafDiffusion"]

from geoconv.nn.neural_fingerprint import NeuralFingerprint  # noqa: E402
from geoconv.nn.weave_conv import WeaveConv  # noqa: E402
from geoconv.nn.atom_bond_encoder import AtomEncoder, BondEncoder, CategoricalEncoder  # noqa: E402
from geoconv.nn.bond_gcn_conv import BondGCNConv  # noqa: E402

__all__ += ["NeuralFingerprint", "WeaveConv", "AtomEncoder", "BondEncoder", "CategoricalEncoder", "BondGCNConv"]

from geoconv.nn.mesh_conv import MeshConv  # noqa: E402
from geoconv.nn.mesh_pool import MeshPool  # noqa: E402
from geoconv.nn.mesh_unpool import MeshUnpool  # noqa: E402

__all__ += ["MeshConv", "MeshPool", "MeshUnpool"]

from geoconv.nn.sage_conv import SAGEConv  # noqa: E402

__all__ += ["SAGEConv"]
