package org.alberttf.demo

import android.content.Context
import com.google.mediapipe.tasks.core.BaseOptions
import com.google.mediapipe.tasks.text.textembedder.TextEmbedder
import org.alberttf.demo.core.BundleChecks
import org.alberttf.demo.core.BundleException
import org.alberttf.demo.core.BundleManifest
import org.alberttf.demo.core.Similarity
import java.io.Closeable
import java.io.FileNotFoundException

/**
 * An albert-tf embedder bundle (`albert-tf export` of a `--task embed` run) in the app's assets
 * under `embedder/`, run by MediaPipe's TextEmbedder. The model carries its tokenizer as
 * metadata; this class checks the model's sha256 against the bundle's manifest.json and gives
 * the cosine of two texts.
 *
 * Not thread-safe: create, use and close it on one worker thread.
 */
class BundleEmbedder private constructor(
    private val embedder: TextEmbedder,
    val manifest: BundleManifest,
) : Closeable {

    /** The cosine of the two texts' embeddings and the time both embeddings took, in ns. */
    class Comparison(val cosine: Double, val elapsedNanos: Long) {
        fun text(): String = Similarity.describe(cosine)
    }

    fun embed(text: String): FloatArray =
        embedder.embed(text).embeddingResult().embeddings()[0].floatEmbedding()

    fun compare(a: String, b: String): Comparison {
        val start = System.nanoTime()
        val cosine = Similarity.cosine(embed(a), embed(b))
        return Comparison(cosine, System.nanoTime() - start)
    }

    override fun close() = embedder.close()

    companion object {
        const val FOLDER = "embedder"
        const val MODEL_ASSET = "$FOLDER/model.tflite"

        /** Reads manifest.json, checks the model's sha256, builds the MediaPipe task. */
        fun create(context: Context): BundleEmbedder {
            val assets = context.assets
            fun bytes(name: String): ByteArray = try {
                assets.open(name).use { BundleChecks.readFully(it) }
            } catch (e: FileNotFoundException) {
                throw BundleException(
                    name, null,
                    "missing from the app's assets: copy an embedder bundle into assets/$FOLDER",
                )
            }
            val manifest = BundleManifest.parse(
                BundleChecks.utf8(bytes("$FOLDER/${BundleManifest.FILE_NAME}")),
            )
            BundleChecks.checkSha256("model.tflite", bytes(MODEL_ASSET), manifest)
            val options = TextEmbedder.TextEmbedderOptions.builder()
                .setBaseOptions(BaseOptions.builder().setModelAssetPath(MODEL_ASSET).build())
                .build()
            return BundleEmbedder(TextEmbedder.createFromOptions(context, options), manifest)
        }
    }
}
