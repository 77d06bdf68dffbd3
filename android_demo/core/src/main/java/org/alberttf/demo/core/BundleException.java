package org.alberttf.demo.core;

/**
 * A bundle that the app cannot use: names the file and, where there is one, the field.
 *
 * <pre>{@code
 * throw new BundleException("manifest.json", "max_length", "must be a positive integer");
 * // message: "manifest.json: field 'max_length': must be a positive integer"
 * }</pre>
 */
public final class BundleException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final String field;

  public BundleException(String file, String field, String problem) {
    super(file + ": " + (field == null ? "" : "field '" + field + "': ") + problem);
    this.file = file;
    this.field = field;
  }

  /** The bundle file at fault, e.g. {@code manifest.json}. */
  public String file() {
    return file;
  }

  /** The manifest field at fault (dotted path), or null when the whole file is. */
  public String field() {
    return field;
  }
}
