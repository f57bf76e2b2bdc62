"""A DataLoader that collates :class:`Graph` objects into a :class:`Batch`."""

from __future__ import annotations

from typing import Any

import torch.utils.data

from geoconv.data.batch import collate


class DataLoader(torch.utils.data.DataLoader):
    """:class:`torch.utils.data.DataLoader` whose batches are :class:`Batch` objects.

    Accepts every argument of the torch DataLoader (``num_workers``,
    ``sampler``, ``pin_memory``, ...); only ``collate_fn`` is fixed.
    """

    def __init__(self, dataset: Any, batch_size: int = 1, shuffle: bool = False, **kwargs: Any) -> None:
        if "collate_fn" in kwargs:
            raise TypeError("geoconv.data.DataLoader sets collate_fn itself; use torch.utils.data.DataLoader for a custom one")
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, collate_fn=collate, **kwargs)
