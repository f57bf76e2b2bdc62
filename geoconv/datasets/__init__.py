"""Dataset loaders: download from the canonical source, verify sha256, cache, or read a local copy.

The data root is the ``root`` argument, else ``$GEOCONV_DATA``, else
``~/.cache/geoconv``; see :mod:`geoconv.datasets.base`.
"""

from geoconv.datasets.base import (
    DatasetError,
    GraphDataset,
    RemoteFile,
    cache_dir,
    cached,
    data_root,
    download,
    fetch,
    fetch_all,
    locate,
    open_file,
    read_bytes,
    read_text,
    verify,
)
from geoconv.datasets.planetoid import Planetoid
from geoconv.datasets.heterophilous import HeterophilousGraph
from geoconv.datasets.geom_gcn import GeomGCNGraph

__all__ = [
    "DatasetError", "GraphDataset", "RemoteFile", "cache_dir", "cached", "data_root", "download", "fetch",
    "fetch_all", "locate", "open_file", "read_bytes", "read_text", "verify", "Planetoid",
    "HeterophilousGraph", "GeomGCNGraph",
]

from geoconv.datasets.moleculenet import MoleculeNet  # noqa: E402
from geoconv.datasets.ogb_mol import OGBMolDataset  # noqa: E402

__all__ += ["MoleculeNet", "OGBMolDataset"]

from geoconv.datasets.qm9 import QM9  # noqa: E402

__all__ += ["QM9"]

from geoconv.datasets.linkx import Facebook100, Twitch  # noqa: E402
from geoconv.datasets.snap import SNAPGraph  # noqa: E402

__all__ += ["Facebook100", "Twitch", "SNAPGraph"]

from geoconv.datasets.modelnet import ModelNet, ModelNetHDF5  # noqa: E402
from geoconv.datasets.shapenet_part import ShapeNetPart  # noqa: E402
from geoconv.datasets.sampled_shapes import SampledShapes  # noqa: E402

__all__ += ["ModelNet", "ModelNetHDF5", "ShapeNetPart", "SampledShapes"]

from geoconv.datasets.mesh_datasets import MeshClassificationDataset, MeshSegmentationDataset  # noqa: E402

__all__ += ["MeshClassificationDataset", "MeshSegmentationDataset"]

from geoconv.datasets.ogb_node import OGBNodeDataset  # noqa: E402

__all__ += ["OGBNodeDataset"]
