"""WordPiece bundles: BertTokenizer metadata, MediaPipe == edge runtime id for id, Android core.

A tiny ALBERT classifier with a BERT WordPiece vocabulary (the tiny BERT
fixture's vocab.txt plus accented, CJK, emoji and "##" tokens) is trained for
a few steps and exported. MediaPipe's TextClassifier tokenizes from the model's
metadata with its own C++ BertTokenizer; our edge runtime tokenizes with
`export.runtime.wordpiece_encoder`. Two references check the runtime's ids: MediaPipe
itself (an "echo" model whose output is its input ids, so MediaPipe's scores
are the ids it packed) and tensorflow-text's RegexSplit + WordpieceTokenizer
kernels configured as MediaPipe's defaults.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.export_helpers import runtime_label_and_loaded
from tests.test_android_core import CORE_PACKAGE, compile_core, needs_jdk, run_java

ROOT = Path(__file__).resolve().parent.parent
BASE_VOCAB = ROOT / "tests" / "fixtures" / "hf" / "bert_tiny" / "vocab.txt"
EXTRA_TOKENS = ["café", "naïve", "é", "##é", "映", "画", "🎬", "##🎬", "x", "##x", "##xx"]
LABELS = ["negative", "positive"]
MAX_LENGTH = 16
_POS = ["charming", "clever", "funny", "good", "great", "lovely", "smart", "sweet"]
_NEG = ["dull", "flat", "lifeless", "mess", "slow", "thin", "uneven", "worse"]
_NOUNS = ["film", "movie", "plot", "script", "story", "cast", "music", "ending"]

# What MediaPipe and the runtime must tokenize alike (one behaviour per line).
EDGE_TEXTS = [
    "The Film is CHARMING, Clever and FUNNY.",  # mixed case (ASCII lower-cased)
    "café, naïve CAFÉ Déjà-vu: élan",  # accents kept, non-ASCII capitals kept
    "dull!!! ...so slow?!?! (flat) -- worse",  # runs of punctuation, one word each
    "映画 is 映画的 good",  # CJK ideographs as single words
    "funny🎬 film 🎬🎬 👍",  # emoji stay inside words
    "x" * 300 + " charming",  # a 300-character word: one [UNK]
    "é" * 51 + " " + "é" * 50,  # 102 vs 100 UTF-8 bytes: the limit is in bytes
    "zyzzyva quixotic flibbertigibbet dull",  # words outside the vocabulary
    " ".join(["charming clever"] * 20),  # longer than max_length: the end is cut
    "good\tfilm\nslow\u00a0plot\u3000music\x0bending",  # only ASCII whitespace splits
    "",  # empty
]


def _vocab() -> list[str]:
    base = [t for t in BASE_VOCAB.read_text(encoding="utf-8").split("\n") if t]
    return base + [t for t in EXTRA_TOKENS if t not in base]


def _corpus() -> tuple[list[str], list[int]]:
    texts, gold = [], []
    for i in range(96):
        label = i % 2
        adj = (_NEG, _POS)[label][(i // 2) % len(_POS)]
        texts.append(f"the {_NOUNS[i % len(_NOUNS)]} is {adj} and so {adj}")
        gold.append(label)
    return texts, gold


def _train_run(folder: Path) -> dict:
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
    from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
    from albert_tf.training.run_folder import save_run

    keras.utils.set_random_seed(20261128)
    tokenizer = WordPieceTokenizer(_vocab(), lower_case=True)
    texts, gold = _corpus()
    config = AlbertConfig.from_preset(
        "tiny", vocab_size=tokenizer.vocab_size, max_position_embeddings=64
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=2, dropout=0.0)
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    batch = dict(tokenizer(texts, max_length=MAX_LENGTH, padding="max_length"))
    model.fit(batch, np.array(gold), epochs=6, batch_size=16, verbose=0)
    train_file = folder / "data" / "train.csv"  # recorded as an absolute path in run.json
    train_file.parent.mkdir(parents=True)
    train_file.write_text(
        "text,label\n" + "".join(f"{t},{LABELS[g]}\n" for t, g in zip(texts, gold))
    )
    run_dir = folder / "wordpiece-run"
    save_run(
        str(run_dir),
        model,
        tokenizer,
        LABELS,
        {"task": "classify", "max_length": MAX_LENGTH, "data": {"train": str(train_file)}},
    )
    texts_file = folder / "heldout.tsv"
    texts_file.write_text("".join(f"{LABELS[g]}\t{t}\n" for t, g in zip(texts, gold)))
    return {"run_dir": run_dir, "texts_file": texts_file, "model": model, "tokenizer": tokenizer}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return _train_run(tmp_path_factory.mktemp("wordpiece"))


def _export(trained, out: Path, **kwargs) -> Path:
    from export import BundleSettings, export_run

    settings = BundleSettings(**{"mode": "float32", "num_verify": 40, **kwargs})
    export_run(
        str(trained["run_dir"]),
        str(out),
        texts_file=str(trained["texts_file"]),
        settings=settings,
        log=lambda message: None,
    )
    return out


@pytest.fixture(scope="module")
def bundle(trained, tmp_path_factory):
    return _export(trained, tmp_path_factory.mktemp("wp-bundle") / "bundle")


def _mediapipe_scores(model_path: Path, texts: list[str], width: int) -> np.ndarray:
    from mediapipe.tasks.python import text as mp_text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = mp_text.TextClassifierOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)), max_results=-1
    )
    out = np.zeros((len(texts), width))
    with mp_text.TextClassifier.create_from_options(options) as classifier:
        for i, text in enumerate(texts):
            for category in classifier.classify(text).classifications[0].categories:
                out[i, category.index] = category.score
    return out


# ----------------------------------------------------------------- the bundle


def test_bundle_holds_vocab_txt_and_bert_tokenizer_metadata(bundle, trained):
    from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb

    from export.metadata import read_associated_files, read_metadata
    from export.runtime import sha256_of

    assert sorted(os.listdir(bundle)) == [
        "labels.txt",
        "manifest.json",
        "model.tflite",
        "vocab.txt",
    ]
    vocab = (bundle / "vocab.txt").read_bytes()
    from albert_tf.training.run_folder import load_run

    run_vocab = load_run(str(trained["run_dir"])).tokenizer.vocab
    assert vocab.decode("utf-8").splitlines() == run_vocab
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["tokenizer"] == {"kind": "wordpiece", "file": "vocab.txt", "lower_case": True}
    assert manifest["files"]["vocab.txt"]["kind"] == "tokenizer"
    assert manifest["files"]["vocab.txt"]["sha256"] == sha256_of(str(bundle / "vocab.txt"))
    model = (bundle / "model.tflite").read_bytes()
    unit = read_metadata(model).subgraphMetadata[0].inputProcessUnits[0]
    assert unit.optionsType == meta_fb.ProcessUnitOptions.BertTokenizerOptions
    (vocab_file,) = unit.options.vocabFile
    assert vocab_file.name.decode() == "vocab.txt"
    assert vocab_file.type == meta_fb.AssociatedFileType.VOCABULARY
    packed = read_associated_files(model)
    assert sorted(packed) == ["labels.txt", "vocab.txt"] and packed["vocab.txt"] == vocab


def test_manifest_records_no_path_of_the_building_machine(bundle, trained):
    manifest = json.loads((bundle / "manifest.json").read_text())

    def strings(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    run_info = json.loads((trained["run_dir"] / "run.json").read_text())
    assert os.path.isabs(run_info["data"]["train"])  # the run folder does record it
    roots = [str(trained["run_dir"].parent), os.path.expanduser("~"), os.getcwd()]
    leaks = [s for s in strings(manifest) if s.startswith("/") or any(r in s for r in roots)]
    assert not leaks
    assert manifest["run"]["name"] == "wordpiece-run" and "path" not in manifest["run"]


def test_verification_passes_and_measures_the_tokenizer_difference(bundle):
    report = json.loads((bundle / "manifest.json").read_text())["verification"]
    assert report["passed"] and report["label_agreement"] >= 0.99
    assert report["mediapipe"]["agreement"] >= 0.99 and report["runtime"]["agreement"] >= 0.99
    # Plain ASCII held-out texts: MediaPipe's tokenization equals the training one.
    assert report["tokenization"] == {"kind": "wordpiece", "texts_with_other_ids": 0, "fraction": 0}


def test_verification_refuses_a_bundle_below_threshold(trained, tmp_path):
    from export import VerificationError

    out = tmp_path / "refused"
    with pytest.raises(VerificationError, match="agreement"):
        _export(trained, out, min_agreement=1.01, use_mediapipe=False, num_verify=10)
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-bundle")]


# ------------------------------------------------------------ runtime vs MediaPipe


def test_mediapipe_and_runtime_give_the_same_probabilities(bundle):
    from export.runtime import Classifier

    ours = Classifier(str(bundle)).predict_proba(EDGE_TEXTS)
    theirs = _mediapipe_scores(bundle / "model.tflite", EDGE_TEXTS, len(LABELS))
    np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)
    # Trained, so the ids move the scores: a tokenization slip could not hide.
    assert ours[:, 1].max() - ours[:, 1].min() > 0.5


def test_runtime_marks_texts_cut_at_max_length(bundle):
    from export.runtime import Classifier

    classifier = Classifier(str(bundle))
    cut = [r["truncated"] for r in classifier.predict(EDGE_TEXTS)]
    assert cut == [classifier.encoder.token_count(t) > MAX_LENGTH for t in EDGE_TEXTS]
    assert cut[8] and not cut[0]


def test_int8_bundle_calibrates_with_wordpiece_ids(trained, tmp_path):
    from export.runtime import Classifier

    out = _export(trained, tmp_path / "int8", mode="int8", force=True, num_verify=20)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["quantization"] == "int8" and manifest["tokenizer"]["kind"] == "wordpiece"
    ours = Classifier(str(out)).predict_proba(EDGE_TEXTS)
    theirs = _mediapipe_scores(out / "model.tflite", EDGE_TEXTS, len(LABELS))
    np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)


# ----------------------------------------------------------- ids, two references

# Beyond EDGE_TEXTS: words that split into "##" pieces, NUL, leading/trailing space.
ID_TEXTS = EDGE_TEXTS + [
    "xxxxxxx charmingly filmed",
    "a\x00hidden after nul",
    "  \r\n spaced out \f ",
    "ab¿cd‽ «quoted» $5 €5 ^~` 100%",
    "ＦＵＬＬ width ｆｉｌｍ",
    "𠀀𪜀丽 rare ideographs",
]


def _echo_model(length: int) -> bytes:
    """A TFLite model whose `probability` is [ids, mask] as floats: through
    MediaPipe's TextClassifier, the scores are the ids MediaPipe packed."""
    import tensorflow as tf

    from export.converter import _rename_io_tensors

    spec = [tf.TensorSpec([1, length], tf.int32, name=n) for n in ("ids", "mask", "segment_ids")]

    class Echo(tf.Module):
        @tf.function(input_signature=spec)
        def serve(self, ids, mask, segment_ids):
            out = tf.concat([ids, mask + 2 * segment_ids], axis=-1)
            return {"probability": tf.cast(out, tf.float32)}

    echo = Echo()
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [echo.serve.get_concrete_function()], echo
    )
    return _rename_io_tensors(converter.convert())


