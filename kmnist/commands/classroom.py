"""`python -m kmnist bench --class N`: N students press Start on the Training page's quick run, measured.

Each simulated student submits the form's default run (the default recipe as a quick run, the default
model name, numbered if taken) through the same ledger the app uses, with an owner of their own, into a
scratch models folder. The class presses Start within PRESS_WINDOW seconds; the command waits for every
job and prints one line each for: refused, done, failed, makespan, wait p50/p95 and the worst error of
the estimated starts the ledger gave the waiting jobs when they joined the line.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from kmnist.data import files as kdata
from kmnist.jobs import wording

PRESS_WINDOW = 3.0      # seconds over which the class presses Start, one student after another
PROBE_SECONDS = 4.0     # how long the scheduler may take to answer, asked before TensorFlow is loaded
TINY = {"epochs": 1, "limit": 300}  # --quick: a run that ends in seconds, for CI


@dataclass(frozen=True)
class Outcome:
    """One student's job as the ledger recorded it (times from time.time()), or why it was refused."""

    student: str
    pressed_at: float
    model: str | None = None
    state: str | None = None
    error: str | None = None
    refused: str | None = None
    queued_at: float | None = None
    started_at: float | None = None
    ended_at: float | None = None
    waited: bool = False                  # it joined the line (no slot was free)
    joined_estimate: float | None = None  # seconds to its start, as estimated when it joined
    estimate_taken_at: float | None = None

    @property
    def wait(self) -> float | None:
        """Seconds from pressing Start to training: the student's wait."""
        return None if self.started_at is None else self.started_at - self.pressed_at

    @property
    def estimate_error(self) -> float | None:
        """|estimated − real wait| / real wait, both counted from when the estimate was taken."""
        if self.joined_estimate is None or self.started_at is None:
            return None
        real = self.started_at - self.estimate_taken_at
        return abs(self.joined_estimate - real) / real if real > 0 else None


def probe(address: str) -> str | None:
    """Why the scheduler at `address` cannot be reached (no Dask handshake within PROBE_SECONDS), or
    None. Made before the ledger (and TensorFlow with it) is imported, so a wrong address is reported in
    seconds."""
    from distributed.comm import connect

    async def hello() -> None:
        comm = await connect(address, timeout=PROBE_SECONDS)
        await comm.close()

    try:
        asyncio.run(asyncio.wait_for(hello(), PROBE_SECONDS + 1))
    except Exception as error:  # refused, timed out, a bad address, something other than a scheduler
        return wording.cluster_unreachable(address, error)
    return None


def class_config(data, quick: bool, epochs: int | None = None, limit: int | None = None):
    """The Training page's default run (its starting form), made TINY by `quick`, sized by `epochs` and
    `limit` when given."""
    from kmnist.network import recipes
    from kmnist.network.config import subset_limit

    train_size = len(data.y_train)
    config = recipes.quick_run(recipes.recipe(recipes.DEFAULT_RECIPE), train_size)
    sizes = (TINY if quick else {}) | {k: v for k, v in {"epochs": epochs, "limit": limit}.items() if v}
    if "limit" in sizes:
        sizes["limit"] = subset_limit(sizes["limit"], train_size)
    config = replace(config, **sizes)
    config.validate(train_size)
    return config


