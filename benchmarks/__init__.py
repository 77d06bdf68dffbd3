"""Side-by-side benchmarks of albert-tf against other libraries (`make bench`).

Each `bench_*.py` script is a comparison run in a process of its own; it writes
`benchmarks/results/<name>.json`, and `benchmarks.report` turns those files
into `BENCHMARKS.md` with tables and PNG plots. No figure is typed by hand.

The scripts here are exactly those whose results BENCHMARKS.md shows
(`run_all.BENCHMARKS`, plus `bench_recipe_defaults` and `student_op_profile`,
run by hand), and `bench_long_texts`, the measurement behind the head + tail cut
(docs/CONTRACTS.md section 1).

Results schema (what `benchmarks.common.write_results` writes): the command, the
machine (`common.machine_info`) and `rows`; timing rows made with
`benchmarks.common.row` look like

    {"benchmark": "training", "title": "...", "command": "python -m ...",
     "machine": {...}, "settings": {...}, "notes": ["..."],
     "rows": [{"group": "batch 32, length 64", "system": "albert-tf (Keras/TF)",
               "metric": "tokens_per_s", "unit": "tokens/s", "median": 12.3, "p25": 12.0,
               "p75": 12.9, "min": 11.8, "max": 13.5, "n": 10,
               "lower_is_better": false, "baseline": false, "ours": true,
               "extra": {"first_step_s": 3.1}, "plot_only": false}],
     "key_groups": ["..."]}  # optional: groups quoted in Key ratios

and `benchmarks.report` has one function per section that knows its file's rows.

Example:
>>> from benchmarks.common import summarize
>>> summarize([1.0, 2.0, 3.0])["median"]
2.0
"""
