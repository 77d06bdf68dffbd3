"""Reading, labelling, splitting and batching text data; packaged public datasets."""

from albert_tf.data.labels import LabelVocabulary, UnknownLabelError
from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.data.readers import (
    DataError,
    TextDataset,
    read_csv,
    read_jsonl,
    read_table,
    read_tsv,
)
from albert_tf.data.split import split_dataset

__all__ = [
    "DataError",
    "LabelVocabulary",
    "TextDataset",
    "UnknownLabelError",
    "make_tf_dataset",
    "read_csv",
    "read_jsonl",
    "read_table",
    "read_tsv",
    "split_dataset",
]