def test_runtime_ids_equal_mediapipes_cpp_bert_tokenizer(tmp_path):
    from export.metadata import add_classifier_metadata
    from export.runtime.wordpiece_encoder import WordPieceEncoder

    length = 40
    vocab = ("\n".join(_vocab()) + "\n").encode("utf-8")
    labels = [f"slot{i}" for i in range(2 * length)]
    model = add_classifier_metadata(_echo_model(length), vocab, labels, tokenizer_kind="wordpiece")
    (tmp_path / "echo.tflite").write_bytes(model)
    scores = _mediapipe_scores(tmp_path / "echo.tflite", ID_TEXTS, 2 * length)
    encoder = WordPieceEncoder(vocab)
    for text, row in zip(ID_TEXTS, scores.astype(np.int64)):
        ids, mask, _ = encoder.encode(text, length, pad_to=length)
        assert (list(ids[0]), list(mask[0])) == (list(row[:length]), list(row[length:])), text


def test_runtime_ids_equal_tensorflow_text_kernels():
    # MediaPipe's BertTokenizer = AsciiStrToLower + RegexSplit + WordpieceTokenize with
    # these defaults (bert_tokenizer.h); tensorflow-text ships the same two kernels.
    import tensorflow as tf
    import tensorflow_text as tf_text

    from export.runtime.wordpiece_encoder import WordPieceEncoder

    cjk = r"\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}"
    cjk += r"\x{2B740}-\x{2B81F}\x{2B820}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}"
    keep = rf"[!-/]|[:-@]|[\[-`]|[{{-~]|[\p{{P}}]|[{cjk}]"
    vocab = _vocab()
    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(vocab, tf.range(len(vocab), dtype=tf.int64)), -1
    )
    wordpiece = tf_text.WordpieceTokenizer(
        table, max_bytes_per_word=100, max_chars_per_token=100, unknown_token="[UNK]"
    )
    encoder = WordPieceEncoder(("\n".join(vocab) + "\n").encode("utf-8"))
    texts = [t.split("\0")[0] for t in ID_TEXTS]  # tf strings keep NUL; MediaPipe stops there
    words = tf_text.regex_split(tf.strings.lower(texts), rf"(\s+|{keep})", f"({keep})")
    reference = wordpiece.tokenize(words).merge_dims(-2, -1).to_list()
    assert [encoder.pieces(t) for t in ID_TEXTS] == reference


