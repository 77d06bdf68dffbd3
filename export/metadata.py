"""TFLite metadata for a BERT-style text classifier, on the published metadata schema.

MediaPipe Tasks' `TextClassifier` (and the TFLite Task Library's BertNLClassifier)
read three things from a model's metadata: which input tensor holds the token ids,
the mask and the segment ids (by the metadata tensor names `ids`, `mask`,
`segment_ids`), the tokenizer (an input process unit pointing at an associated
file) and the label file of the output tensor. Associated files travel inside
the .tflite: the flatbuffer is followed by a zip archive holding them.

Two tokenizers, as MediaPipe Model Maker writes them:
- "sentencepiece": `SentencePieceTokenizerOptions` naming `spiece.model`;
- "wordpiece": `BertTokenizerOptions` whose `vocabFile` is `vocab.txt`, an
  associated file of type VOCABULARY (one token per line, line i = id i).
  MediaPipe builds its C++ `BertTokenizer` from it with default options; see
  `export.runtime.wordpiece_encoder` for what that tokenizer does.

We build the metadata flatbuffer with the schema classes generated from
`metadata_schema.fbs` (shipped in the `mediapipe` wheel) and populate it ourselves:
MediaPipe's own Python populator needs a native module its wheel does not ship,
and tflite-support pins an old protobuf.

Example:
>>> tflite = add_classifier_metadata(tflite_bytes, spiece_bytes, ["neg", "pos"])  # doctest: +SKIP
>>> tflite = add_classifier_metadata(
...     tflite_bytes, vocab_bytes, ["neg", "pos"], tokenizer_kind="wordpiece"
... )  # doctest: +SKIP
"""

from __future__ import annotations

import io
import zipfile

from export.runtime import LABELS_FILE

# SPIECE_FILE and VOCAB_FILE are re-exported for readers of the metadata.
from export.runtime.bundle_tokenizer import SPIECE_FILE, TOKENIZER_FILES, VOCAB_FILE  # noqa: F401

METADATA_NAME = "TFLITE_METADATA"
# Lowest metadata parser that understands input process units (tokenizers):
# version 1.1.0 of metadata_schema.fbs.
MIN_PARSER_VERSION = "1.1.0"
_TFLITE_IDENTIFIER = b"TFL3"
_METADATA_IDENTIFIER = b"M001"

_INPUT_DESCRIPTIONS = {
    "ids": "Tokenized ids of the input text.",
    "mask": "Mask with 1 for real tokens and 0 for padding tokens.",
    "segment_ids": "0 for the first sequence, 1 for the second sequence if exists.",
}


def _schemas():
    # The generated modules are plain Python over the `flatbuffers` package; they
    # live in the mediapipe wheel (a dependency of the export path only).
    try:
        from mediapipe.tasks.metadata import metadata_schema_py_generated as meta_fb
        from mediapipe.tasks.metadata import schema_py_generated as model_fb
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "Writing TFLite metadata needs the `mediapipe` package: pip install 'albert-tf[export]'."
        ) from e
    return meta_fb, model_fb


def tensor_metadata(meta_fb, name, description, associated_files=None, float_range=False):
    """The metadata of one input or output tensor (a feature, no normalization)."""
    md = meta_fb.TensorMetadataT()
    md.name = name
    md.description = description
    content = meta_fb.ContentT()
    content.contentPropertiesType = meta_fb.ContentProperties.FeatureProperties
    content.contentProperties = meta_fb.FeaturePropertiesT()
    md.content = content
    stats = meta_fb.StatsT()
    if float_range:
        stats.min, stats.max = [0.0], [1.0]
    md.stats = stats
    if associated_files:
        md.associatedFiles = associated_files
    return md


