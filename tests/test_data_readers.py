"""Readers (CSV/TSV/JSONL), label vocabulary, splits and the tf.data pipeline,
including the documented handling of bad input."""

import json
import os
from collections import Counter

import numpy as np
import pytest

from albert_tf import AlbertTokenizer
from albert_tf.data import (
    DataError,
    LabelVocabulary,
    TextDataset,
    UnknownLabelError,
    make_tf_dataset,
    read_csv,
    read_jsonl,
    read_table,
    read_tsv,
    split_dataset,
)
from albert_tf.training.run_folder import read_labels

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(FIXTURE)


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path


def test_csv_with_pairs_quotes_and_line_numbers(tmp_path):
    path = _write(
        tmp_path / "train.csv",
        'id,question,context,label\n1,"Is it good, really?",It is.,pos\n'
        '2,"A ""quoted""\nmultiline",ctx,neg\n\n3,plain,more,pos\n',
    )
    ds = read_csv(path, text_column="question", label_column="label", pair_column="context")
    assert ds.texts == ["Is it good, really?", 'A "quoted"\nmultiline', "plain"]
    assert ds.pairs == ["It is.", "ctx", "more"]
    assert ds.labels == ["pos", "neg", "pos"]
    assert ds.rows == [2, 3, 6]
    assert ds.source == "train.csv"


def test_tsv_keeps_quotes_and_read_table_dispatches(tmp_path):
    path = _write(tmp_path / "a.tsv", "text\tlabel\nhe said \"no\" twice\tneg\n''ok''\tpos\n")
    ds = read_tsv(path)
    assert ds.texts == ['he said "no" twice', "''ok''"]
    assert read_table(path).texts == ds.texts
    jpath = _write(
        tmp_path / "a.jsonl", '{"text": "x", "label": 1}\n\n{"text": "y", "label": 0.0}\n'
    )
    assert read_table(jpath).labels == ["1", "0"]
    with pytest.raises(DataError, match="unknown file type '.xlsx'"):
        read_table(tmp_path / "a.xlsx")


def test_jsonl_multi_label_and_unlabelled(tmp_path):
    path = _write(
        tmp_path / "m.jsonl",
        "\n".join(json.dumps(r) for r in [{"t": "a", "tags": ["x", "y"]}, {"t": "b", "tags": []}]),
    )
    ds = read_jsonl(path, text_column="t", label_column="tags")
    assert ds.labels == [["x", "y"], []]
    vocab = LabelVocabulary.from_labels(ds.labels)
    np.testing.assert_array_equal(vocab.encode_dataset(ds), [[1, 1], [0, 0]])
    assert read_jsonl(path, text_column="t", label_column=None).labels is None
    cpath = _write(tmp_path / "m.csv", "text,tags\na,x|y\nb,y\n")
    assert read_csv(cpath, label_column="tags", label_separator="|").labels == [["x", "y"], ["y"]]


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.csv", "", "empty.csv is empty"),
        ("blank.csv", "\n \n", "blank.csv is empty"),
        ("header.csv", "text,label\n", "has a header but no data rows"),
        ("empty.jsonl", "", "empty.jsonl is empty"),
    ],
)
def test_empty_files_are_errors(tmp_path, name, content, message):
    with pytest.raises(DataError, match=message):
        read_table(_write(tmp_path / name, content))


def test_missing_column_lists_the_columns(tmp_path):
    path = _write(tmp_path / "d.csv", "sentence,sentiment\nfine,pos\n")
    with pytest.raises(
        DataError, match=r"d.csv has no text column 'text' \(columns: 'sentence', 'sentiment'\)"
    ):
        read_csv(path)
    with pytest.raises(DataError, match="has no label column 'label'"):
        read_csv(path, text_column="sentence")
    jpath = _write(tmp_path / "d.jsonl", '{"text": "a", "label": "x"}\n{"text": "b"}\n')
    with pytest.raises(
        DataError, match=r"line 2 of .*d.jsonl has no label field 'label' \(fields: 'text'\)"
    ):
        read_jsonl(jpath)


