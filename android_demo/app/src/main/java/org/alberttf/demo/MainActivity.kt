package org.alberttf.demo

import android.os.Bundle
import android.view.LayoutInflater
import android.view.View
import android.widget.CompoundButton
import androidx.appcompat.app.AppCompatActivity
import androidx.lifecycle.lifecycleScope
import com.google.mediapipe.tasks.core.Delegate
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext
import org.alberttf.demo.core.BundleException
import org.alberttf.demo.core.LatencyStats
import org.alberttf.demo.core.ScoreRow
import org.alberttf.demo.databinding.ActivityMainBinding
import org.alberttf.demo.databinding.ItemScoreBinding
import java.util.concurrent.Executors

/**
 * One screen: a text box, a Classify button, one score bar per label, the latency, and a CPU/GPU
 * switch. All MediaPipe work runs on one background thread (the task is not thread-safe and
 * must never block the UI thread); the UI thread only draws results.
 */
class MainActivity : AppCompatActivity() {
    private lateinit var binding: ActivityMainBinding

    // A single thread, so create/classify/close of one TextClassifier never overlap.
    private val worker = Executors.newSingleThreadExecutor { r -> Thread(r, "classifier") }
    private val workerDispatcher = worker.asCoroutineDispatcher()

    // Read and written on the main thread only; the worker gets it passed in.
    private var classifier: BundleClassifier? = null
    private val gpuSwitchListener = CompoundButton.OnCheckedChangeListener { _, useGpu ->
        load(if (useGpu) Delegate.GPU else Delegate.CPU)
    }
    private val latency = LatencyStats(50)

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        binding = ActivityMainBinding.inflate(layoutInflater)
        setContentView(binding.root)

        binding.classifyButton.setOnClickListener { classify(binding.inputText.text.toString()) }
        binding.gpuSwitch.setOnCheckedChangeListener(gpuSwitchListener)
        load(Delegate.CPU) // CPU by default: works on every device and for every export mode
    }

    private fun load(delegate: Delegate) {
        val previous = classifier
        classifier = null
        setBusy(true, getString(R.string.status_loading, delegate.name))
        lifecycleScope.launch {
            val outcome = withContext(workerDispatcher) {
                previous?.close()
                runCatching { BundleClassifier.create(this@MainActivity, delegate) }
                    .recoverCatching { error ->
                        if (delegate != Delegate.GPU || error is BundleException) throw error
                        // The GPU delegate needs GPU kernels for the model's ops and a usable
                        // OpenCL/OpenGL driver; an integer-quantized model or an unsupported GPU
                        // fails here. Fall back to CPU and say why.
                        BundleClassifier.create(this@MainActivity, Delegate.CPU).also {
                            it.fallbackReason = error.message ?: error.javaClass.simpleName
                        }
                    }
                    .mapCatching { loaded ->
                        // The first call sets up the TFLite kernels; keep it out of the stats.
                        try {
                            loaded.classify(getString(R.string.warmup_text))
                        } catch (e: Throwable) {
                            loaded.close()
                            throw e
                        }
                        loaded
                    }
            }
            outcome
                .onSuccess { loaded ->
                    classifier = loaded
                    latency.reset()
                    binding.scoreRows.removeAllViews()
                    binding.latencyText.text = ""
                    val reason = loaded.fallbackReason
                    if (reason != null) setGpuSwitchSilently(false)
                    val m = loaded.manifest
                    setBusy(
                        false,
                        if (reason == null) {
                            getString(
                                R.string.status_ready, loaded.delegate.name, m.quantization(),
                                m.maxLength(), loaded.labels.size, m.tokenizerKind(),
                            )
                        } else {
                            getString(R.string.status_gpu_fallback, reason)
                        },
                    )
                }
                .onFailure { error -> setBusy(false, getString(R.string.status_error, error.message)) }
        }
    }

    private fun setGpuSwitchSilently(checked: Boolean) {
        binding.gpuSwitch.setOnCheckedChangeListener(null)
        binding.gpuSwitch.isChecked = checked
        binding.gpuSwitch.setOnCheckedChangeListener(gpuSwitchListener)
    }

    private fun classify(text: String) {
        val current = classifier ?: return
        if (text.isBlank()) {
            binding.statusText.text = getString(R.string.status_empty)
            return
        }
        setBusy(true, null)
        lifecycleScope.launch {
            val outcome = withContext(workerDispatcher) { runCatching { current.classify(text) } }
            outcome
                .onSuccess { result ->
                    latency.recordNanos(0, result.elapsedNanos)
                    showRows(result.rows, current.manifest.task())
                    binding.latencyText.text = getString(R.string.latency, latency.summary())
                    setBusy(false, null)
                }
                .onFailure { error -> setBusy(false, getString(R.string.status_error, error.message)) }
        }
    }

    private fun showRows(rows: List<ScoreRow>, task: String) {
        val container = binding.scoreRows
        container.removeAllViews()
        val inflater = LayoutInflater.from(this)
        for (row in rows) {
            val item = ItemScoreBinding.inflate(inflater, container, true)
            item.label.text = row.label()
            item.value.text = row.valueText(task)
            item.bar.max = BAR_MAX
            item.bar.progress = row.barLevel(BAR_MAX)
            item.bar.visibility = if (task == "regression") View.GONE else View.VISIBLE
        }
    }

    private fun setBusy(busy: Boolean, status: String?) {
        binding.progress.visibility = if (busy) View.VISIBLE else View.GONE
        binding.classifyButton.isEnabled = !busy && classifier != null
        binding.gpuSwitch.isEnabled = !busy
        if (status != null) binding.statusText.text = status
    }

    override fun onDestroy() {
        super.onDestroy()
        // Close on the worker thread, after any classification still queued there.
        val last = classifier
        classifier = null
        worker.execute { last?.close() }
        worker.shutdown()
    }

    private companion object {
        const val BAR_MAX = 1000
    }
}
