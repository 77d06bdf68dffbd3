package org.alberttf.demo

import android.content.Context
import com.google.mediapipe.tasks.core.BaseOptions
import com.google.mediapipe.tasks.core.Delegate
import com.google.mediapipe.tasks.text.textclassifier.TextClassifier
import org.alberttf.demo.core.BundleChecks
import org.alberttf.demo.core.BundleException
import org.alberttf.demo.core.BundleManifest
import org.alberttf.demo.core.ResultFormatter
import org.alberttf.demo.core.ScoreRow
import java.io.Closeable
import java.io.FileNotFoundException

/**
 * An exported albert-tf bundle in the app's assets, run by MediaPipe's TextClassifier.
 *
 * The model file carries its own tokenizer (SentencePiece, or WordPiece: BERT's vocab.txt, as the
 * manifest's `tokenizer.kind` says) and labels as TFLite metadata, so MediaPipe tokenizes
 * (ASCII lower-cased, truncated to the manifest's max_length) and maps outputs to label names by
 * itself; this class only checks that what it returns agrees with the bundle's manifest.json and
 * labels.txt, and times each call.
 *
 * Not thread-safe: create, classify and close it on one worker thread.
 *
 * ```
 * val classifier = BundleClassifier.create(context, Delegate.CPU)
 * val result = classifier.classify("a gripping, funny film")
 * result.rows.first().label()   // "positive"
 * ```
 */
class BundleClassifier private constructor(
    private val classifier: TextClassifier,
    val manifest: BundleManifest,
    val labels: List<String>,
    val delegate: Delegate,
) : Closeable {

    /** Set when GPU was asked for but could not be used, so this CPU instance stands in. */
    var fallbackReason: String? = null

    /** Rows sorted by score, and the time MediaPipe took (tokenizing + inference), in ns. */
    class Classification(val rows: List<ScoreRow>, val elapsedNanos: Long)

    fun classify(text: String): Classification {
        val start = System.nanoTime()
        val result = classifier.classify(text)
        val elapsed = System.nanoTime() - start
        // One classification head: the model has a single `probability` output.
        val categories = result.classificationResult().classifications()[0].categories()
        val rows = categories.map { ScoreRow(it.categoryName(), it.index(), it.score()) }
        BundleChecks.checkModelCategories(labels, rows)
        return Classification(ResultFormatter.sorted(rows), elapsed)
    }

    override fun close() = classifier.close()

    companion object {
        const val MODEL_ASSET = "model.tflite"

        /**
         * Reads and checks manifest.json and labels.txt, checks every file's sha256 against the
         * manifest (a stale copy of one file otherwise shows wrong labels silently), then builds
         * the MediaPipe task. Throws [BundleException] naming the file at fault.
         */
        fun create(context: Context, delegate: Delegate): BundleClassifier {
            val assets = context.assets
            fun bytes(name: String): ByteArray = try {
                assets.open(name).use { BundleChecks.readFully(it) }
            } catch (e: FileNotFoundException) {
                throw BundleException(
                    name, null,
                    "missing from the app's assets: run `./gradlew copyBundle` " +
                        "(or scripts/copy_bundle.sh) and rebuild",
                )
            }

            val manifest = BundleManifest.parse(BundleChecks.utf8(bytes(BundleManifest.FILE_NAME)))
            val labelBytes = bytes(BundleChecks.LABELS_FILE)
            BundleChecks.checkSha256(BundleChecks.LABELS_FILE, labelBytes, manifest)
            val labels = BundleChecks.parseLabels(BundleChecks.utf8(labelBytes))
            BundleChecks.checkLabelsMatchManifest(labels, manifest)
            try {
                assets.open(MODEL_ASSET).use { BundleChecks.checkSha256(MODEL_ASSET, it, manifest) }
            } catch (e: FileNotFoundException) {
                bytes(MODEL_ASSET) // rethrows as the BundleException above
            }

            val baseOptions = BaseOptions.builder()
                .setModelAssetPath(MODEL_ASSET)
                .setDelegate(delegate)
                .build()
            // No maxResults: every category comes back, so all labels can be checked and drawn.
            val options = TextClassifier.TextClassifierOptions.builder()
                .setBaseOptions(baseOptions)
                .build()
            val classifier = TextClassifier.createFromOptions(context, options)
            return BundleClassifier(classifier, manifest, labels, delegate)
        }
    }
}
