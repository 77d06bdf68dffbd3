package org.alberttf.demo.core;

import java.io.File;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks a bundle folder on a desktop JVM the way the app checks its assets, and prints what the
 * app would read as one JSON object. Used by CI (tests/test_android_contract.py) and handy before
 * copying a bundle into the app.
 *
 * <pre>
 * java -cp core-classes org.alberttf.demo.core.BundleInspector runs/demo/bundle
 * {"max_length": 128, "task": "single_label", "quantization": "dynamic", ...}
 * </pre>
 *
 * <p>Exit status: 0 when the bundle is usable, 2 with the reason on stderr when it is not, 64 on a
 * usage error.
 */
public final class BundleInspector {
  private BundleInspector() {}

  /** Reads and checks {@code bundleDir}; returns the summary the command prints. */
  public static Map<String, Object> inspect(File bundleDir) throws IOException {
    File manifestFile = new File(bundleDir, BundleManifest.FILE_NAME);
    File labelsFile = new File(bundleDir, BundleChecks.LABELS_FILE);
    for (File required : new File[] {manifestFile, labelsFile, new File(bundleDir, "model.tflite")}) {
      if (!required.isFile()) {
        throw new BundleException(required.getName(), null, "missing from " + bundleDir);
      }
    }
    BundleManifest manifest = BundleManifest.parse(BundleChecks.utf8(read(manifestFile)));
    byte[] labelBytes = read(labelsFile);
    List<String> labels = BundleChecks.parseLabels(BundleChecks.utf8(labelBytes));
    BundleChecks.checkLabelsMatchManifest(labels, manifest);
    BundleChecks.checkTokenizerListed(manifest);
    // The phone needs only model.tflite (the tokenizer is inside it), but a bundle folder
    // must hold the tokenizer file its manifest names, so that runtimes reading it can run.
    File tokenizerFile = new File(bundleDir, manifest.tokenizerFile());
    if (manifest.namesTokenizer() && !tokenizerFile.isFile()) {
      throw new BundleException(
          manifest.tokenizerFile(),
          null,
          "missing from "
              + bundleDir
              + " (manifest.json's tokenizer is "
              + manifest.tokenizerKind()
              + ")");
    }

    List<String> checked = new ArrayList<>();
    for (String name : manifest.sha256().keySet()) {
      File file = new File(bundleDir, name);
      if (!file.isFile()) {
        throw new BundleException(name, null, "listed in manifest.json but missing from " + bundleDir);
      }
      BundleChecks.checkSha256(name, read(file), manifest);
      checked.add(name);
    }

    Map<String, Object> out = new LinkedHashMap<>();
    out.put("max_length", (long) manifest.maxLength());
    out.put("task", manifest.task());
    out.put("quantization", manifest.quantization());
    out.put("labels", new ArrayList<Object>(labels));
    out.put("input_tensors", new LinkedHashMap<String, Object>(manifest.inputTensors()));
    out.put("output_tensor", manifest.outputTensor());
    out.put("tokenizer_kind", manifest.tokenizerKind());
    out.put("tokenizer_file", manifest.tokenizerFile());
    out.put("sha256_checked", new ArrayList<Object>(checked));
    out.put("verification_keys", new ArrayList<Object>(manifest.verification().keySet()));
    return out;
  }

  private static byte[] read(File file) throws IOException {
    try (InputStream in = new FileInputStream(file)) {
      return BundleChecks.readFully(in);
    }
  }

  public static void main(String[] args) {
    if (args.length != 1) {
      System.err.println("usage: BundleInspector BUNDLE_DIR");
      System.exit(64);
    }
    try {
      System.out.println(Json.write(inspect(new File(args[0]))));
    } catch (BundleException | IOException e) {
      System.err.println("bundle not usable: " + e.getMessage());
      System.exit(2);
    }
  }
}