def test_non_utf8_bytes_name_file_offset_and_line(tmp_path):
    raw = b"text,label\ngood,pos\ncost \xa315m,neg\n"
    path = _write(tmp_path / "latin1.csv", raw)
    with pytest.raises(DataError, match=r"latin1.csv: byte 25 \(line 3, value 0xa3\) is not UTF-8"):
        read_csv(path)
    with pytest.raises(DataError, match="pass --encoding-errors replace"):
        read_csv(path)
    with pytest.warns(UserWarning, match="replaced 1 undecodable bytes"):
        ds = read_csv(path, encoding_errors="replace")
    assert ds.texts[1] == "cost \ufffd15m" and ds.replaced_chars == 1


def test_a_repeated_column_name_is_refused(tmp_path):
    path = _write(tmp_path / "dup.csv", "text,text,label\na,b,pos\n")
    with pytest.raises(DataError) as caught:
        read_csv(path)
    assert str(caught.value) == (
        f"line 1 of {path}: column 'text' appears 2 times (columns 1, 2); "
        "give each column its own name"
    )


def test_empty_text_rows_are_skipped_and_counted(tmp_path):
    path = _write(tmp_path / "e.csv", "text,label\nfine,pos\n,neg\n   ,pos\nok,neg\n")
    with pytest.warns(
        UserWarning, match=r"e.csv: skipped 2 rows with an empty text \(lines 3, 4\)"
    ):
        ds = read_csv(path)
    assert ds.texts == ["fine", "ok"] and ds.skipped_empty == 2 and ds.rows == [2, 5]
    with pytest.raises(DataError, match="line 3 of e2.csv: the label is empty"):
        read_csv(_write(tmp_path / "e2.csv", "text,label\na,pos\nb,\n"))


def test_malformed_lines_are_named(tmp_path):
    jpath = _write(tmp_path / "bad.jsonl", '{"text": "a", "label": "x"}\n{"text": "b", label: 1}\n')
    with pytest.raises(DataError, match="line 2 of .*bad.jsonl is not valid JSON"):
        read_jsonl(jpath)
    with pytest.raises(DataError, match="line 1 of .*list.jsonl is a JSON list"):
        read_jsonl(_write(tmp_path / "list.jsonl", '["a", "b"]\n'))
    cpath = _write(tmp_path / "bad.csv", "text,label\na,pos\nb, c,neg\n")
    with pytest.raises(DataError, match="line 3 of .*bad.csv has 3 fields but the header has 2"):
        read_csv(cpath)


def test_one_megabyte_text_in_a_csv_is_read_and_truncated(tmp_path, tok):
    big = "a fine film " * 90_000
    path = _write(tmp_path / "big.csv", f'text,label\n"{big}",pos\nshort,neg\n')
    ds = read_csv(path)
    assert len(ds.texts[0]) == len(big)
    out = tok(ds.texts, max_length=32)
    assert out["token_ids"].shape == (2, 32) and out["padding_mask"][0].all()


def test_label_vocabulary_roundtrip_and_unseen_label(tmp_path):
    vocab = LabelVocabulary.from_labels(["pos", "neg", "pos"])
    assert vocab.names == ["neg", "pos"]
    assert LabelVocabulary.from_labels(["10", "2", "1"]).names == ["1", "2", "10"]
    path = vocab.save(tmp_path)
    assert read_labels(path) == ["neg", "pos"]  # the run-folder reader
    assert LabelVocabulary.load(tmp_path) == vocab
    assert vocab.decode(vocab.encode(["pos", "neg"])) == ["pos", "neg"]
    rows = "".join(f"text {i},{'pos' if i % 2 else 'neg'}\n" for i in range(15))
    test_csv = _write(tmp_path / "test.csv", "text,label\n" + rows + "odd one,neutral\nx,mixed\n")
    test = read_csv(test_csv)
    with pytest.raises(UnknownLabelError) as err:
        vocab.encode_dataset(test)
    assert str(err.value) == (
        "line 17 of test.csv: label 'neutral' not seen in training (known: neg, pos); "
        "1 more rows have unseen labels ('mixed')"
    )


