package org.alberttf.demo.core;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Tests for the Android-free core, runnable with nothing but a JDK (no JUnit: CI machines here
 * cannot reach a Maven repository).
 *
 * <pre>
 * javac -d out $(find core/src -name '*.java') && java -cp out org.alberttf.demo.core.CoreTests
 * </pre>
 *
 * Prints one line per test and exits 1 when any fails.
 */
public final class CoreTests {
  private interface Body {
    void run() throws Exception;
  }

  private static final Map<String, Body> TESTS = new LinkedHashMap<>();
  private static final String SHA_ABC =
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

  public static void main(String[] args) {
    register();
    int failed = 0;
    int ran = 0;
    for (Map.Entry<String, Body> test : TESTS.entrySet()) {
      if (args.length > 0 && !Arrays.asList(args).contains(test.getKey())) {
        continue;
      }
      ran++;
      try {
        test.getValue().run();
        System.out.println("PASS " + test.getKey());
      } catch (Throwable t) {
        failed++;
        System.out.println("FAIL " + test.getKey() + ": " + t);
      }
    }
    System.out.println((ran - failed) + " passed, " + failed + " failed");
    System.exit(failed == 0 && ran > 0 ? 0 : 1);
  }

  // ---------------------------------------------------------------- assertions

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }

  private static void equal(Object expected, Object actual) {
    if (expected == null ? actual != null : !expected.equals(actual)) {
      throw new AssertionError("expected <" + expected + "> but got <" + actual + ">");
    }
  }

  private static void near(double expected, double actual, double tol) {
    if (Math.abs(expected - actual) > tol) {
      throw new AssertionError("expected " + expected + " +- " + tol + " but got " + actual);
    }
  }

  /** Runs body, requires a BundleException whose message contains every fragment. */
  private static BundleException bundleError(Body body, String... fragments) throws Exception {
    try {
      body.run();
    } catch (BundleException e) {
      for (String fragment : fragments) {
        check(
            e.getMessage().contains(fragment),
            "message <" + e.getMessage() + "> lacks <" + fragment + ">");
      }
      return e;
    }
    throw new AssertionError("no BundleException; wanted one mentioning " + Arrays.toString(fragments));
  }

  private static void illegalArgument(Body body, String fragment) throws Exception {
    try {
      body.run();
    } catch (IllegalArgumentException e) {
      check(e.getMessage().contains(fragment), "message <" + e.getMessage() + "> lacks " + fragment);
      return;
    }
    throw new AssertionError("no IllegalArgumentException");
  }

  // ---------------------------------------------------------------- fixtures

  private static final String FULL_MANIFEST =
      "{\n"
          + "  \"format\": \"albert-tf-bundle/1\",\n"
          + "  \"task\": \"single_label\",\n"
          + "  \"max_length\": 64,\n"
          + "  \"quantization\": \"dynamic\",\n"
          + "  \"labels\": [\"negative\", \"positive\"],\n"
          + "  \"tensors\": {\"inputs\": {\"ids\": \"ids\", \"mask\": \"mask\","
          + " \"segment_ids\": \"segment_ids\"}, \"output\": \"probability\"},\n"
          + "  \"files\": {\"labels.txt\": {\"sha256\": \""
          + SHA_ABC
          + "\", \"bytes\": 3}},\n"
          + "  \"verification\": {\"label_agreement\": 1.0, \"max_abs_prob_diff\": 0.002}\n"
          + "}\n";

  private static File tempBundle(Map<String, byte[]> files) throws IOException {
    File dir = File.createTempFile("bundle", "");
    check(dir.delete() && dir.mkdir(), "cannot make temp dir " + dir);
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      try (FileOutputStream out = new FileOutputStream(new File(dir, f.getKey()))) {
        out.write(f.getValue());
      }
    }
    return dir;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- tests

  private static void register() {
    TESTS.put(
        "similarity_cosine_matches_hand_computation",
        () -> {
          // (1, 2, 2) . (2, 0, 1) = 4; norms 3 and sqrt(5).
          near(4.0 / (3.0 * Math.sqrt(5.0)), Similarity.cosine(
              new float[] {1f, 2f, 2f}, new float[] {2f, 0f, 1f}), 1e-12);
          near(1.0, Similarity.cosine(new float[] {0.6f, 0.8f}, new float[] {0.6f, 0.8f}), 1e-7);
          near(-1.0, Similarity.cosine(new float[] {1f, 0f}, new float[] {-3f, 0f}), 1e-12);
          near(0.0, Similarity.cosine(new float[] {0f, 0f}, new float[] {1f, 0f}), 0);
          equal("cosine 0.873", Similarity.describe(0.87254));
        });
    TESTS.put(
        "similarity_refuses_mismatched_embeddings",
        () -> {
          illegalArgument(
              () -> Similarity.cosine(new float[] {1f}, new float[] {1f, 2f}), "different");
          illegalArgument(() -> Similarity.cosine(new float[0], new float[0]), "zero length");
          illegalArgument(
              () -> Similarity.cosine(new float[] {Float.NaN}, new float[] {1f}), "NaN");
        });
    TESTS.put(
        "json_parses_nested_values",
        () -> {
          Object v =
              Json.parse(
                  "{\"a\": [1, -2.5e1, true, false, null], \"b\": {\"c\": \"x\\u00e9\\n\\\"\"},"
                      + " \"big\": 12345678901234567890}",
                  "t.json");
          Map<?, ?> m = (Map<?, ?>) v;
          equal(Arrays.asList(1L, -25.0, true, false, null), m.get("a"));
          equal("x\u00e9\n\"", ((Map<?, ?>) m.get("b")).get("c"));
          equal(1.2345678901234567e19, m.get("big"));
        });
    TESTS.put(
        "json_error_names_file_line_column",
        () -> {
          bundleError(() -> Json.parse("{\n  \"a\": 1,\n  \"b\" 2}", "m.json"), "m.json", "line 3", "column 7");
          bundleError(() -> Json.parse("{\"a\": 1} x", "m.json"), "after the JSON value");
          bundleError(() -> Json.parse("{\"a\": 1, \"a\": 2}", "m.json"), "duplicate key \"a\"");
          bundleError(() -> Json.parse("[1, 2", "m.json"), "unexpected end");
          bundleError(() -> Json.parse("{\"a\": 01}", "m.json"), "expected ',' or '}'");
          bundleError(() -> Json.parseObject("[1]", "m.json"), "not a JSON object");
        });
    TESTS.put(
        "json_write_round_trips",
        () -> {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("s", "tab\there \"q\" \\ \u0001");
          m.put("n", 3L);
          m.put("d", 0.25);
          m.put("l", Arrays.asList("a", null, true));
          equal(m, Json.parse(Json.write(m), "round-trip"));
        });
    TESTS.put(
        "manifest_reads_every_field",
        () -> {
          BundleManifest m = BundleManifest.parse(FULL_MANIFEST);
          equal(64, m.maxLength());
          equal("single_label", m.task());
          equal("dynamic", m.quantization());
          equal(Arrays.asList("negative", "positive"), m.labels());
          equal("segment_ids", m.inputTensor("segment_ids"));
          equal("probability", m.outputTensor());
          equal(SHA_ABC, m.sha256().get("labels.txt"));
          equal(1.0, m.verification().get("label_agreement"));
        });
    TESTS.put(
        "manifest_defaults_follow_mediapipe_bert_contract",
        () -> {
          BundleManifest m = BundleManifest.parse("{\"max_seq_length\": 128}");
          equal(128, m.maxLength());
          equal(Arrays.asList("ids", "mask", "segment_ids"), new ArrayList<>(m.inputTensors().keySet()));
          equal("mask", m.inputTensor("mask"));
          equal("probability", m.outputTensor());
          equal("single_label", m.task());
          equal(Collections.emptyList(), m.labels());
          check(m.sha256().isEmpty(), "no sha256 expected");
        });
    TESTS.put(
        "manifest_accepts_tensor_lists_with_roles",
        () -> {
          BundleManifest m =
              BundleManifest.parse(
                  "{\"max_length\": 32, \"quantization\": {\"mode\": \"int8\"}, \"tensors\": {"
                      + "\"inputs\": [{\"name\": \"serving_mask:0\", \"role\": \"mask\"},"
                      + " {\"name\": \"serving_ids:0\", \"role\": \"ids\"},"
                      + " {\"name\": \"serving_seg:0\", \"role\": \"segment_ids\"}],"
                      + " \"outputs\": [{\"name\": \"StatefulPartitionedCall:0\"}]},"
                      + " \"files\": [{\"name\": \"model.tflite\", \"sha256\": \""
                      + SHA_ABC.toUpperCase()
                      + "\"}]}");
          equal("int8", m.quantization());
          equal("serving_ids:0", m.inputTensor("ids"));
          equal("serving_mask:0", m.inputTensor("mask"));
          equal("StatefulPartitionedCall:0", m.outputTensor());
          equal(SHA_ABC, m.sha256().get("model.tflite"));
        });
    TESTS.put(
        "manifest_errors_name_the_field",
        () -> {
          bundleError(() -> BundleManifest.parse("{\"task\": \"x\"}"), "manifest.json", "max_length", "missing");
          bundleError(() -> BundleManifest.parse("{\"max_length\": -3}"), "'max_length'", "positive");
          bundleError(() -> BundleManifest.parse("{\"max_length\": 1.5}"), "'max_length'");
          bundleError(
              () -> BundleManifest.parse("{\"max_length\": 8, \"labels\": [\"a\", 3]}"), "'labels[1]'");
          bundleError(
              () -> BundleManifest.parse("{\"max_length\": 8, \"files\": {\"model.tflite\": \"abc\"}}"),
              "'files.model.tflite'",
              "64 hex digits");
          BundleException e =
              bundleError(
                  () ->
                      BundleManifest.parse(
                          "{\"max_length\": 8, \"tensors\": {\"inputs\": {\"token\": \"t\"}}}"),
                  "unknown input role");
          bundleError(
              () -> BundleManifest.parse("{\"format\": \"albert-tf-bundle/2\", \"max_length\": 8}"),
              "'format'",
              "albert-tf-bundle/2",
              "update the app");
          BundleManifest.parse("{\"format\": \"albert-tf-bundle/1.1\", \"max_length\": 8}");
          equal("tensors.inputs.token", e.field());
          equal("manifest.json", e.file());
        });
    TESTS.put(
        "labels_parse_tolerates_final_newline_and_crlf",
        () -> {
          equal(Arrays.asList("neg", "pos"), BundleChecks.parseLabels("neg\npos\n"));
          equal(Arrays.asList("neg", "pos"), BundleChecks.parseLabels("neg\r\npos\r\n\r\n"));
          equal(Arrays.asList("a b", " c"), BundleChecks.parseLabels("a b\n c"));
        });
    TESTS.put(
        "labels_parse_rejects_blank_and_repeated_rows",
        () -> {
          bundleError(() -> BundleChecks.parseLabels("a\n\nb\n"), "labels.txt", "row 2 is blank");
          bundleError(() -> BundleChecks.parseLabels("a\nb\na\n"), "row 3 repeats label \"a\"");
          bundleError(() -> BundleChecks.parseLabels("\n\n"), "no labels");
        });
    TESTS.put(
        "labels_must_match_manifest",
        () -> {
          BundleManifest m = BundleManifest.parse(FULL_MANIFEST);
          BundleChecks.checkLabelsMatchManifest(Arrays.asList("negative", "positive"), m);
          bundleError(
              () -> BundleChecks.checkLabelsMatchManifest(Arrays.asList("positive", "negative"), m),
              "row 1 is \"positive\"",
              "'labels[0]' is \"negative\"");
          bundleError(
              () -> BundleChecks.checkLabelsMatchManifest(Arrays.asList("negative"), m),
              "has 1 labels but manifest.json lists 2");
          // a manifest without labels accepts any labels.txt
          BundleChecks.checkLabelsMatchManifest(
              Arrays.asList("x"), BundleManifest.parse("{\"max_length\": 4}"));
        });
    TESTS.put(
        "model_categories_must_match_labels",
        () -> {
          List<String> labels = Arrays.asList("neg", "pos", "neutral");
          BundleChecks.checkModelCategories(
              labels, Arrays.asList(new ScoreRow("pos", 1, 0.7f), new ScoreRow("neg", 0, 0.2f)));
          bundleError(
              () ->
                  BundleChecks.checkModelCategories(
                      labels, Arrays.asList(new ScoreRow("positive", 1, 0.7f))),
              "model.tflite",
              "category 1 is named \"positive\"",
              "\"pos\" in labels.txt");
          bundleError(
              () ->
                  BundleChecks.checkModelCategories(labels, Arrays.asList(new ScoreRow("x", 3, 0.1f))),
              "index 3 is outside labels.txt (3 labels)");
          bundleError(
              () ->
                  BundleChecks.checkModelCategories(
                      labels, Arrays.asList(new ScoreRow("neg", 0, 0.1f), new ScoreRow("neg", 0, 0.1f))),
              "appears twice");
        });
    TESTS.put(
        "sha256_matches_known_vector_and_detects_stale_copy",
        () -> {
          equal(SHA_ABC, BundleChecks.sha256Hex(bytes("abc")));
          BundleManifest m = BundleManifest.parse(FULL_MANIFEST);
          BundleChecks.checkSha256("labels.txt", bytes("abc"), m);
          BundleChecks.checkSha256("spiece.model", bytes("anything"), m); // not listed: no check
          bundleError(() -> BundleChecks.checkSha256("labels.txt", bytes("abd"), m), "labels.txt", "stale copy");
          // streaming variant, over more than one read buffer
          byte[] big = new byte[200_000];
          for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
          }
          equal(
              BundleChecks.sha256Hex(big),
              BundleChecks.sha256Hex(new java.io.ByteArrayInputStream(big)));
          BundleChecks.checkSha256("labels.txt", new java.io.ByteArrayInputStream(bytes("abc")), m);
          bundleError(
              () -> BundleChecks.checkSha256("labels.txt", new java.io.ByteArrayInputStream(big), m),
              "sha256 is " + BundleChecks.sha256Hex(big));
        });
    TESTS.put(
        "rows_sorted_by_score_then_index",
        () -> {
          List<ScoreRow> rows =
              ResultFormatter.fromScores(
                  Arrays.asList("a", "b", "c", "d"), new float[] {0.1f, 0.4f, 0.1f, 0.4f});
          List<String> order = new ArrayList<>();
          for (ScoreRow r : rows) {
            order.add(r.label());
          }
          equal(Arrays.asList("b", "d", "a", "c"), order);
          equal(3, rows.get(1).index());
          illegalArgument(
              () -> ResultFormatter.fromScores(Arrays.asList("a"), new float[] {0.1f, 0.9f}),
              "2 scores for 1 labels");
        });
    TESTS.put(
        "percent_text_and_bar_levels",
        () -> {
          ScoreRow row = new ScoreRow("positive", 1, 0.8734f);
          equal("87.3%", row.percentText());
          equal(873, row.barLevel(1000));
          equal(87, row.barLevel(100));
          equal("100.0%", new ScoreRow("x", 0, 1.0000001f).percentText());
          equal("0.0%", new ScoreRow("x", 0, -1e-7f).percentText());
          equal(0, new ScoreRow("x", 0, -1e-7f).barLevel(1000));
          equal("0.1%", new ScoreRow("x", 0, 0.00051f).percentText());
          illegalArgument(() -> new ScoreRow("x", 0, Float.NaN), "NaN");
          equal("87.3%", row.valueText("single_label"));
          equal("87.3%", row.valueText("multi_label"));
          equal("-2.500", new ScoreRow("value", 0, -2.5f).valueText("regression"));
        });
    TESTS.put(
        "text_table_pads_labels",
        () -> {
          List<ScoreRow> rows =
              ResultFormatter.fromScores(Arrays.asList("neg", "positive"), new float[] {0.25f, 0.75f});
          equal("positive   75.0%\nneg        25.0%", ResultFormatter.toText(rows));
        });
    TESTS.put(
        "latency_percentiles_match_nearest_rank",
        () -> {
          LatencyStats s = new LatencyStats(100);
          check(Double.isNaN(s.median()), "empty median must be NaN");
          equal("\u2013", s.summary());
          double[] values = {9, 1, 8, 2, 7, 3, 6, 4, 5, 10, 30, 20};
          for (double v : values) {
            s.record(v);
          }
          double[] sorted = values.clone();
          Arrays.sort(sorted);
          // independent nearest-rank: the smallest value with at least p% of values <= it
          for (double p : new double[] {1, 25, 50, 90, 95, 100}) {
            double want = Double.NaN;
            for (double candidate : sorted) {
              int atOrBelow = 0;
              for (double v : sorted) {
                if (v <= candidate) {
                  atOrBelow++;
                }
              }
              if (atOrBelow * 100.0 >= p * sorted.length) {
                want = candidate;
                break;
              }
            }
            near(want, s.percentile(p), 0);
          }
          near(105.0 / 12, s.mean(), 1e-12);
          equal(12L, s.count());
          equal("20.0 ms (median 6.0, p95 30.0, n=12)", s.summary());
        });
    TESTS.put(
        "latency_window_keeps_only_recent",
        () -> {
          LatencyStats s = new LatencyStats(3);
          for (double v : new double[] {100, 100, 100, 1, 2, 3}) {
            s.record(v);
          }
          near(2, s.median(), 0);
          near(3, s.p95(), 0);
          equal(6L, s.count());
          s.recordNanos(1_000_000L, 3_500_000L);
          near(2.5, s.last(), 1e-12);
          illegalArgument(() -> s.record(-1), "finite value >= 0");
          s.reset();
          equal(0L, s.count());
          check(Double.isNaN(s.p95()), "p95 after reset must be NaN");
          s.record(7);
          near(7, s.median(), 0);
          illegalArgument(() -> new LatencyStats(0), "window");
        });
    TESTS.put(
        "inspector_reads_a_bundle_folder",
        () -> {
          Map<String, byte[]> files = new LinkedHashMap<>();
          files.put("model.tflite", bytes("abc"));
          files.put("labels.txt", bytes("negative\npositive\n"));
          String sha = BundleChecks.sha256Hex(files.get("labels.txt"));
          files.put(
              "manifest.json",
              bytes(FULL_MANIFEST.replace(SHA_ABC, sha).replace("\"bytes\": 3", "\"bytes\": 18")));
          Map<String, Object> summary = BundleInspector.inspect(tempBundle(files));
          equal(64L, summary.get("max_length"));
          equal(Arrays.asList("negative", "positive"), summary.get("labels"));
          equal(Arrays.asList("labels.txt"), summary.get("sha256_checked"));
          equal("probability", summary.get("output_tensor"));
          equal(summary, Json.parse(Json.write(summary), "summary"));
        });
    TESTS.put(
        "manifest_reads_the_tokenizer_kind",
        () -> {
          BundleManifest legacy = BundleManifest.parse(FULL_MANIFEST);
          equal("sentencepiece", legacy.tokenizerKind());
          equal("spiece.model", legacy.tokenizerFile());
          check(!legacy.namesTokenizer(), "FULL_MANIFEST has no tokenizer field");
          BundleManifest wp =
              BundleManifest.parse(
                  "{\"max_length\": 8, \"tokenizer\": {\"kind\": \"wordpiece\","
                      + " \"file\": \"vocab.txt\", \"lower_case\": true}}");
          equal("wordpiece", wp.tokenizerKind());
          equal("vocab.txt", wp.tokenizerFile());
          bundleError(
              () -> BundleManifest.parse("{\"max_length\": 8, \"tokenizer\": {\"kind\": \"bpe\"}}"),
              "manifest.json",
              "tokenizer.kind",
              "bpe");
          bundleError(
              () ->
                  BundleManifest.parse(
                      "{\"max_length\": 8, \"tokenizer\": {\"kind\": \"wordpiece\","
                          + " \"file\": \"spiece.model\"}}"),
              "tokenizer.file",
              "vocab.txt");
          bundleError(
              () -> BundleManifest.parse("{\"max_length\": 8, \"tokenizer\": \"wordpiece\"}"),
              "tokenizer",
              "must be an object");
        });
    TESTS.put(
        "inspector_checks_the_wordpiece_vocabulary",
        () -> {
          Map<String, byte[]> files = new LinkedHashMap<>();
          files.put("model.tflite", bytes("abc"));
          files.put("labels.txt", bytes("negative\npositive\n"));
          files.put("vocab.txt", bytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nfilm\n"));
          String manifest =
              "{\"max_length\": 8, \"labels\": [\"negative\", \"positive\"],"
                  + " \"tokenizer\": {\"kind\": \"wordpiece\", \"file\": \"vocab.txt\"},"
                  + " \"files\": {\"labels.txt\": \""
                  + BundleChecks.sha256Hex(files.get("labels.txt"))
                  + "\", \"vocab.txt\": \""
                  + BundleChecks.sha256Hex(files.get("vocab.txt"))
                  + "\"}}";
          files.put("manifest.json", bytes(manifest));
          Map<String, Object> summary = BundleInspector.inspect(tempBundle(files));
          equal("wordpiece", summary.get("tokenizer_kind"));
          equal(Arrays.asList("labels.txt", "vocab.txt"), summary.get("sha256_checked"));

          files.put("vocab.txt", bytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nmovie\n"));
          File changed = tempBundle(files);
          bundleError(() -> BundleInspector.inspect(changed), "vocab.txt", "sha256");
          files.remove("vocab.txt");
          File missing = tempBundle(files);
          bundleError(() -> BundleInspector.inspect(missing), "vocab.txt", "missing", "wordpiece");
          files.put("vocab.txt", bytes("x"));
          files.put("manifest.json", bytes(manifest.replaceAll(", \"vocab.txt\": \"[0-9a-f]+\"", "")));
          File unlisted = tempBundle(files);
          bundleError(() -> BundleInspector.inspect(unlisted), "files", "no sha256 for vocab.txt");
        });
    TESTS.put(
        "inspector_rejects_stale_and_missing_files",
        () -> {
          Map<String, byte[]> files = new LinkedHashMap<>();
          files.put("model.tflite", bytes("abc"));
          files.put("labels.txt", bytes("negative\npositive\n"));
          files.put("manifest.json", bytes(FULL_MANIFEST));
          File stale = tempBundle(files);
          bundleError(() -> BundleInspector.inspect(stale), "labels.txt", "sha256");
          files.remove("model.tflite");
          File missing = tempBundle(files);
          bundleError(() -> BundleInspector.inspect(missing), "model.tflite", "missing");
        });
  }
}
