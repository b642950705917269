"""`python -m kmnist bench`: our model and machinery against the classic CNN, measured in one run."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from kmnist.data import files as kdata


@dataclass(frozen=True)
class BenchPlan:
    """How much work each part does; --quick shrinks everything to a CI-sized run."""

    limit: int | None          # training images used (None: all)
    classic_epochs: int | None  # None: the classic recipe's own epochs
    default_epochs: int | None  # None: the default recipe's own epochs
    overhead_epochs: int
    overhead_repeats: int
    latency_runs: int
    loading_sizes: tuple[int, int]


OFFICIAL = (kdata.OFFICIAL_SIZES["train"], kdata.OFFICIAL_SIZES["test"])


FULL = BenchPlan(None, None, None, 3, 5, 200, OFFICIAL)


QUICK = BenchPlan(1500, 3, 2, 1, 1, 200, OFFICIAL)  # CI-sized: 3 classic epochs, 2 of ours, one overhead pair


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if platform.system() == "Darwin" else 1024)


MILESTONES = (0.90, 0.95)  # validation accuracies whose first arrival is timed


def time_to_accuracy(history: list[dict]) -> dict[str, float | None]:
    """Seconds of training until validation accuracy first reached each MILESTONE (None: never), from a
    run's per-epoch records (their "elapsed" counts from the start of fit)."""
    return {f"{goal:.0%}": next((r["elapsed"] for r in history if r.get("val_accuracy", 0) >= goal), None)
            for goal in MILESTONES}


def compare_with_classic(dataset, plan: BenchPlan, folder: Path) -> dict:
    """Train the classic CNN, our default model and the Training page's quick run on the same data:
    accuracy, seconds and time to each validation-accuracy milestone."""
    from kmnist.evaluation.unseen import unseen_test
    from kmnist.network.recipes import DEFAULT_RECIPE, FILED_DEFAULT, QUICK_RUN, recipe
    from kmnist.registry.store import model_path
    from kmnist.training.run import train

    runs = {}
    default = recipe(DEFAULT_RECIPE, limit=plan.limit)
    if plan.default_epochs:
        default = replace(default, epochs=plan.default_epochs, patience=plan.default_epochs)
    classic = recipe("classic", limit=plan.limit)
    if plan.classic_epochs:
        classic = replace(classic, epochs=plan.classic_epochs)
    filed = replace(FILED_DEFAULT, limit=plan.limit)  # the reference of the default's time goal
    if plan.default_epochs:
        filed = replace(filed, epochs=plan.default_epochs, patience=plan.default_epochs)
    quick_run = recipe(DEFAULT_RECIPE, **QUICK_RUN | {"limit": plan.limit or QUICK_RUN["limit"]})
    if plan.default_epochs:  # --quick: the quick run cut to as many epochs as the default model's
        quick_run = replace(quick_run, epochs=min(quick_run.epochs, plan.default_epochs))
    configs = {"classic": classic, "default": default, "filed": filed, "quick": quick_run}
    for name, config in configs.items():
        print(f"  training the {name} model ({config.epochs} epochs)…", flush=True)
        result = train(config, dataset, model_path(name, folder))
        epoch_seconds = [r["seconds"] for r in result.history[1:]] or [r["seconds"] for r in result.history]
        card = result.card
        runs[name] = {"accuracy": card.test.accuracy, "macro_auc": card.test.macro_auc,
                      "seconds": card.training_seconds, "epochs": card.epochs_run,
                      "images_per_second": card.data.used["train"]
                      / statistics.median(epoch_seconds),
                      "time_to": time_to_accuracy(result.history),
                      "counted": unseen_test(card, dataset).line(name)}
    runs["peak_memory_mb"] = peak_memory_mb()
    return runs