def test_vocab_is_read_as_mediapipe_reads_it():
    from export.runtime.wordpiece_encoder import WordPieceEncoder

    # Empty lines take no id, one trailing \r is dropped, a repeated token keeps its last id.
    encoder = WordPieceEncoder(b"[PAD]\r\n\n[UNK]\n[CLS]\n[SEP]\nfilm\nfilm\n##s\n")
    assert encoder.vocab == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "film", "film", "##s"]
    assert encoder.pieces("Films film") == [5, 6, 5]
    with pytest.raises(ValueError, match=r"no \[CLS\]"):
        WordPieceEncoder(b"[UNK]\n[SEP]\n", source="bundle/vocab.txt")


def test_export_refuses_a_vocabulary_mediapipe_would_renumber():
    from albert_tf.tokenizers.wordpiece import SPECIAL_TOKENS, WordPieceTokenizer
    from export.runtime.bundle_tokenizer import run_tokenizer_asset

    tokenizer = WordPieceTokenizer([*SPECIAL_TOKENS, "film", "", "plot"])
    with pytest.raises(ValueError, match="vocab.txt line 7"):
        run_tokenizer_asset(tokenizer)


def test_keras_tokenizer_differs_only_on_non_ascii_case_and_accents(trained):
    # Documented difference (export.runtime.wordpiece_encoder): the training tokenizer folds all
    # case and strips accents; MediaPipe lower-cases ASCII only.
    from export.runtime.wordpiece_encoder import WordPieceEncoder
    from export.verify import tokenization_difference

    encoder = WordPieceEncoder(("\n".join(_vocab()) + "\n").encode("utf-8"))
    plain = ["The FILM is Charming!!", "dull... (flat) movie", "映画 good"]
    accented = ["CAFÉ naïve"]
    diff = tokenization_difference(trained["tokenizer"], encoder, plain + accented, MAX_LENGTH)
    assert diff["texts_with_other_ids"] == 1
    same = tokenization_difference(trained["tokenizer"], encoder, plain, MAX_LENGTH)
    assert same["texts_with_other_ids"] == 0


