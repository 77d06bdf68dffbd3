"""Side-by-side benchmarks of albert-tf against other libraries (`make bench`).

Each `bench_*.py` script is a comparison run in a process of its own; it writes
`benchmarks/results/<name>.json`, and `benchmarks.report` turns every JSON file
there into `BENCHMARKS.md` with tables and PNG plots. No figure is typed by hand.

Results schema (what `benchmarks.common.write_results` writes and the report
renders as tables with medians, spread and ratios; other keys are rendered as
generic tables):

    {"benchmark": "inference", "title": "...", "command": "python -m ...",
     "machine": {...}, "settings": {...}, "notes": ["..."],
     "skipped": [{"system": "...", "reason": "..."}],
     "rows": [{"group": "batch 1, length 128", "system": "albert-tf (Keras)",
               "metric": "latency_ms", "unit": "ms", "median": 12.3, "p25": 12.0,
               "p75": 12.9, "min": 11.8, "max": 13.5, "n": 10,
               "lower_is_better": true, "baseline": false, "ours": true,
               "extra": {"model_mb": 45.1}, "plot_only": false}],
     "key_groups": ["batch 1, length 128"],  # optional: groups quoted in Key ratios
     "plots": [{"file": "inference_seq.png", "title": "...", "kind": "line" | "bar",
                "x": "seq_length", "metric": "latency_ms", "where": {...},
                "logx": false, "logy": false}]}

Example:
>>> from benchmarks.common import summarize
>>> summarize([1.0, 2.0, 3.0])["median"]
2.0
"""
