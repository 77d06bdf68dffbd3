package org.alberttf.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the app needs from a bundle's {@code manifest.json} (docs/CONTRACTS.md section 3): maximum
 * sequence length, quantization mode, task, label names, TFLite tensor names, the tokenizer kind
 * ("sentencepiece" with spiece.model, or "wordpiece" with vocab.txt), the sha256 of each bundle
 * file, and the verification report written at export time.
 *
 * <p>Only {@code max_length} is required; everything else has the defaults of the MediaPipe BERT
 * classifier contract (inputs {@code ids}, {@code mask}, {@code segment_ids}, output {@code
 * probability}) so that an older or hand-written manifest still loads.
 *
 * <pre>{@code
 * BundleManifest m = BundleManifest.parse(jsonText);
 * m.maxLength();        // 128
 * m.inputTensor("ids"); // "ids"
 * }</pre>
 */
public final class BundleManifest {
  public static final String FILE_NAME = "manifest.json";

  /** Input roles of the BERT classifier signature, in the order MediaPipe documents them. */
  public static final List<String> INPUT_ROLES =
      Collections.unmodifiableList(java.util.Arrays.asList("ids", "mask", "segment_ids"));

  public static final String DEFAULT_OUTPUT = "probability";

  /** Tokenizer kinds and the bundle file each one is stored in. */
  public static final String SENTENCEPIECE = "sentencepiece";

  public static final String WORDPIECE = "wordpiece";
  public static final String SPIECE_FILE = "spiece.model";
  public static final String VOCAB_FILE = "vocab.txt";

  private final Map<String, Object> raw;
  private final int maxLength;
  private final String task;
  private final String quantization;
  private final List<String> labels;
  private final Map<String, String> inputTensors;
  private final String outputTensor;
  private final Map<String, String> sha256;
  private final Map<String, Object> verification;
  private final String tokenizerKind;
  private final boolean namesTokenizer;

  /** The bundle format this reader understands; a later major version may move fields. */
  public static final String FORMAT_PREFIX = "albert-tf-bundle/1";

  private BundleManifest(Map<String, Object> raw) {
    this.raw = raw;
    checkFormat(raw);
    this.maxLength = readMaxLength(raw);
    this.task = readString(raw, "single_label", "task", "run.task");
    this.quantization =
        readString(raw, "unknown", "quantization", "quantization.mode", "mode", "export.mode");
    this.labels = readLabels(raw);
    this.inputTensors = readInputTensors(raw);
    this.outputTensor = readOutputTensor(raw);
    this.sha256 = readSha256(raw);
    this.verification = readVerification(raw);
    this.namesTokenizer = raw.containsKey("tokenizer");
    this.tokenizerKind = readTokenizerKind(raw);
  }

  /** Parses manifest text; errors name {@code manifest.json} and the field. */
  public static BundleManifest parse(String json) {
    return new BundleManifest(Json.parseObject(json, FILE_NAME));
  }

  /** The parsed JSON, for fields this class does not model. */
  public Map<String, Object> raw() {
    return raw;
  }

  /** Tokens per text (fixed input length of the TFLite model). */
  public int maxLength() {
    return maxLength;
  }

  /** "single_label", "multi_label" or "regression". */
  public String task() {
    return task;
  }

  /** Export mode, e.g. "dynamic", "float16", "int8". */
  public String quantization() {
    return quantization;
  }

  /** Label names in output order, or an empty list when the manifest does not list them. */
  public List<String> labels() {
    return labels;
  }

  /** TFLite tensor name for an input role ("ids", "mask" or "segment_ids"). */
  public String inputTensor(String role) {
    String name = inputTensors.get(role);
    if (name == null) {
      throw new BundleException(FILE_NAME, "tensors.inputs", "no input tensor for role " + role);
    }
    return name;
  }

  /** All input roles mapped to tensor names, in {@link #INPUT_ROLES} order. */
  public Map<String, String> inputTensors() {
    return inputTensors;
  }

  /** TFLite tensor name of the probabilities output. */
  public String outputTensor() {
    return outputTensor;
  }

  /** Lower-case hex sha256 by bundle file name ("model.tflite", "labels.txt", ...). */
  public Map<String, String> sha256() {
    return sha256;
  }

  /**
   * "sentencepiece" or "wordpiece"; "sentencepiece" for manifests written before WordPiece
   * bundles existed (they have no "tokenizer" field).
   */
  public String tokenizerKind() {
    return tokenizerKind;
  }

  /** The bundle file holding the tokenizer: spiece.model or vocab.txt. */
  public String tokenizerFile() {
    return WORDPIECE.equals(tokenizerKind) ? VOCAB_FILE : SPIECE_FILE;
  }