# ------------------------------------------------------------ runtime loading


def test_wordpiece_runtime_imports_neither_tensorflow_nor_sentencepiece(bundle):
    heavy = ("tensorflow", "keras", "mediapipe", "albert_tf", "sentencepiece")
    label, loaded = runtime_label_and_loaded(bundle, "a charming film", heavy)
    assert label in LABELS and loaded == []


def test_runtime_names_a_missing_vocab_or_unknown_kind(bundle, tmp_path):
    from export.runtime import BundleError, Classifier

    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    os.remove(copy / "vocab.txt")
    with pytest.raises(FileNotFoundError, match="vocab.txt"):
        Classifier(str(copy))
    shutil.copy(bundle / "vocab.txt", copy / "vocab.txt")
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["tokenizer"]["kind"] = "bpe"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleError, match="tokenizer.kind"):
        Classifier(str(copy))


# ------------------------------------------------------------------ Java core


@pytest.fixture(scope="module")
def core_classes(tmp_path_factory):
    return compile_core(tmp_path_factory.mktemp("wp-core"), with_tests=False)


@needs_jdk
def test_java_core_accepts_the_wordpiece_bundle(bundle, core_classes):
    proc = run_java(core_classes, f"{CORE_PACKAGE}.BundleInspector", str(bundle))
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert (seen["tokenizer_kind"], seen["tokenizer_file"]) == ("wordpiece", "vocab.txt")
    assert sorted(seen["sha256_checked"]) == ["labels.txt", "model.tflite", "vocab.txt"]


@needs_jdk
def test_java_core_rejects_a_missing_or_changed_vocab(bundle, core_classes, tmp_path):
    missing = tmp_path / "missing"
    shutil.copytree(bundle, missing)
    os.remove(missing / "vocab.txt")
    proc = run_java(core_classes, f"{CORE_PACKAGE}.BundleInspector", str(missing))
    assert proc.returncode == 2 and "vocab.txt" in proc.stderr and "missing" in proc.stderr

    changed = tmp_path / "changed"
    shutil.copytree(bundle, changed)
    with open(changed / "vocab.txt", "a", encoding="utf-8") as f:
        f.write("extra\n")
    proc = run_java(core_classes, f"{CORE_PACKAGE}.BundleInspector", str(changed))
    assert proc.returncode == 2 and "vocab.txt" in proc.stderr and "sha256" in proc.stderr