def _tokenizer_unit(meta_fb, kind: str):
    """The input process unit MediaPipe's BertPreprocessor builds its tokenizer from."""
    tokenizer = meta_fb.ProcessUnitT()
    file = meta_fb.AssociatedFileT()
    file.name = TOKENIZER_FILES[kind]
    if kind == "wordpiece":
        file.description = "Vocabulary file for the BertTokenizer (one token per line)."
        file.type = meta_fb.AssociatedFileType.VOCABULARY
        tokenizer.optionsType = meta_fb.ProcessUnitOptions.BertTokenizerOptions
        tokenizer.options = meta_fb.BertTokenizerOptionsT()
        tokenizer.options.vocabFile = [file]
    else:
        file.description = "The SentencePiece model file."
        tokenizer.optionsType = meta_fb.ProcessUnitOptions.SentencePieceTokenizerOptions
        tokenizer.options = meta_fb.SentencePieceTokenizerOptionsT()
        tokenizer.options.sentencePieceModel = [file]
    return tokenizer


def _build_metadata(input_names, output_names, name, description, tokenizer_kind):
    meta_fb, _ = _schemas()
    expected_inputs = {"ids", "mask", "segment_ids"}
    if set(input_names) != expected_inputs:
        raise ValueError(
            f"The model's input tensors are named {input_names}; MediaPipe's TextClassifier "
            f"needs exactly {sorted(expected_inputs)}."
        )
    if list(output_names) != ["probability"]:
        raise ValueError(
            f"The model's output tensors are named {output_names}; expected ['probability']."
        )
    # Tensor metadata is matched to tensors by position, so follow the model's order.
    inputs = [tensor_metadata(meta_fb, n, _INPUT_DESCRIPTIONS[n]) for n in input_names]

    labels_file = meta_fb.AssociatedFileT()
    labels_file.name = LABELS_FILE
    labels_file.description = "Labels for categories that the model can recognize."
    labels_file.type = meta_fb.AssociatedFileType.TENSOR_AXIS_LABELS
    output = tensor_metadata(
        meta_fb,
        "probability",
        "Probabilities of the labels respectively.",
        associated_files=[labels_file],
        float_range=True,
    )

    tokenizer = _tokenizer_unit(meta_fb, tokenizer_kind)
    return model_metadata(meta_fb, name, description, inputs, [output], tokenizer)


def model_metadata(meta_fb, name, description, inputs, outputs, tokenizer):
    """The `ModelMetadataT` of a one-subgraph model: its input and output tensor
    metadata (matched to tensors by position) and the tokenizer process unit."""
    subgraph = meta_fb.SubGraphMetadataT()
    subgraph.inputTensorMetadata = inputs
    subgraph.outputTensorMetadata = outputs
    subgraph.inputProcessUnits = [tokenizer]
    model_md = meta_fb.ModelMetadataT()
    model_md.name = name
    model_md.description = description
    model_md.subgraphMetadata = [subgraph]
    model_md.minParserVersion = MIN_PARSER_VERSION
    return model_md


def tensor_names(tflite_bytes: bytes) -> tuple[list[str], list[str]]:
    """(input names, output names) of subgraph 0, in the model's order."""
    _, model_fb = _schemas()
    model = model_fb.Model.GetRootAsModel(tflite_bytes, 0)
    sub = model.Subgraphs(0)
    inputs = [sub.Tensors(sub.Inputs(i)).Name().decode() for i in range(sub.InputsLength())]
    outputs = [sub.Tensors(sub.Outputs(i)).Name().decode() for i in range(sub.OutputsLength())]
    return inputs, outputs


def _inline_offset_buffers(model, tflite_bytes: bytes) -> None:
    """Move buffers stored after the flatbuffer (offset/size, as ai-edge-quantizer
    writes them) back inside it: re-packing drops everything after the root."""
    import numpy as np

    for buffer in model.buffers or []:
        if buffer.offset and buffer.offset > 1:
            end = buffer.offset + buffer.size
            if end > len(tflite_bytes):
                raise ValueError(f"TFLite buffer points past the end of the file ({end} bytes).")
            buffer.data = np.frombuffer(tflite_bytes, np.uint8, buffer.size, buffer.offset).copy()
            buffer.offset = 0
            buffer.size = 0


