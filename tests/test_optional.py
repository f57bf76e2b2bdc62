import subprocess
import sys

import pytest

from geoconv._optional import available, require


def test_require_names_the_extra():
    with pytest.raises(ImportError, match=r"pip install 'geoconv\[chem\]'"):
        require("rdkit.does_not_exist_module", "featurisation")
    assert require("torch").__name__ == "torch"
    assert available("torch") and not available("geoconv_no_such_package")


def test_require_torch_scatter_names_its_extra_or_imports_it():
    # torch_scatter builds from source, so CI does not install it; where geoconv[scatter] is
    # installed the import must work, and where it is not the message must name the extra.
    if available("torch_scatter"):
        assert require("torch_scatter").__name__ == "torch_scatter"
    else:
        with pytest.raises(ImportError, match=r"optional package 'torch_scatter'.*geoconv\[scatter\]"):
            require("torch_scatter")


def test_import_geoconv_with_only_torch_and_numpy():
    # Block every optional package, then import geoconv and its core modules.
    code = """
import sys
blocked = ['torch_geometric', 'rdkit', 'e3nn', 'trimesh', 'ogb', 'networkx', 'scipy', 'tqdm', 'matplotlib', 'h5py', 'pandas']
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in blocked:
            raise ImportError('blocked ' + name)
        return None
sys.meta_path.insert(0, Blocker())
import geoconv, geoconv.data, geoconv.ops, geoconv.nn, geoconv.models, geoconv.datasets
from geoconv.data import to_pyg, Graph
import torch
try:
    to_pyg(Graph(x=torch.zeros(1, 1)))
except ImportError as error:
    print('IMPORT-ERROR:', error)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "IMPORT-ERROR:" in result.stdout and "geoconv[pyg]" in result.stdout