def test_split_is_deterministic_stratified_and_complete():
    labels = ["a"] * 80 + ["b"] * 20
    ds = TextDataset([f"t{i}" for i in range(100)], labels)
    train, val, test = split_dataset(ds, (0.8, 0.1, 0.1), seed=3)
    again = split_dataset(ds, (0.8, 0.1, 0.1), seed=3)
    assert [p.texts for p in again] == [train.texts, val.texts, test.texts]
    assert split_dataset(ds, seed=4)[0].texts != train.texts
    assert sorted(train.texts + val.texts + test.texts) == sorted(ds.texts)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert Counter(val.labels) == Counter(test.labels) == {"a": 8, "b": 2}
    with pytest.raises(ValueError, match="summing to 1"):
        split_dataset(ds, (0.8, 0.3))


def test_pipeline_batches_match_the_tokenizer(tok):
    texts = ["a fine film", "dull", "an utterly forgettable and overlong mess of a movie", ""]
    ds = TextDataset(texts, ["pos", "neg", "neg", "pos"])
    vocab = LabelVocabulary.from_labels(ds.labels)
    batches = list(make_tf_dataset(ds, tok, vocab, batch_size=2, max_length=16))
    for b, (x, y) in enumerate(batches):
        want = tok(texts[2 * b : 2 * b + 2], max_length=16)
        for key in want:
            np.testing.assert_array_equal(x[key].numpy(), want[key])
        np.testing.assert_array_equal(y.numpy(), vocab.encode(ds.labels[2 * b : 2 * b + 2]))
    features_only = next(iter(make_tf_dataset(texts, tok, batch_size=4)))
    assert set(features_only) == {"token_ids", "segment_ids", "padding_mask"}


def test_bucketing_groups_lengths_and_keeps_every_example(tok):
    texts = [" ".join(["word"] * n) for n in range(1, 61)]
    ds = TextDataset(texts, [str(n % 2) for n in range(1, 61)])
    vocab = LabelVocabulary.from_labels(ds.labels)
    batches = list(make_tf_dataset(ds, tok, vocab, batch_size=8, shuffle=True, max_length=64))
    rows = [tuple(r[r != 0]) for x, _ in batches for r in x["token_ids"].numpy()]
    expected = tok.pack(texts, max_length=64)[0]
    assert sorted(rows) == sorted(tuple(r) for r in expected)
    padded = sum(int((x["padding_mask"].numpy() == 0).sum()) for x, _ in batches)
    unbucketed = make_tf_dataset(ds, tok, vocab, batch_size=8, shuffle=True, bucket=False)
    padded_plain = sum(int((x["padding_mask"].numpy() == 0).sum()) for x, _ in unbucketed)
    assert padded < padded_plain


def test_training_batches_are_not_autotuned(tok):
    # An autotuned iterator's destructor waits out tf.data's tuning thread (up to a
    # minute); Keras drops one after every epoch, fit and predict.
    from albert_tf.distillation.data import distillation_dataset

    texts = ["a fine film", "dull", "a joy to watch", "long"]
    vocab = LabelVocabulary.from_labels(["pos", "neg", "pos", "neg"])
    datasets = [
        make_tf_dataset(TextDataset(texts, ["pos", "neg", "pos", "neg"]), tok, vocab, shuffle=True),
        make_tf_dataset(texts, tok, batch_size=2),
        distillation_dataset(texts, np.array([1, 0, 1, 0]), tok, shuffle=True),
    ]
    assert [ds.options().autotune.enabled for ds in datasets] == [False, False, False]


def test_pipeline_feeds_model_fit_directly(tok):
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig

    config = AlbertConfig(
        vocab_size=tok.vocab_size,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=2)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    ds = TextDataset(["good", "bad", "a fine film", "dull"] * 4, ["pos", "neg"] * 8)
    vocab = LabelVocabulary.from_labels(ds.labels)
    for in_graph in (False, True):
        data = make_tf_dataset(
            ds, tok, vocab, batch_size=4, shuffle=True, in_graph=in_graph, max_length=16
        )
        history = model.fit(data, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
