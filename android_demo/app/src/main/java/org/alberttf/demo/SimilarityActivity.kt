package org.alberttf.demo

import android.os.Bundle
import android.widget.Button
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.TextView
import androidx.appcompat.app.AppCompatActivity
import androidx.lifecycle.lifecycleScope
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import java.util.concurrent.Executors

/**
 * The similarity screen: two texts in, the cosine of their embeddings out (MediaPipe's
 * TextEmbedder on the bundle in assets/embedder). Views are built in code: the screen is four
 * widgets. MediaPipe work runs on one background thread, as in [MainActivity].
 */
class SimilarityActivity : AppCompatActivity() {
    private val worker = Executors.newSingleThreadExecutor { r -> Thread(r, "embedder") }
    private val workerDispatcher = worker.asCoroutineDispatcher()
    private var embedder: BundleEmbedder? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val first = EditText(this).apply { hint = "first text" }
        val second = EditText(this).apply { hint = "second text" }
        val result = TextView(this)
        val compare = Button(this).apply { text = "Compare" }
        setContentView(
            LinearLayout(this).apply {
                orientation = LinearLayout.VERTICAL
                setPadding(32, 32, 32, 32)
                listOf(first, second, compare, result).forEach { addView(it) }
            },
        )
        compare.isEnabled = false
        lifecycleScope.launch {
            val made = withContext(workerDispatcher) {
                runCatching { BundleEmbedder.create(this@SimilarityActivity) }
            }
            made.onSuccess { embedder = it; compare.isEnabled = true }
                .onFailure { result.text = it.message }
        }
        compare.setOnClickListener {
            val model = embedder ?: return@setOnClickListener
            val a = first.text.toString()
            val b = second.text.toString()
            lifecycleScope.launch {
                val outcome = withContext(workerDispatcher) { runCatching { model.compare(a, b) } }
                result.text = outcome.fold(
                    { "${it.text()}  (${it.elapsedNanos / 1_000_000} ms)" },
                    { it.message },
                )
            }
        }
    }

    override fun onDestroy() {
        super.onDestroy()
        val model = embedder
        embedder = null
        worker.execute { model?.close() }
        worker.shutdown()
    }
}