def streaming_overhead(dataset, plan: BenchPlan) -> dict:
    """Seconds of `fit` with our streaming callback + a listener vs a bare `fit`, same model and data."""
    import keras

    from kmnist.data.pixels import to_model_input
    from kmnist.network.architectures import build_model, compile_model
    from kmnist.network.recipes import DEFAULT_RECIPE, RECIPES
    from kmnist.training.callbacks import StreamingCallback
    from kmnist.training.pipeline import make_dataset, train_val_split, training_subset

    config = RECIPES[DEFAULT_RECIPE]  # its data handling, without augmentation: this times fit itself
    x, y = training_subset(dataset.x_train, dataset.y_train, plan.limit, config.seed)
    (x_train, y_train), (x_val, y_val) = train_val_split(x, y, config.val_fraction, config.seed)
    train_set = make_dataset(x_train, y_train, config.batch_size, shuffle=True, seed=config.seed)
    val_set = make_dataset(x_val, y_val, 512)
    validation = (to_model_input(x_val), y_val)

    def timed(streamed: bool) -> float:
        keras.utils.set_random_seed(config.seed)
        model = compile_model(build_model("max"), keras.optimizers.Adam(1e-3))
        if streamed:
            received = []
            kwargs = {"callbacks": [StreamingCallback(validation, [received.append])]}
        else:
            kwargs = {"validation_data": val_set}
        model.fit(train_set, epochs=1, verbose=0, shuffle=False, **kwargs)  # warm-up: tracing
        started = time.perf_counter()
        model.fit(train_set, epochs=plan.overhead_epochs, verbose=0, shuffle=False, **kwargs)
        return time.perf_counter() - started

    bare, streamed = [], []
    for _ in range(plan.overhead_repeats):  # alternating, so background load hits both alike
        bare.append(timed(False))
        streamed.append(timed(True))
    ratios = [s / b for s, b in zip(streamed, bare, strict=True)]
    return {"bare_seconds": statistics.median(bare), "streamed_seconds": statistics.median(streamed),
            "ratio": statistics.median(ratios), "ratios": ratios,
            "bare_all": bare, "streamed_all": streamed}


def drawing_latency(classifier, dataset, runs: int) -> dict:
    """Milliseconds from a 280x280 RGBA canvas drawing to top-3 classes, p50 and p95, on `classifier`
    (kmnist.registry.inference: ONNX Runtime on the model's twin, as the app uses it)."""
    from PIL import Image

    from kmnist.drawing import predict_drawing

    glyph = np.asarray(Image.fromarray(dataset.x_test[0]).resize((280, 280), Image.Resampling.BILINEAR))
    drawing = np.zeros((280, 280, 4), np.uint8)
    drawing[..., 3] = glyph  # what the canvas returns: black strokes on a transparent background
    predict_drawing(classifier, drawing)  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        predict_drawing(classifier, drawing).top(3)
        times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": float(np.percentile(times, 50)), "p95_ms": float(np.percentile(times, 95)),
            "runs": runs}


def loading_time(dataset, sizes: tuple[int, int], folder: Path) -> dict:
    """Seconds to load (and md5-check) the official sizes from the cache folder.

    Uses the official files when the data folder holds them; otherwise writes a simulated copy of
    60,000 + 10,000 images (real glyphs repeated, compressed like the official npz files).
    """
    source = "official files"
    directory = Path(dataset.provenance.directory)
    if not dataset.provenance.official:
        source = f"simulated {sizes[0]:,} + {sizes[1]:,} images"
        directory = folder / "simulated"
        directory.mkdir()
        for split, size in zip(("train", "test"), sizes, strict=True):
            x, y = dataset.split(split)
            repeat = np.resize(np.arange(len(y)), size)
            images_file, labels_file = kdata.SPLIT_FILES[split]
            np.savez_compressed(directory / images_file, x[repeat])
            np.savez_compressed(directory / labels_file, y[repeat])
    kdata.load(directory)  # first read fills the OS cache, as a warm cache folder would be
    times = []
    for _ in range(3):
        started = time.perf_counter()
        loaded = kdata.load(directory)
        times.append(time.perf_counter() - started)
    return {"seconds": min(times), "images": sum(loaded.provenance.sizes.values()), "source": source}


