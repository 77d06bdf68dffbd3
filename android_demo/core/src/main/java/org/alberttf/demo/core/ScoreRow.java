package org.alberttf.demo.core;

import java.util.Locale;

/**
 * One line of the result list: a label, its output index, its score, and how to draw it.
 *
 * <pre>{@code
 * ScoreRow row = new ScoreRow("positive", 1, 0.873f);
 * row.percentText();   // "87.3%"
 * row.barLevel(1000);  // 873
 * }</pre>
 */
public final class ScoreRow {
  private final String label;
  private final int index;
  private final float score;

  public ScoreRow(String label, int index, float score) {
    if (label == null) {
      throw new IllegalArgumentException("label is null for index " + index);
    }
    if (Float.isNaN(score)) {
      throw new IllegalArgumentException("score for \"" + label + "\" is NaN");
    }
    this.label = label;
    this.index = index;
    this.score = score;
  }

  public String label() {
    return label;
  }

  public int index() {
    return index;
  }

  public float score() {
    return score;
  }

  /** The score as a percentage with one decimal, "87.3%"; clamped to 0..100. */
  public String percentText() {
    return String.format(Locale.ROOT, "%.1f%%", 100.0 * clamp01(score));
  }

  /**
   * Text shown next to the bar: a percentage for "single_label" and "multi_label" bundles (scores
   * are probabilities), the raw value with three decimals for "regression" (it is not one).
   */
  public String valueText(String task) {
    if ("regression".equals(task)) {
      return String.format(Locale.ROOT, "%.3f", score);
    }
    return percentText();
  }

  /** Progress-bar level for a bar whose maximum is {@code max} (ProgressBar.setMax). */
  public int barLevel(int max) {
    return (int) Math.round(clamp01(score) * max);
  }

  private static double clamp01(float x) {
    return Math.max(0.0, Math.min(1.0, x));
  }

  @Override
  public String toString() {
    return label + " " + percentText();
  }
}
