"""Functional ops: pure functions without parameters.

``ops`` imports nothing else from geoconv, so that every family can use it.
"""

from geoconv.ops.scatter import REDUCTIONS, scatter, segment, softmax, use_torch_scatter
from geoconv.ops.structure import (
    add_remaining_self_loops,
    add_self_loops,
    check_edge_index,
    coalesce,
    degree,
    induced_subgraph_mask,
    is_undirected,
    remove_self_loops,
    to_undirected,
)
from geoconv.ops.normalization import gcn_norm
from geoconv.ops.sparse import SparseAdjacency, spmm
from geoconv.ops.message_passing import gather, propagate
from geoconv.ops.dropout import dropout
from geoconv.ops.pool import global_pool

__all__ = [
    "REDUCTIONS", "scatter", "segment", "softmax", "use_torch_scatter",
    "add_remaining_self_loops", "add_self_loops", "check_edge_index", "coalesce", "degree",
    "induced_subgraph_mask", "is_undirected", "remove_self_loops", "to_undirected",
    "gcn_norm", "SparseAdjacency", "spmm", "gather", "propagate", "dropout", "global_pool",
]

from geoconv.ops.so3 import (  # noqa: E402
    EdgeFrame, edge_frame, frame_layout, spherical_harmonics, wigner_D, wigner_D_from_matrix,
)
from geoconv.ops.radial import cosine_cutoff, gaussian_basis  # noqa: E402
from geoconv.ops.sphere_grid import (  # noqa: E402
    escn_grid_resolution, sphere_grid_matrices, spiral_points, spiral_sampling_matrix,
)

__all__ += [
    "EdgeFrame", "edge_frame", "frame_layout", "spherical_harmonics", "wigner_D", "wigner_D_from_matrix",
    "cosine_cutoff", "gaussian_basis",
    "escn_grid_resolution", "sphere_grid_matrices", "spiral_points", "spiral_sampling_matrix",
]

from geoconv.ops.sheaf import (  # noqa: E402
    SheafLaplacian, append_fixed_stalk_dims, cayley_orthogonal, dense_sheaf_laplacian, householder_orthogonal,
    normalize_sheaf_laplacian, reverse_edge_pairing, sheaf_laplacian, sheaf_laplacian_matmul,
    sheaf_laplacian_to_dense, symmetrize_sheaf,
)

__all__ += [
    "SheafLaplacian", "append_fixed_stalk_dims", "cayley_orthogonal", "dense_sheaf_laplacian",
    "householder_orthogonal", "normalize_sheaf_laplacian", "reverse_edge_pairing", "sheaf_laplacian",
    "sheaf_laplacian_matmul", "sheaf_laplacian_to_dense", "symmetrize_sheaf",
]

from geoconv.ops.sampling import csr_from_edge_index, induced_edges, random_walk, sample_from_cdf  # noqa: E402

__all__ += ["csr_from_edge_index", "induced_edges", "random_walk", "sample_from_cdf"]

from geoconv.ops.mesh import (  # noqa: E402
    MeshFormatError, MeshRepairWarning, MeshTopology, MeshTopologyError, check_mesh, euler_characteristic, mesh_edge_features, mesh_topology, repair_mesh,
)
from geoconv.ops.mesh_collapse import MeshPoolError, MeshPoolResult, mesh_pool, mesh_unpool  # noqa: E402

__all__ += [
    "MeshFormatError", "MeshRepairWarning", "MeshTopology", "MeshTopologyError", "check_mesh", "euler_characteristic", "mesh_edge_features", "mesh_topology",
    "repair_mesh", "MeshPoolError", "MeshPoolResult", "mesh_pool", "mesh_unpool",
]