def format_report(report: dict) -> str:
    cmp, over, lat, load = (report[k] for k in ("comparison", "overhead", "latency", "loading"))
    classic, default, filed, quick = cmp["classic"], cmp["default"], cmp["filed"], cmp["quick"]

    def reached(run: dict) -> str:
        return ", ".join(f"{goal} after {'never' if s is None else f'{s:.1f} s'}"
                         for goal, s in run["time_to"].items())

    rows = [
        ("1 held-out accuracy, classic CNN", f"{classic['accuracy']:.2%}",
         f"{classic['epochs']} epochs, {classic['seconds']:.1f} s training"),
        ("1 held-out accuracy, default model", f"{default['accuracy']:.2%}",
         f"{default['epochs']} epochs, {default['seconds']:.1f} s training"),
        ("1 default vs classic", f"{(default['accuracy'] - classic['accuracy']) * 100:+.2f} points",
         f"time ratio {default['seconds'] / classic['seconds']:.2f}; the default when the goal was set "
         f"({filed['epochs']} epochs, {filed['seconds']:.1f} s, {filed['accuracy']:.2%}) "
         f"{filed['seconds'] / classic['seconds']:.2f} (goal: ≥ +5 points, a time ratio at most twice "
         f"that one: {default['seconds'] / filed['seconds']:.2f}x it)"),
        ("1 held-out accuracy, page's quick run", f"{quick['accuracy']:.2%}",
         f"{quick['epochs']} epochs, {quick['seconds']:.1f} s training (goal: ≥ 90 % within 30 s)"),
        ("2 streaming overhead", f"ratio {over['ratio']:.3f}",
         f"median of {len(over['ratios'])} alternating repeats (range {min(over['ratios']):.3f}–"
         f"{max(over['ratios']):.3f}); {over['streamed_seconds']:.2f} s with callback+listener vs "
         f"{over['bare_seconds']:.2f} s bare (goal ≤ 1.03)"),
        ("3 training throughput", f"{default['images_per_second']:,.0f} img/s",
         "default model, median epoch"),
        ("4 drawing → prediction", f"p50 {lat['p50_ms']:.1f} ms", f"p95 {lat['p95_ms']:.1f} ms over "
         f"{lat['runs']} runs on {lat.get('engine', 'Keras')} (goal p95 ≤ 30 ms)"),
        ("5 data loading", f"{load['seconds']:.2f} s", f"{load['images']:,} images, {load['source']} "
         "(goal ≤ 1 s)"),
        ("6 peak memory of training", f"{cmp['peak_memory_mb']:,.0f} MB", "peak RSS of this process"),
        ("7 time to validation accuracy, default", "", reached(default)),
        ("7 time to validation accuracy, classic", "", reached(classic)),
        ("7 time to validation accuracy, quick run", "", reached(quick)),
    ]
    width = max(len(r[0]) for r in rows)
    lines = [f"KMNIST Studio benchmark — {report['machine']} — {report['date']}",
             f"data: {report['data']}", f"test figures {default.get('counted', '')}", ""]
    lines += [f"{name:<{width}}  {value:<16}  {detail}" for name, value, detail in rows]
    return "\n".join(lines)


def run_benchmark(data_dir=None, quick: bool = False, json_out: str | None = None) -> int:
    plan = QUICK if quick else FULL
    dataset = kdata.load(data_dir)
    started = time.perf_counter()
    report = {"date": time.strftime("%Y-%m-%d"), "quick": quick,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPU cores, {_accelerator()}",
              "data": dataset.provenance.summary}
    with tempfile.TemporaryDirectory(prefix="kmnist-bench-") as folder:
        folder = Path(folder)
        print("1/5 accuracy and training time vs the classic CNN", flush=True)
        report["comparison"] = compare_with_classic(dataset, plan, folder)
        print("2/5 streaming overhead", flush=True)
        report["overhead"] = streaming_overhead(dataset, plan)
        print("3/5 drawing → prediction latency", flush=True)
        from kmnist.registry.inference import load_classifier
        from kmnist.registry.store import model_path

        # the classifier the app and the CLI classify drawings with
        classifier = load_classifier(model_path("default", folder))
        report["latency"] = drawing_latency(classifier, dataset, plan.latency_runs)
        report["latency"]["engine"] = classifier.engine
        print("4/5 data loading", flush=True)
        report["loading"] = loading_time(dataset, plan.loading_sizes, folder)
    report["bench_seconds"] = time.perf_counter() - started
    print("5/5 done\n")
    print(format_report(report))
    print(f"\n(benchmark took {report['bench_seconds']:.0f} s)")
    if json_out:
        Path(json_out).write_text(json.dumps(report, indent=2))
    return 0


def _accelerator() -> str:
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU(s)" if gpus else "no GPU"
