package org.alberttf.demo.core;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Consistency checks between a bundle's files and what the classifier returns, run once when the
 * app loads a bundle so that a mismatched copy fails with a message instead of showing wrong
 * labels.
 *
 * <pre>{@code
 * List<String> labels = BundleChecks.parseLabels(labelsText);
 * BundleChecks.checkLabelsMatchManifest(labels, manifest);
 * BundleChecks.checkSha256("model.tflite", modelBytes, manifest);
 * }</pre>
 */
public final class BundleChecks {
  public static final String LABELS_FILE = "labels.txt";

  private BundleChecks() {}

  /**
   * Reads labels.txt: one label per line, index order. Trailing blank lines are ignored (an
   * editor's final newline); a blank line between labels or a repeated label is an error naming
   * the row, because it would shift every later index.
   */
  public static List<String> parseLabels(String text) {
    String[] lines = text.split("\n", -1);
    int last = lines.length;
    while (last > 0 && stripCr(lines[last - 1]).trim().isEmpty()) {
      last--;
    }
    if (last == 0) {
      throw new BundleException(LABELS_FILE, null, "no labels");
    }
    List<String> labels = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < last; i++) {
      String label = stripCr(lines[i]);
      if (label.trim().isEmpty()) {
        throw new BundleException(LABELS_FILE, null, "row " + (i + 1) + " is blank");
      }
      if (!seen.add(label)) {
        throw new BundleException(
            LABELS_FILE, null, "row " + (i + 1) + " repeats label \"" + label + "\"");
      }
      labels.add(label);
    }
    return Collections.unmodifiableList(labels);
  }

  private static String stripCr(String line) {
    return line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
  }

  /** labels.txt must list exactly the manifest's labels (when it has any), in the same order. */
  public static void checkLabelsMatchManifest(List<String> labels, BundleManifest manifest) {
    List<String> expected = manifest.labels();
    if (expected.isEmpty()) {
      return;
    }
    if (expected.size() != labels.size()) {
      throw new BundleException(
          LABELS_FILE,
          null,
          "has " + labels.size() + " labels but manifest.json lists " + expected.size());
    }
    for (int i = 0; i < labels.size(); i++) {
      if (!labels.get(i).equals(expected.get(i))) {
        throw new BundleException(
            LABELS_FILE,
            null,
            "row "
                + (i + 1)
                + " is \""
                + labels.get(i)
                + "\" but manifest.json field 'labels["
                + i
                + "]' is \""
                + expected.get(i)
                + "\"");
      }
    }
  }

  /**
   * The classifier's categories (index and name, as MediaPipe's {@code Category.index()} and
   * {@code categoryName()} return them) must agree with labels.txt: otherwise the labels embedded
   * in model.tflite's metadata differ from the bundle's labels.txt.
   */
  public static void checkModelCategories(List<String> labels, List<ScoreRow> categories) {
    Set<Integer> seen = new HashSet<>();
    for (ScoreRow row : categories) {
      int index = row.index();
      if (index < 0 || index >= labels.size()) {
        throw new BundleException(
            "model.tflite",
            null,
            "category index " + index + " is outside labels.txt (" + labels.size() + " labels)");
      }
      if (!labels.get(index).equals(row.label())) {
        throw new BundleException(
            "model.tflite",
            null,
            "category "
                + index
                + " is named \""
                + row.label()
                + "\" in the model metadata but \""
                + labels.get(index)
                + "\" in labels.txt");
      }
      if (!seen.add(index)) {
        throw new BundleException("model.tflite", null, "category " + index + " appears twice");
      }
    }
  }

  /**
   * A manifest that names its tokenizer and lists file hashes must list the tokenizer file too
   * (vocab.txt for WordPiece, spiece.model for SentencePiece): otherwise a replaced vocabulary
   * would go unnoticed. Manifests without a "files" list (hand-written) are not checked.
   */
  public static void checkTokenizerListed(BundleManifest manifest) {
    if (!manifest.namesTokenizer() || manifest.sha256().isEmpty()) {
      return;
    }
    String file = manifest.tokenizerFile();
    if (!manifest.sha256().containsKey(file)) {
      throw new BundleException(
          BundleManifest.FILE_NAME,
          "files",
          "lists no sha256 for " + file + " (the " + manifest.tokenizerKind() + " tokenizer)");
    }
  }

  /** Checks a file's bytes against the manifest's sha256 (no-op when the manifest has none). */
  public static void checkSha256(String fileName, byte[] data, BundleManifest manifest) {
    String expected = manifest.sha256().get(fileName);
    if (expected == null) {
      return;
    }
    String actual = sha256Hex(data);
    if (!actual.equals(expected)) {
      throw new BundleException(
          fileName,
          null,
          "sha256 is " + actual + " but manifest.json says " + expected + " (stale copy?)");
    }
  }

  /**
   * Streaming variant for large files (model.tflite): the app hashes the asset without holding a
   * second copy of the model in memory. Closes nothing; the caller owns the stream.
   */
  public static void checkSha256(String fileName, InputStream data, BundleManifest manifest)
      throws IOException {
    String expected = manifest.sha256().get(fileName);
    if (expected == null) {
      return;
    }
    String actual = sha256Hex(data);
    if (!actual.equals(expected)) {
      throw new BundleException(
          fileName,
          null,
          "sha256 is " + actual + " but manifest.json says " + expected + " (stale copy?)");
    }
  }

  public static String sha256Hex(byte[] data) {
    MessageDigest digest = newSha256();
    return hex(digest.digest(data));
  }

  public static String sha256Hex(InputStream in) throws IOException {
    MessageDigest digest = newSha256();
    byte[] buffer = new byte[1 << 16];
    int n;
    while ((n = in.read(buffer)) != -1) {
      digest.update(buffer, 0, n);
    }
    return hex(digest.digest());
  }

  private static MessageDigest newSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this runtime", e);
    }
  }

  private static String hex(byte[] digest) {
    StringBuilder sb = new StringBuilder(64);
    for (byte b : digest) {
      sb.append(String.format(Locale.ROOT, "%02x", b & 0xff));
    }
    return sb.toString();
  }

  /** Reads a whole stream (an Android asset or a file); java.nio.file needs API 26, so not used. */
  public static byte[] readFully(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[1 << 16];
    int n;
    while ((n = in.read(buffer)) != -1) {
      out.write(buffer, 0, n);
    }
    return out.toByteArray();
  }

  public static String utf8(byte[] data) {
    return new String(data, StandardCharsets.UTF_8);
  }
}
