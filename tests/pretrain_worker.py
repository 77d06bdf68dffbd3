"""Training process for the multi-worker and kill/resume tests (run as a script).

Trains a very small AlbertPretrainer on fixed synthetic data, deterministically,
and writes its final weights to an .npz file (chief only).

    python tests/pretrain_worker.py --out w.npz [--strategy multi_worker]
        [--run-dir DIR --save-freq 3] [--block-at STEP]

It trains through `fit_and_save` like `albert-tf pretrain`; with `--run-dir`
step checkpoints go to DIR/backup.

`--block-at` prints "BLOCKED <step>" after that step and then waits forever,
so that the test can SIGKILL the process at a known point.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

GLOBAL_BATCH = 8
SEQ, PREDICTIONS, VOCAB = 16, 3, 64


def synthetic_arrays(num_examples: int, seed: int = 7):
    import numpy as np

    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, VOCAB, (num_examples, SEQ)).astype("int32")
    token_ids[:, 0] = 2
    token_ids[:, SEQ // 2] = 3
    segment_ids = np.zeros_like(token_ids)
    segment_ids[:, SEQ // 2 + 1 :] = 1
    positions = np.sort(
        np.stack(
            [rng.choice(np.arange(1, SEQ // 2), PREDICTIONS, replace=False) for _ in token_ids]
        ),
        axis=1,
    ).astype("int32")
    labels = np.take_along_axis(token_ids, positions, axis=1)
    masked = token_ids.copy()
    np.put_along_axis(masked, positions, 4, axis=1)
    weights = np.ones(positions.shape, "float32")
    weights[::3, -1] = 0.0  # some padded predictions, so the weighting matters
    return {
        "token_ids": masked,
        "segment_ids": segment_ids,
        "padding_mask": np.ones_like(token_ids),
        "mask_positions": positions,
        "mlm_labels": labels,
        "mlm_weights": weights,
        "sop_labels": (token_ids[:, 1] % 2).astype("int32"),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--strategy", default="default")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps-per-epoch", type=int, default=5)
    parser.add_argument("--run-dir", default=None)
    parser.add_argument("--save-freq", type=int, default=3)
    parser.add_argument("--block-at", type=int, default=None)
    args = parser.parse_args()

    from albert_tf.training.distribute import get_strategy, is_chief

    # The strategy must exist before any other TensorFlow work in the process.
    strategy = get_strategy(args.strategy)

    import keras
    import numpy as np
    import tensorflow as tf

    from albert_tf import AlbertBackbone, AlbertConfig
    from albert_tf.data.pretraining import arrays_to_dataset
    from albert_tf.training.fit_and_save import StepStream, fit_and_save
    from albert_tf.training.pretraining import compile_pretrainer

    keras.utils.set_random_seed(42)
    tf.config.experimental.enable_op_determinism()

    config = AlbertConfig(
        vocab_size=VOCAB,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=32,
    )
    arrays = synthetic_arrays(GLOBAL_BATCH * args.steps_per_epoch)
    with strategy.scope():
        model = compile_pretrainer(
            AlbertBackbone(config),
            total_steps=args.epochs * args.steps_per_epoch,
            optimizer="adamw",
            learning_rate=3e-3,
            warmup_fraction=0.2,
        )

    def make_dataset(skip: int):
        ds = arrays_to_dataset(arrays, GLOBAL_BATCH, seed=3, repeat=True, drop_remainder=True)
        options = tf.data.Options()
        # Each worker takes its slice of every global batch.
        options.experimental_distribute.auto_shard_policy = (
            tf.data.experimental.AutoShardPolicy.DATA
        )
        return ds.skip(skip).with_options(options)

    class BlockAt(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            step = int(self.model.optimizer.iterations.numpy())
            if args.block_at is not None and step == args.block_at:
                print(f"BLOCKED {step}", flush=True)
                while True:
                    time.sleep(1)

    result = fit_and_save(
        model,
        StepStream(make_dataset, args.steps_per_epoch),
        epochs=args.epochs,
        out_dir=args.run_dir,
        save_freq=args.save_freq,
        callbacks=[BlockAt()],
        verbose=0,
        write=is_chief(strategy),
    )
    if is_chief(strategy):
        weights = {w.path: np.asarray(w.numpy()) for w in model.weights}
        tmp = args.out + ".tmp.npz"
        np.savez(tmp, **weights)
        os.replace(tmp, args.out)
    print("DONE", int(model.optimizer.iterations.numpy()), result.history.get("loss"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
