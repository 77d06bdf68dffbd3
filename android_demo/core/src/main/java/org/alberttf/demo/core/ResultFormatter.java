package org.alberttf.demo.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Turns classifier scores into rows sorted for display: highest score first, ties by label index
 * (so the order is stable between runs).
 *
 * <pre>{@code
 * List<ScoreRow> rows = ResultFormatter.fromScores(labels, new float[] {0.2f, 0.8f});
 * rows.get(0).label();   // labels.get(1)
 * ResultFormatter.toText(rows);  // "positive  80.0%\nnegative  20.0%"
 * }</pre>
 */
public final class ResultFormatter {
  private ResultFormatter() {}

  /** Rows from a probability vector in label order (what our runtime and the TFLite output give). */
  public static List<ScoreRow> fromScores(List<String> labels, float[] scores) {
    if (labels.size() != scores.length) {
      throw new IllegalArgumentException(
          "got " + scores.length + " scores for " + labels.size() + " labels");
    }
    List<ScoreRow> rows = new ArrayList<>(scores.length);
    for (int i = 0; i < scores.length; i++) {
      rows.add(new ScoreRow(labels.get(i), i, scores[i]));
    }
    return sorted(rows);
  }

  /** Sorts rows by score (descending), then index; returns a new unmodifiable list. */
  public static List<ScoreRow> sorted(List<ScoreRow> rows) {
    List<ScoreRow> out = new ArrayList<>(rows);
    Collections.sort(
        out,
        (a, b) -> {
          int byScore = Float.compare(b.score(), a.score());
          return byScore != 0 ? byScore : Integer.compare(a.index(), b.index());
        });
    return Collections.unmodifiableList(out);
  }

  /** Plain-text table, labels padded to one width: for logs, copy-paste and tests. */
  public static String toText(List<ScoreRow> rows) {
    int width = 0;
    for (ScoreRow row : rows) {
      width = Math.max(width, row.label().length());
    }
    StringBuilder sb = new StringBuilder();
    for (ScoreRow row : rows) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(String.format(Locale.ROOT, "%-" + width + "s  %6s", row.label(), row.percentText()));
    }
    return sb.toString();
  }
}
