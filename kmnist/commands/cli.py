"""The headless command line: fetch, train, evaluate, predict, export (and bench)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kmnist.data import files as kdata
from kmnist.network.architectures import ARCHITECTURES, POOLINGS


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits 2."""

    def error(self, message):
        command = " ".join(["python -m kmnist", *self.prog.split()[1:]])  # prog: "kmnist" or "kmnist train"
        self.exit(2, f"error: {message} (see `{command} --help`)\n")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


MODEL_HELP = "a model's name in the models folder (e.g. studio-max) or the path of its .keras file"


def build_parser() -> argparse.ArgumentParser:
    from kmnist.network.recipes import RECIPES

    parser = OneLineParser(prog="kmnist", description="KMNIST Studio from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    def command(name: str, handler, help: str, data: bool = True):
        sub = commands.add_parser(name, help=help)
        sub.set_defaults(handler=handler)
        if data:
            sub.add_argument("--data", help=f"data folder (default: ${kdata.DATA_ENV} or ~/.cache/kmnist)")
        return sub

    command("fetch", cmd_fetch, "download/verify the data, print its provenance")

    train = command("train", cmd_train, "train a CNN with a recipe and save it with its card")
    train.add_argument("--recipe", choices=tuple(RECIPES), default=None,
                       help="named settings (default: studio; classic is the Keras simple CNN's own)")
    train.add_argument("--pooling", choices=POOLINGS, default=None, help="default: the recipe's")
    train.add_argument("--architecture", choices=ARCHITECTURES, default=None,
                       help="the network; alone it also picks the recipe of the same name")
    train.add_argument("--epochs", type=_positive, default=None)
    train.add_argument("--batch-size", type=_positive, default=None)
    train.add_argument("--learning-rate", type=float, default=None)
    train.add_argument("--limit", type=_positive, default=None, help="train on a stratified subset")
    train.add_argument("--seed", type=int, default=None, help="default: the recipe's seed")
    train.add_argument("--patience", type=_positive, default=None,
                       help="epochs without a better validation accuracy before stopping early")
    train.add_argument("--no-augment", action="store_true")
    train.add_argument("--overwrite", action="store_true", help="replace an existing model")
    train.add_argument("--out", required=True, help="where to save, PATH.keras")

    evaluate = command("evaluate", cmd_evaluate, "test metrics of a saved model")
    evaluate.add_argument("model", help=MODEL_HELP)
    evaluate.add_argument("--json", action="store_true")

    predict = command("predict", cmd_predict, "classify image files (drawings, PNG, ...)", data=False)
    predict.add_argument("model", help=MODEL_HELP)
    predict.add_argument("files", nargs="+")
    predict.add_argument("--json", action="store_true")

    export = command("export", cmd_export, "write a model's ONNX twin (NAME.onnx) and record it in its card")
    export.add_argument("model", help=MODEL_HELP)
    export.add_argument("--force", action="store_true", help="write it even if the twin is up to date")

    bench = command("bench", cmd_bench, "benchmark against the classic CNN, or a class training at once")
    bench.add_argument("--quick", action="store_true", help="a reduced run for CI")
    bench.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    bench.add_argument("--class", dest="students", type=_positive, metavar="N",
                       help="instead: N students press Start on the Training page's quick run at once")
    bench.add_argument("--cluster", metavar="ADDRESS",
                       help="with --class: train on the Dask scheduler at ADDRESS (e.g. tcp://HOST:8786)")
    bench.add_argument("--epochs", type=_positive, help="with --class: each run's epochs")
    bench.add_argument("--limit", type=_positive, help="with --class: each run's training images")
    return parser


def cmd_fetch(args) -> int:
    def progress(name, index, total):
        print(f"downloading {name} ({index + 1}/{total})", file=sys.stderr)

    directory = kdata.fetch(args.data, progress=progress)
    print(kdata.load(directory).provenance.summary)
    return 0


def _epoch_line(record: dict, epochs: int) -> str:
    if record["kind"] != "epoch":
        return ""
    parts = [f"epoch {record['epoch']}/{epochs}"]
    for key in ("loss", "accuracy", "auc", "val_loss", "val_accuracy", "val_auc"):
        if key in record:
            parts.append(f"{key} {record[key]:.4f}")
    parts.append(f"{record['seconds']:.1f}s" + (" (interrupted)" if record.get("interrupted") else ""))
    return "  ".join(parts)


def cmd_train(args) -> int:
    from kmnist.network.recipes import DEFAULT_RECIPE, recipe
    from kmnist.registry.store import check_new_model

    overrides = {"limit": args.limit}
    for name in ("pooling", "architecture", "epochs", "batch_size", "learning_rate", "seed", "patience"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.no_augment:
        overrides["augment"] = False
    config = recipe(args.recipe or args.architecture or DEFAULT_RECIPE, **overrides)
    dataset = kdata.load(args.data)
    config.validate(len(dataset.y_train))
    check_new_model(Path(args.out), args.overwrite)  # said at once, before TensorFlow is imported
    print(dataset.provenance.summary, flush=True)
    from kmnist.training.run import train

    def report(record):
        if record["kind"] == "epoch":
            print(_epoch_line(record, config.epochs), flush=True)

    result = train(config, dataset, args.out, [report], overwrite=args.overwrite)
    print(result.message)
    if result.card:
        print(f"training took {result.card.training_seconds:.1f} s")
    return 0 if result.model_path else 1


def _model_path(text: str) -> Path:
    """A model given by path (m.keras, folder/m.keras, folder/m: its .keras file) or by name (studio-max:
    in the models folder)."""
    from kmnist.registry.store import MODEL_SUFFIX, check_name, model_path

    path = Path(text)
    if path.suffix == MODEL_SUFFIX:
        return path
    if len(path.parts) > 1:  # models/studio-max means models/studio-max.keras
        return path.with_name(path.name + MODEL_SUFFIX)
    return model_path(check_name(text))


def _load_model(text: str):
    from kmnist.registry.store import load_model

    return load_model(_model_path(text))


def cmd_evaluate(args) -> int:
    from kmnist.data.classes import CLASSES
    from kmnist.evaluation.metrics import evaluate
    from kmnist.evaluation.unseen import unseen_test
    from kmnist.registry.store import load_model, read_card

    path = _model_path(args.model)  # resolved once: the model and its card
    model, card = load_model(path), read_card(path)
    dataset = kdata.load(args.data)
    counted = unseen_test(card, dataset)
    if not len(counted.keep):
        raise kdata.DataError(f"{path.stem} trained or validated on every test image of this copy "
                              f"({counted.left_out:,}): no fair figure can be given; evaluate it on "
                              "another copy")
    scores = evaluate(model, dataset.x_test[counted.keep], dataset.y_test[counted.keep])
    if args.json:
        print(json.dumps(scores | {"data": dataset.provenance.to_dict(), "left_out": counted.left_out,
                                   "known": counted.known, "counted": counted.line(path.stem)}))
        return 0
    print(dataset.provenance.summary)
    print(f"test accuracy {scores['accuracy']:.4f}  macro AUC {scores['macro_auc']:.4f}  "
          f"loss {scores['loss']:.4f}, {counted.line(path.stem)}")
    for kana, accuracy in zip(CLASSES, scores["per_class_accuracy"], strict=False):
        print(f"  {kana.label:<10} {accuracy:.4f}")
    return 0


def cmd_predict(args) -> int:
    from PIL import Image, UnidentifiedImageError

    from kmnist.data.classes import CLASSES
    from kmnist.drawing import BlankDrawingError, predict_drawing
    from kmnist.registry.inference import load_classifier

    classifier = load_classifier(_model_path(args.model))
    because = f" ({classifier.fallback_reason})" if classifier.fallback_reason else ""
    print(f"answered by {classifier.engine}{because}", file=sys.stderr if args.json else sys.stdout)
    failures = 0
    for file in args.files:
        try:
            with Image.open(file) as image:
                top = predict_drawing(classifier, image.convert("RGBA")).top(3)
            outcome = {"file": file, "top": top, "engine": classifier.engine}
        except (OSError, UnidentifiedImageError) as error:
            outcome = {"file": file, "error": f"unreadable image: {error}"}
        except BlankDrawingError as error:
            outcome = {"file": file, "error": error.for_a_file()}
        failures += "error" in outcome
        if args.json:
            print(json.dumps(outcome, ensure_ascii=False))
        elif "error" in outcome:
            print(f"{file}: {outcome['error']}")
        else:
            print(f"{file}: " + ", ".join(f"{CLASSES[t['class']].name} {t['prob']:.1%}" for t in top))
    return 1 if failures == len(args.files) else 0


def cmd_export(args) -> int:
    from kmnist.data.pixels import to_model_input
    from kmnist.registry.errors import ModelError
    from kmnist.registry.export import CHECK_IMAGES, export_fix, export_model
    from kmnist.registry.inference import verified_onnx

    path = _model_path(args.model)
    if not args.force:
        try:
            twin = verified_onnx(path)
        except ModelError as problem:  # without its advice to run the very command being run
            reason = str(problem).removesuffix(export_fix(path)).rstrip(":; ")
            print(f"writing the ONNX twin: {reason}", flush=True)
        else:
            print(f"{twin.path} is up to date (sha256 {twin.sha256}); nothing to do (--force writes "
                  "it again)")
            return 0
    try:
        dataset = kdata.load(args.data)
        images, checked_on = to_model_input(dataset.x_test[:CHECK_IMAGES]), "test images"
    except kdata.DataError as error:
        print(f"no data ({error}): comparing with Keras on fixed noise instead", flush=True)
        images, checked_on = None, "noise images"
    exported = export_model(path, images)
    record = exported.record
    outputs = ", ".join(f"{output.name} ({output.layer})" for output in record.outputs)
    differences = ", ".join(f"{name} {value:.1e}" for name, value in exported.max_difference.items())
    print(f"wrote {path.with_name(record.file)} in {exported.seconds:.2f} s")
    print(f"  sha256   {record.sha256}")
    print(f"  opset    {record.opset}")
    print(f"  outputs  {outputs}")
    print(f"  max |ONNX Runtime - Keras| on {exported.checked_on} {checked_on}: {differences}")
    return 0


def cmd_bench(args) -> int:
    from kmnist.commands.bench import run_benchmark
    from kmnist.commands.classroom import run_classroom

    if args.students:
        return run_classroom(args.students, args.data, args.cluster, args.quick, args.epochs, args.limit,
                             args.json)
    if args.cluster or args.epochs or args.limit:
        print("error: --cluster, --epochs and --limit go with --class N", file=sys.stderr)
        return 2
    return run_benchmark(args.data, quick=args.quick, json_out=args.json)


def main(argv=None) -> int:
    from kmnist.network.config import ConfigError
    from kmnist.registry.errors import ModelError

    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (kdata.DataError, ModelError, ConfigError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