def add_classifier_metadata(
    tflite_bytes: bytes,
    tokenizer_file: bytes,
    labels: list[str],
    name: str = "ALBERT text classifier",
    description: str = "Classifies a text into one of the labels (albert-tf export).",
    tokenizer_kind: str = "sentencepiece",
) -> bytes:
    """Return `tflite_bytes` with classifier metadata and the tokenizer and labels packed in.

    Args:
        tflite_bytes: the converted model (inputs ids/mask/segment_ids, output probability).
        tokenizer_file: the bytes of `spiece.model` or `vocab.txt`.
        labels: label names in output order.
        tokenizer_kind: "sentencepiece" or "wordpiece" (see `TOKENIZER_FILES`).

    Any metadata already in the model is replaced.
    """
    if tokenizer_kind not in TOKENIZER_FILES:
        raise ValueError(
            f"Unknown tokenizer kind {tokenizer_kind!r}; expected one of {sorted(TOKENIZER_FILES)}."
        )
    if tflite_bytes[4:8] != _TFLITE_IDENTIFIER:
        raise ValueError("Not a TFLite flatbuffer (file identifier is not TFL3).")
    inputs, outputs = tensor_names(tflite_bytes)
    model_md = _build_metadata(inputs, outputs, name, description, tokenizer_kind)
    files = {TOKENIZER_FILES[tokenizer_kind]: tokenizer_file, LABELS_FILE: "\n".join(labels)}
    return with_metadata(tflite_bytes, model_md, files)


def with_metadata(tflite_bytes: bytes, model_md, files: dict[str, bytes | str]) -> bytes:
    """`tflite_bytes` with `model_md` (a `ModelMetadataT`) as its metadata, replacing
    any, and `files` (name -> content) packed in as its associated files."""
    import flatbuffers

    _, model_fb = _schemas()
    builder = flatbuffers.Builder(0)
    builder.Finish(model_md.Pack(builder), _METADATA_IDENTIFIER)
    metadata_buf = bytes(builder.Output())

    model = model_fb.ModelT.InitFromObj(model_fb.Model.GetRootAsModel(tflite_bytes, 0))
    _inline_offset_buffers(model, tflite_bytes)
    buffer = model_fb.BufferT()
    buffer.data = metadata_buf
    model.buffers = model.buffers or []
    model.metadata = [m for m in (model.metadata or []) if m.name.decode() != METADATA_NAME]
    model.buffers.append(buffer)
    entry = model_fb.MetadataT()
    entry.name = METADATA_NAME
    entry.buffer = len(model.buffers) - 1
    model.metadata.append(entry)
    builder = flatbuffers.Builder(0)
    builder.Finish(model.Pack(builder), _TFLITE_IDENTIFIER)

    # The associated files: a zip archive appended after the flatbuffer, which
    # both the flatbuffer reader (it ignores trailing bytes) and zip readers
    # (they look from the end) accept.
    out = io.BytesIO()
    out.write(bytes(builder.Output()))
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_STORED) as zf:
        for file_name, content in files.items():
            zf.writestr(file_name, content)
    return out.getvalue()


def read_associated_files(tflite_bytes: bytes) -> dict[str, bytes]:
    """The files packed into a model with metadata (empty dict when none)."""
    try:
        with zipfile.ZipFile(io.BytesIO(tflite_bytes)) as zf:
            return {n: zf.read(n) for n in zf.namelist()}
    except zipfile.BadZipFile:
        return {}


def read_metadata(tflite_bytes: bytes):
    """The `ModelMetadataT` object of a model, or None when it has none."""
    meta_fb, model_fb = _schemas()
    model = model_fb.Model.GetRootAsModel(tflite_bytes, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name().decode() == METADATA_NAME:
            data = model.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
            return meta_fb.ModelMetadataT.InitFromObj(
                meta_fb.ModelMetadata.GetRootAsModelMetadata(data, 0)
            )
    return None