def run_class(students: int, data, config, folder: Path) -> tuple[list[Outcome], float, float]:
    """Students 1..`students` press Start over PRESS_WINDOW seconds, each from a thread of its own as
    sessions of the app would; wait for every job. The outcomes, and when the first press came and the
    last job ended (time.time())."""
    from kmnist.jobs import ledger
    from kmnist.jobs.snapshots import Run
    from kmnist.registry.pairs import pair_name

    name = pair_name(ledger.STUDENT_MODEL, config.pooling)
    jobs: dict[int, tuple] = {}
    refusals: dict[int, tuple] = {}
    first_press = time.time()

    def press(number: int) -> None:
        time.sleep(PRESS_WINDOW * (number - 1) / students)
        pressed = time.time()
        try:
            job = ledger.start([Run(name, config)], f"Student {number}", data, folder,
                               owner_id=f"bench-student-{number}", free_names=True)
        except (ledger.JobBusy, ledger.JobError) as refused:
            refusals[number] = (pressed, str(refused))
            return
        jobs[number] = (pressed, job, job.started_at is None)  # not started on return: it joined the line

    threads = [threading.Thread(target=press, args=(n,), daemon=True) for n in range(1, students + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _, job, _ in jobs.values():
        job.wait()
    outcomes = []
    for number in range(1, students + 1):
        student = f"Student {number}"
        if number in refusals:
            pressed, refused = refusals[number]
            outcomes.append(Outcome(student, pressed, refused=refused))
            continue
        pressed, job, waited = jobs[number]
        snap = job.snapshot()
        outcomes.append(Outcome(student, pressed, job.runs[0].name, snap.state, snap.error, None,
                                job.queued_at, job.started_at, job.ended_at, waited, job.joined_estimate,
                                job.estimate_taken_at))
    last_end = max((o.ended_at for o in outcomes if o.ended_at is not None), default=time.time())
    return outcomes, first_press, last_end


def figures(outcomes: list[Outcome], first_press: float, last_end: float) -> dict:
    """The class's figures: counts, makespan, waits and the estimates' errors."""
    from kmnist.jobs.snapshots import FAILED, FINISHED

    waits = [o.wait for o in outcomes if o.wait is not None]
    waiting = [o for o in outcomes if o.waited]
    errors = [o.estimate_error for o in waiting if o.estimate_error is not None]
    failures = [o for o in outcomes if o.state == FAILED]
    return {"students": len(outcomes),
            "refused": sum(o.refused is not None for o in outcomes),
            "done": sum(o.state == FINISHED for o in outcomes),
            "failed": len(failures),
            "other": sorted({o.state for o in outcomes if o.state not in (None, FINISHED, FAILED)}),
            "first_refusal": next((o.refused for o in outcomes if o.refused), None),
            "first_failure": failures[0].error if failures else None,
            "makespan": last_end - first_press,
            "wait_p50": float(np.percentile(waits, 50)) if waits else None,
            "wait_p95": float(np.percentile(waits, 95)) if waits else None,
            "waited": len(waiting), "estimated": len(errors),
            "worst_estimate_error": max(errors) if errors else None,
            "median_estimate_error": float(np.median(errors)) if errors else None,
            "job_seconds": [o.ended_at - o.started_at for o in outcomes
                            if o.ended_at is not None and o.started_at is not None],
            "joined_after": [o.queued_at - o.pressed_at for o in outcomes if o.queued_at is not None],
            "jobs": [asdict(o) | {"wait": o.wait, "estimate_error": o.estimate_error} for o in outcomes]}


def format_figures(numbers: dict) -> list[str]:
    """The six lines, in order: refused, done, failed, makespan, wait p50/p95, worst estimate error."""
    refused = f"refused: {numbers['refused']} of {numbers['students']}"
    if numbers["first_refusal"]:
        refused += f" (first: {numbers['first_refusal']})"
    failed = f"failed: {numbers['failed']}"
    if numbers["first_failure"]:
        failed += f" (first: {numbers['first_failure']})"
    if numbers["other"]:
        failed += f"; ended otherwise: {', '.join(numbers['other'])}"
    p50, p95 = numbers["wait_p50"], numbers["wait_p95"]
    wait = "wait p50/p95 (s): " + ("none started" if p50 is None else f"{p50:.1f} / {p95:.1f}")
    worst = numbers["worst_estimate_error"]
    estimate = ("worst estimate error (%): " + ("none" if worst is None else f"{worst * 100:.0f}")
                + f" ({numbers['estimated']} of {numbers['waited']} waiting jobs had an estimate"
                + ("" if worst is None else f"; median {numbers['median_estimate_error']:.0%}") + ")")
    return [refused, f"done: {numbers['done']}", failed, f"makespan (s): {numbers['makespan']:.1f}",
            wait, estimate]


def run_classroom(students: int, data_dir=None, cluster: str | None = None, quick: bool = False,
                  epochs: int | None = None, limit: int | None = None, json_out: str | None = None) -> int:
    """The `bench --class` command: 0 when every job trained to its end, 1 when any did not, 2 when the
    cluster cannot be reached."""
    if cluster and (problem := probe(cluster)):
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from kmnist.jobs import executors, ledger

    try:
        executor = executors.ClusterExecutor(cluster) if cluster else executors.LocalExecutor()
    except executors.ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a scheduler that answered the probe, then broke the connection
        print(f"error: {wording.cluster_unreachable(cluster, error)}", file=sys.stderr)
        return 2
    ledger.use(executor)
    if cluster:  # a class meets a server that has been up a while: its workers are warm (cluster.WARM_UP)
        started = time.perf_counter()
        for future in executor.cluster.warm_up_new_workers():
            future.result(timeout=300)
        print(f"workers warmed up in {time.perf_counter() - started:.1f} s", flush=True)
    data = kdata.load(data_dir)
    config = class_config(data, quick, epochs, limit)
    length = f"{config.epochs} epoch{'s' if config.epochs > 1 else ''}"
    print(f"A class of {students}: each presses Start on the Training page's default form ({length} on "
          f"{config.limit or len(data.y_train):,} images, batch {config.batch_size}) within "
          f"{PRESS_WINDOW:g} s; training {executor.describe()}", flush=True)
    try:
        with tempfile.TemporaryDirectory(prefix="kmnist-class-") as folder:
            outcomes, first_press, last_end = run_class(students, data, config, Path(folder))
    finally:
        if cluster:
            executor.cluster.close()
    numbers = figures(outcomes, first_press, last_end)
    print("\n".join(format_figures(numbers)))
    if json_out:
        Path(json_out).write_text(json.dumps(numbers | {"executor": executor.kind, "address": cluster,
                                                        "epochs": config.epochs, "limit": config.limit},
                                             indent=2))
    return 0 if numbers["done"] == students else 1
