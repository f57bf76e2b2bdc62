"""Models built from :mod:`geoconv.nn` layers; they take a :class:`~geoconv.data.Graph` or Batch."""

from geoconv.models.gcn import GCN

__all__ = ["GCN"]

from geoconv.models.escn import ESCN  # noqa: E402
from geoconv.models.grid_escn import GridESCN  # noqa: E402

__all__ += ["ESCN", "GridESCN"]

from geoconv.models.sheaf_diffusion import (  # noqa: E402
    BundleSheafDiffusion, DiagSheafDiffusion, GeneralSheafDiffusion, SheafDiffusion,
)

__all__ += ["SheafDiffusion", "DiagSheafDiffusion", "BundleSheafDiffusion", "GeneralSheafDiffusion"]

from geoconv.models.molecule import FingerprintMLP, NeuralFingerprintNet, OGBMolGNN  # noqa: E402

__all__ += ["FingerprintMLP", "NeuralFingerprintNet", "OGBMolGNN"]

from geoconv.models.dgcnn import DGCNN, DGCNNSegmentation  # noqa: E402

__all__ += ["DGCNN", "DGCNNSegmentation"]

from geoconv.models.meshcnn import MeshCNNClassifier, MeshCNNSegmenter  # noqa: E402

__all__ += ["MeshCNNClassifier", "MeshCNNSegmenter"]
