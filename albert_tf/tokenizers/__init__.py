"""Tokenizers: ALBERT's SentencePiece and BERT's WordPiece, behind one interface
(`__call__`, `pack`, `encode`, `decode`, `save`), with the long-text cut and pair
packing the models were trained on."""

from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

__all__ = ["AlbertTokenizer", "WordPieceTokenizer"]
