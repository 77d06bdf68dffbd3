package org.alberttf.demo.core;

import java.util.Arrays;
import java.util.Locale;

/**
 * Latency of the last {@code window} classifications, for the line under the result: last,
 * median and 95th percentile (nearest-rank), in milliseconds. Not thread-safe: record and read on
 * one thread (the app does both on the main thread, after the worker returns).
 *
 * <pre>{@code
 * LatencyStats stats = new LatencyStats(50);
 * stats.record(12.5);
 * stats.summary();   // "12.5 ms (median 12.5, p95 12.5, n=1)"
 * }</pre>
 */
public final class LatencyStats {
  private final double[] ring;
  private int size;
  private int next;
  private long total;
  private double last = Double.NaN;

  public LatencyStats(int window) {
    if (window < 1) {
      throw new IllegalArgumentException("window must be >= 1, got " + window);
    }
    ring = new double[window];
  }

  /** Records one latency in milliseconds. */
  public void record(double millis) {
    if (millis < 0 || Double.isNaN(millis) || Double.isInfinite(millis)) {
      throw new IllegalArgumentException("latency must be a finite value >= 0, got " + millis);
    }
    ring[next] = millis;
    next = (next + 1) % ring.length;
    size = Math.min(size + 1, ring.length);
    total++;
    last = millis;
  }

  /** Records the time between two {@code System.nanoTime()} readings. */
  public void recordNanos(long startNanos, long endNanos) {
    record((endNanos - startNanos) / 1e6);
  }

  /** Forgets everything recorded (e.g. after switching between CPU and GPU). */
  public void reset() {
    size = 0;
    next = 0;
    total = 0;
    last = Double.NaN;
  }

  /** Number of latencies recorded since creation (not only those in the window). */
  public long count() {
    return total;
  }

  public double last() {
    return last;
  }

  public double median() {
    return percentile(50);
  }

  public double p95() {
    return percentile(95);
  }

  public double mean() {
    if (size == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += ring[i];
    }
    return sum / size;
  }

  /** Nearest-rank percentile over the window, NaN when empty; p in (0, 100]. */
  public double percentile(double p) {
    if (p <= 0 || p > 100) {
      throw new IllegalArgumentException("percentile must be in (0, 100], got " + p);
    }
    if (size == 0) {
      return Double.NaN;
    }
    double[] values = Arrays.copyOf(ring, size);
    Arrays.sort(values);
    int rank = (int) Math.ceil(p / 100.0 * size);
    return values[Math.max(rank, 1) - 1];
  }

  /** "12.5 ms (median 11.9, p95 14.0, n=20)", or "–" before the first record. */
  public String summary() {
    if (size == 0) {
      return "\u2013";
    }
    return String.format(
        Locale.ROOT, "%.1f ms (median %.1f, p95 %.1f, n=%d)", last, median(), p95(), total);
  }
}