  /** Whether the manifest has a "tokenizer" field (bundles since WordPiece support do). */
  public boolean namesTokenizer() {
    return namesTokenizer;
  }

  /** The export-time verification report, or an empty map. */
  public Map<String, Object> verification() {
    return verification;
  }

  // ---- field readers: each accepts the few spellings an exporter might use ----

  static Object lookup(Map<String, Object> root, String dottedPath) {
    Object node = root;
    for (String part : dottedPath.split("\\.")) {
      if (!(node instanceof Map)) {
        return null;
      }
      Map<?, ?> map = (Map<?, ?>) node;
      if (!map.containsKey(part)) {
        return null;
      }
      node = map.get(part);
    }
    return node;
  }

  private static String firstPresent(Map<String, Object> root, String... paths) {
    for (String path : paths) {
      if (lookup(root, path) != null) {
        return path;
      }
    }
    return null;
  }

  private static void checkFormat(Map<String, Object> raw) {
    Object format = raw.get("format");
    if (format == null) {
      return; // hand-written or older manifests: read what is there
    }
    if (!(format instanceof String)
        || !(format.equals(FORMAT_PREFIX) || ((String) format).startsWith(FORMAT_PREFIX + "."))) {
      throw new BundleException(
          FILE_NAME,
          "format",
          "is " + format + "; this app reads " + FORMAT_PREFIX + " bundles (update the app)");
    }
  }

  private static int readMaxLength(Map<String, Object> raw) {
    String path =
        firstPresent(raw, "max_length", "max_seq_length", "model.max_length", "config.max_length");
    if (path == null) {
      throw new BundleException(FILE_NAME, "max_length", "missing");
    }
    Object value = lookup(raw, path);
    if (!(value instanceof Long) || (Long) value <= 0 || (Long) value > 1 << 20) {
      throw new BundleException(FILE_NAME, path, "must be a positive integer, got " + value);
    }
    return (int) (long) (Long) value;
  }

  private static String readString(Map<String, Object> raw, String fallback, String... paths) {
    for (String path : paths) {
      Object value = lookup(raw, path);
      if (value == null) {
        continue;
      }
      if (value instanceof String) {
        return (String) value;
      }
      if (value instanceof Map) {
        continue; // e.g. "quantization": {"mode": ...} is read through the dotted path
      }
      throw new BundleException(FILE_NAME, path, "must be a string, got " + value);
    }
    return fallback;
  }

  private static List<String> readLabels(Map<String, Object> raw) {
    String path = firstPresent(raw, "labels", "model.labels");
    if (path == null) {
      return Collections.emptyList();
    }
    return stringList(lookup(raw, path), path);
  }

