package org.alberttf.demo.core;

import java.util.Locale;

/**
 * The similarity screen's arithmetic: the cosine of two embeddings (as MediaPipe's
 * TextEmbedder returns them from an albert-tf embedder bundle) and how it is shown.
 *
 * <pre>{@code
 * double c = Similarity.cosine(a, b);  // in [-1, 1]
 * Similarity.describe(c);               // "cosine 0.873"
 * }</pre>
 */
public final class Similarity {
  private Similarity() {}

  /**
   * Cosine of a and b, computed in double. The bundle's vectors are already unit length, but
   * dividing by the norms keeps the result right for a quantized or rounded vector too.
   */
  public static double cosine(float[] a, float[] b) {
    if (a == null || b == null) {
      throw new IllegalArgumentException("an embedding is null");
    }
    if (a.length != b.length || a.length == 0) {
      throw new IllegalArgumentException(
          "embeddings of different or zero length: " + a.length + " and " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      if (Float.isNaN(a[i]) || Float.isNaN(b[i])) {
        throw new IllegalArgumentException("embedding value " + i + " is NaN");
      }
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    if (na == 0 || nb == 0) {
      return 0;
    }
    return dot / Math.sqrt(na * nb);
  }

  /** The cosine as the screen shows it, three decimals. */
  public static String describe(double cosine) {
    return String.format(Locale.ROOT, "cosine %.3f", cosine);
  }
}
