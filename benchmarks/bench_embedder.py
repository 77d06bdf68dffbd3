"""How much of the teacher a distilled sentence embedder keeps (issue 31).

For a finished `albert-tf train --task embed` run and its exported bundle:

- similarity: Spearman correlation of cosine similarities with the human
  scores of the Lee corpus (50 news documents, 1,225 pairs; gensim 4.3.3's test
  data, LGPL-2.1; Lee, Pincombe & Welsh 2005), for the teacher (all-MiniLM-L6-v2
  in Keras, at the run's max_length and at 256, its own limit), the student in
  Keras, and the bundle on the edge runtime;
- retrieval: TREC questions never trained on (the packaged `trec` set's
  validation split as the corpus, its test split as the queries): recall@10 of
  the bundle's top 10 against the teacher's own top 10;
- size: the bundle's model.tflite and tokenizer, against the teacher's float32
  parameters.

Example:
    python -m benchmarks.bench_embedder --run runs/embed --bundle runs/embed-bundle
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

RESULT = os.path.join(os.path.dirname(__file__), "results", "embedder.json")


def recall_at_k(reference: np.ndarray, candidate: np.ndarray, queries: np.ndarray, k: int):
    """Mean share of each query's top k by `reference` vectors found in the top k by
    `candidate` vectors (rows of each: [queries..., corpus...] split by `queries`)."""
    from export.runtime.embedder import cosine_top_k

    ref_q, ref_c = reference[: len(queries)], reference[len(queries) :]
    can_q, can_c = candidate[: len(queries)], candidate[len(queries) :]
    hits = []
    for i in range(len(queries)):
        want = set(cosine_top_k(ref_q[i], ref_c, k)[0].tolist())
        got = set(cosine_top_k(can_q[i], can_c, k)[0].tolist())
        hits.append(len(want & got) / k)
    return float(np.mean(hits))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", required=True)
    p.add_argument("--bundle", required=True)
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--out", default=RESULT)
    args = p.parse_args(argv)

    from albert_tf.io.quiet_tensorflow import import_tensorflow

    import_tensorflow()
    from albert_tf.convert import load_minilm
    from albert_tf.convert.packaged import minilm_tokenizer
    from albert_tf.data import packaged
    from albert_tf.data.packaged_similarity import load_lee
    from albert_tf.distillation.embedder import teacher_embedder
    from albert_tf.distillation.embedder_run import similarity_spearman
    from albert_tf.training.run_folder import RunFolder
    from export.runtime.embedder import Embedder

    folder = RunFolder(args.run)
    info, student = folder.read_info(), folder.read_model()
    length = int(info["max_length"])
    teacher_backbone, tokenizer = load_minilm(), minilm_tokenizer()
    teacher = teacher_embedder(teacher_backbone, tokenizer, length)
    teacher_256 = teacher_embedder(teacher_backbone, tokenizer, 256)
    bundle = Embedder(args.bundle, num_threads=2)
    lee = load_lee()
    start = time.time()
    similarity = {
        "teacher_keras": similarity_spearman(teacher.embed, lee),
        "teacher_keras_256": similarity_spearman(teacher_256.embed, lee),
        "student_keras": similarity_spearman(student.embed, lee),
        "bundle_runtime": similarity_spearman(bundle.embed, lee),
    }
    similarity["bundle_share_of_teacher"] = (
        similarity["bundle_runtime"] / similarity["teacher_keras"]
    )
    trec = packaged.load("trec")
    queries = trec.test.texts[: args.queries]
    texts = list(queries) + list(trec.validation.texts)
    recall = recall_at_k(teacher.embed(texts), bundle.embed(texts), np.arange(len(queries)), 10)
    manifest = bundle.manifest
    sizes = {name: entry["bytes"] for name, entry in manifest["files"].items()}
    result = {
        "run": os.path.basename(os.path.abspath(args.run)),
        "max_length": length,
        "similarity_lee_spearman": similarity,
        "lee": {"pairs": len(lee.pairs), "source": lee.source, "license": lee.license},
        "retrieval_trec": {
            "queries": len(queries),
            "corpus": len(texts) - len(queries),
            "recall_at_10_vs_teacher": recall,
            "source": trec.source,
        },
        "bundle": {
            "quantization": manifest["quantization"],
            "bytes": sizes,
            "total_bytes": sum(sizes.values()),
        },
        "parameters": {
            "student": info["parameters"],
            "teacher": int(teacher_backbone.count_params()),
        },
        "teacher_float32_bytes": int(teacher_backbone.count_params()) * 4,
        "training": {
            "epochs": info["settings"]["epochs"],
            "learning_rate": info["settings"]["learning_rate"],
            "user_texts": info.get("user_texts"),
            "generic_texts": (info.get("generic_texts") or {}).get("count"),
            "train_cosine": info["metrics"]["train"]["cosine_first_500"],
        },
        "seconds": round(time.time() - start, 1),
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