  private static List<String> stringList(Object value, String path) {
    if (!(value instanceof List)) {
      throw new BundleException(FILE_NAME, path, "must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    List<?> list = (List<?>) value;
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof String)) {
        throw new BundleException(FILE_NAME, path + "[" + i + "]", "must be a string");
      }
      out.add((String) list.get(i));
    }
    return Collections.unmodifiableList(out);
  }

  /**
   * Accepts {"inputs": {"ids": "ids", ...}}, {"inputs": ["ids", "mask", "segment_ids"]} (role
   * order) or a list of {"name": ..., "role": ...} objects, under "tensors" or "input_tensors".
   */
  private static Map<String, String> readInputTensors(Map<String, Object> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String role : INPUT_ROLES) {
      out.put(role, role);
    }
    String path = firstPresent(raw, "tensors.inputs", "input_tensors", "tensor_names.inputs");
    if (path == null) {
      return Collections.unmodifiableMap(out);
    }
    Object value = lookup(raw, path);
    if (value instanceof Map) {
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        String role = String.valueOf(e.getKey());
        if (!INPUT_ROLES.contains(role)) {
          throw new BundleException(FILE_NAME, path + "." + role, "unknown input role");
        }
        out.put(role, tensorName(e.getValue(), path + "." + role));
      }
    } else if (value instanceof List) {
      List<?> list = (List<?>) value;
      if (list.size() != INPUT_ROLES.size()) {
        throw new BundleException(
            FILE_NAME, path, "expected 3 inputs (ids, mask, segment_ids), got " + list.size());
      }
      for (int i = 0; i < list.size(); i++) {
        Object item = list.get(i);
        String role = INPUT_ROLES.get(i);
        if (item instanceof Map && ((Map<?, ?>) item).get("role") instanceof String) {
          role = (String) ((Map<?, ?>) item).get("role");
          if (!INPUT_ROLES.contains(role)) {
            throw new BundleException(FILE_NAME, path + "[" + i + "].role", "unknown: " + role);
          }
        }
        out.put(role, tensorName(item, path + "[" + i + "]"));
      }
    } else {
      throw new BundleException(FILE_NAME, path, "must be an object or a list");
    }
    return Collections.unmodifiableMap(out);
  }

  private static String readOutputTensor(Map<String, Object> raw) {
    String path =
        firstPresent(raw, "tensors.output", "tensors.outputs", "output_tensor", "output_tensors");
    if (path == null) {
      return DEFAULT_OUTPUT;
    }
    Object value = lookup(raw, path);
    if (value instanceof List) {
      List<?> list = (List<?>) value;
      if (list.size() != 1) {
        throw new BundleException(FILE_NAME, path, "expected one output, got " + list.size());
      }
      return tensorName(list.get(0), path + "[0]");
    }
    if (value instanceof Map && !((Map<?, ?>) value).containsKey("name")) {
      Map<?, ?> map = (Map<?, ?>) value;
      if (map.size() != 1) {
        throw new BundleException(FILE_NAME, path, "expected one output, got " + map.size());
      }
      Map.Entry<?, ?> only = map.entrySet().iterator().next();
      return tensorName(only.getValue(), path + "." + only.getKey());
    }
    return tensorName(value, path);
  }

  private static String tensorName(Object value, String path) {
    if (value instanceof Map) {
      value = ((Map<?, ?>) value).get("name");
    }
    if (!(value instanceof String) || ((String) value).isEmpty()) {
      throw new BundleException(FILE_NAME, path, "tensor name must be a non-empty string");
    }
    return (String) value;
  }

  /** Accepts {"files": {name: {"sha256": hex}}}, {"files": {name: hex}} or {"sha256": {...}}. */
  private static Map<String, String> readSha256(Map<String, Object> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    String path = firstPresent(raw, "files", "sha256");
    if (path == null) {
      return Collections.unmodifiableMap(out);
    }
    Object value = lookup(raw, path);
    if (value instanceof List) {
      // [{"name"|"path": ..., "sha256": ...}, ...]
      List<?> list = (List<?>) value;
      for (int i = 0; i < list.size(); i++) {
        if (!(list.get(i) instanceof Map)) {
          throw new BundleException(FILE_NAME, path + "[" + i + "]", "must be an object");
        }
        Map<?, ?> item = (Map<?, ?>) list.get(i);
        Object name = item.containsKey("name") ? item.get("name") : item.get("path");
        if (!(name instanceof String)) {
          throw new BundleException(FILE_NAME, path + "[" + i + "].name", "missing");
        }
        out.put((String) name, hex(item.get("sha256"), path + "[" + i + "].sha256"));
      }
      return Collections.unmodifiableMap(out);
    }
    if (!(value instanceof Map)) {
      throw new BundleException(FILE_NAME, path, "must be an object");
    }
    for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
      String name = String.valueOf(e.getKey());
      Object entry = e.getValue();
      if (entry instanceof Map) {
        entry = ((Map<?, ?>) entry).get("sha256");
      }
      out.put(name, hex(entry, path + "." + name));
    }
    return Collections.unmodifiableMap(out);
  }

  private static String hex(Object value, String path) {
    if (!(value instanceof String) || !((String) value).matches("[0-9a-fA-F]{64}")) {
      throw new BundleException(FILE_NAME, path, "must be 64 hex digits, got " + value);
    }
    return ((String) value).toLowerCase(java.util.Locale.ROOT);
  }

  /** {"tokenizer": {"kind": ..., "file": ...}}; the file, when given, must be the kind's. */
  private static String readTokenizerKind(Map<String, Object> raw) {
    Object entry = raw.get("tokenizer");
    if (entry == null) {
      return SENTENCEPIECE;
    }
    if (!(entry instanceof Map)) {
      throw new BundleException(FILE_NAME, "tokenizer", "must be an object");
    }
    Object kind = ((Map<?, ?>) entry).get("kind");
    if (!SENTENCEPIECE.equals(kind) && !WORDPIECE.equals(kind)) {
      throw new BundleException(
          FILE_NAME,
          "tokenizer.kind",
          "is " + kind + "; this app reads " + SENTENCEPIECE + " and " + WORDPIECE + " bundles");
    }
    String expected = WORDPIECE.equals(kind) ? VOCAB_FILE : SPIECE_FILE;
    Object file = ((Map<?, ?>) entry).get("file");
    if (file != null && !expected.equals(file)) {
      throw new BundleException(
          FILE_NAME, "tokenizer.file", "is " + file + "; a " + kind + " bundle holds " + expected);
    }
    return (String) kind;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> readVerification(Map<String, Object> raw) {
    Object value = lookup(raw, "verification");
    if (value == null) {
      return Collections.emptyMap();
    }
    if (!(value instanceof Map)) {
      throw new BundleException(FILE_NAME, "verification", "must be an object");
    }
    return Collections.unmodifiableMap((Map<String, Object>) value);
  }
}
