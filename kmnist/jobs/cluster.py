"""The cluster executor: jobs train on the workers of a Dask distributed cluster, records stream back.

A school starts `dask scheduler` on one machine and a `dask worker` on each lab machine; the app connects
to the scheduler (KMNIST_CLUSTER) and hands it one task per job. On the worker the task trains each run in
a scratch folder, puts every streaming record on a distributed Queue and checks a distributed Event for
Stop; each finished run's files (model, ONNX twin, card) travel back as bytes with its report, and the app
writes them atomically into its own models folder (no shared filesystem). The data goes to each worker
once, under its kmnist.data.files.data_key, and stays there for later jobs.
"""

from __future__ import annotations

import contextlib
import importlib
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from kmnist.data.files import data_key
from kmnist.evaluation.metrics import predict_classes
from kmnist.jobs import supervisor, wording
from kmnist.registry.atomic import atomic_write
from kmnist.registry.store import MODEL_SUFFIX, card_path, model_path, onnx_path

CLUSTER_ENV = "KMNIST_CLUSTER"   # the scheduler's address, e.g. tcp://HOST:8786; unset: train on this server
CONNECT_TIMEOUT = 5.0            # seconds to reach the scheduler before saying it cannot be reached
LOST_AFTER = 4.0                 # seconds without an answer from the scheduler before a run counts as lost
WARM_UP = "kmnist.training.run:warm_up"  # what each worker runs once before its first job
POLL = 0.5                       # seconds between looks at the queue, the worker and the scheduler


class ClusterError(RuntimeError):
    """The cluster cannot be used; the message names the address and what to do."""


class Cluster:
    """One connection to a Dask scheduler, shared by all of the server's jobs."""

    def __init__(self, address: str, timeout: float = CONNECT_TIMEOUT, warm: bool = True):
        from distributed import Client

        self.address = address
        try:
            self.client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as error:
            raise ClusterError(wording.cluster_unreachable(address, error)) from None
        self._data: dict[str, object] = {}  # data key -> the future of that data on the workers
        self._lock = threading.Lock()
        self.warm = warm
        self.warming: dict[str, object] = {}  # worker address -> the future of its warm-up
        self.warm_up_new_workers()

    def warm_up_new_workers(self, workers=None) -> list:
        """The first time the cluster sees a worker, one task on it that does once what a job's first run
        does (WARM_UP), queued ahead of the jobs sent after it: the first job on each worker then takes
        as long as the others, and the estimates hold. Returns the futures of every warm-up so far."""
        if self.warm:
            try:
                with self._lock:
                    for address in workers if workers is not None else self.workers():
                        if address not in self.warming:
                            self.warming[address] = self.client.submit(
                                call, WARM_UP, pure=False, workers=[address], allow_other_workers=False,
                                key=f"kmnist-warm-up-{address}")
            except Exception:  # the scheduler went away: the jobs will say so
                pass
        return list(self.warming.values())

    def workers(self) -> dict[str, int]:
        """Worker address -> its number of threads, asked of the scheduler now (the client's own copy of
        the scheduler's state is refreshed only every few seconds)."""
        return self.client.nthreads()

    def worker_names(self) -> list[str]:
        return sorted(str(info.get("name", address))
                      for address, info in self.client.scheduler_info(n_workers=-1)["workers"].items())

    def slots(self) -> int:
        """Jobs the cluster can train at once: one per worker thread (at least one, so jobs queue)."""
        try:
            workers = self.workers()
            self.warm_up_new_workers(workers)
            return max(1, sum(workers.values()))
        except Exception:  # the scheduler is gone: nothing more starts until it answers again
            return 1

    @property
    def connected(self) -> bool:
        return self.client.status == "running"

    def data_on_workers(self, data):
        """The future of `data` on the workers, scattered once per data_key (every worker gets one
        copy, the first time; a worker that joins later fetches it once, when it first needs it)."""
        key = "kmnist-data-" + data_key(data)
        with self._lock:
            known = self._data.get(key)
            if known is None or known.status != "finished":  # new, or lost with the workers that held it
                [self._data[key]] = self.client.scatter([data], broadcast=True, hash=False)
            return self._data[key]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close(timeout=2)


class ClusterRun:
    """Trains one job on a worker and reports to the job as kmnist.jobs.supervisor.ChildProcess does."""

    pid = None  # no process on this machine

    def __init__(self, job, cluster: Cluster):
        self.job = job
        self.cluster = cluster
        self.worker: dict | None = None  # {"address", "name"} once the task has started on a worker
        self.names = {"records": f"kmnist-records-{job.number}-{id(self):x}",
                      "stop": f"kmnist-stop-{job.number}-{id(self):x}"}
        self._future = None
        self._clock = supervisor.StopClock()

    @property
    def where(self) -> str | None:
        return None if self.worker is None else f"{self.worker['name']} ({self.worker['address']})"

    def start(self) -> bool:
        from distributed import Queue

        try:
            self.cluster.warm_up_new_workers()
            self._queue = Queue(self.names["records"], client=self.cluster.client)
            self._future = self.cluster.client.submit(
                worker_main, supervisor.TRAINER, self.job.runs, self.cluster.data_on_workers(self.job.data),
                self.names, key=f"kmnist-job-{self.job.number}-{id(self):x}", pure=False, retries=0)
        except Exception as error:  # the scheduler went away between two jobs, or the task cannot be sent
            self.job.finish("failed", wording.waiting_not_kept(self.cluster.address)
                            if not self.cluster.connected else wording.describe_failure(error))
            return False
        threading.Thread(target=self._watch, name=f"kmnist-cluster-watch-{self.job.number}",
                         daemon=True).start()
        return True

    def stop(self) -> None:
        self._clock.ask()
        self._tell_the_task_to_stop()

    def _tell_the_task_to_stop(self) -> None:
        from distributed import Event

        with contextlib.suppress(Exception):
            Event(self.names["stop"], client=self.cluster.client).set()

    def _watch(self) -> None:
        """Hand each message to the job until the last word, the worker's death, a Stop not obeyed in
        time or the scheduler's silence; always end the job."""
        outcome, detail, silent_since = None, None, None
        try:
            while outcome is None:
                message = self._next_message()
                if message is not None:
                    silent_since = None
                    outcome, detail = self._keep(*message)
                    continue
                try:
                    if not self.cluster.connected:
                        raise ConnectionError("the client lost the scheduler")
                    outcome, detail = self._check_on_the_task()
                except (OSError, ConnectionError, TimeoutError) as silence:  # CommClosedError is an OSError
                    silent_since = silent_since or time.monotonic()
                    if time.monotonic() - silent_since > LOST_AFTER:
                        outcome, detail = "failed", wording.cluster_lost(self.cluster.address, silence)
        except Exception as error:  # never leave a job running in the server's eyes
            outcome, detail = "failed", wording.describe_failure(error)
        finally:
            if outcome != "done" and self._future is not None:  # never retrained behind the app's back:
                with contextlib.suppress(Exception):
                    self._future.cancel()  # a task not started yet never starts, and a copy that Dask
                if self.cluster.connected:  # started again on another worker (its worker died) stops at
                    self._tell_the_task_to_stop()  # its next batch instead of holding that worker
            self.job.finish(outcome or "failed", detail)

    def _next_message(self):
        try:
            return self._queue.get(timeout=POLL)
        except Exception:  # nothing came in time, or the scheduler did not answer
            return None

    def _keep(self, kind: str, index, payload):
        self._clock.saw(kind, payload)
        if kind == "where":
            if self.worker is not None:  # its worker died and Dask ran the task again on another one
                return "failed", wording.worker_died(self.where)
            self.worker = payload
            return None, None
        if kind == "report":
            result, predicted, files = payload
            result = replace(result, model_path=self._bring_back(files) if files else None)
            return self.job.keep("report", index, (result, predicted))
        return self.job.keep(kind, index, payload)

    def _bring_back(self, files: dict[str, bytes]) -> Path:
        """Write a run's files into the job's models folder, each atomically, the model last (a model
        file is what makes a model exist, so it never appears without its card)."""
        keras_name = next(name for name in files if name.endswith(MODEL_SUFFIX))
        target = self.job.folder / keras_name
        for name, content in sorted(files.items(), key=lambda item: item[0] == keras_name):
            atomic_write(self.job.folder / name, lambda path, data=content: Path(path).write_bytes(data))
        return target

    def _check_on_the_task(self):
        """No message: is the task still going? A dead worker, a failed task or an unheeded Stop end it."""
        future = self._future
        if future.status == "error":
            return "failed", self._failure(future)
        if future.status == "finished":  # the task has ended: its last messages are in the queue, or lost
            message = self._next_message()
            if message is not None:
                return self._keep(*message)
            return "failed", wording.no_last_word(self.where or "a worker")
        if future.status in ("cancelled", "lost"):
            return "failed", wording.worker_died(self.where or "a worker")
        if self.worker is not None and self.worker["address"] not in self.cluster.workers():
            return "failed", wording.worker_died(self.where)
        if self._clock.overdue() > 0:
            if self.worker is None:  # Stop came before the task reached a worker: it never will now
                return "stopped", None
            with contextlib.suppress(Exception):
                self.cluster.client.restart_workers([self.worker["address"]], timeout=30)
            return "stopped", wording.worker_restarted(supervisor.STOP_GRACE, self.where)
        return None, None

    def _failure(self, future) -> str:
        error = future.exception(timeout=5)
        if type(error).__name__ == "KilledWorker":
            return wording.worker_died(self.where or "a worker")
        return wording.describe_failure(error)


class _StopFlag:
    """The app's Stop event as the trainer sees it: a local flag that a thread keeps in step with the
    distributed Event, so the trainer's check at every batch costs no round trip to the scheduler."""

    def __init__(self, event):
        self._event, self._flag, self._done = event, threading.Event(), threading.Event()
        threading.Thread(target=self._follow, daemon=True).start()

    def _follow(self) -> None:
        while not self._done.is_set():
            with contextlib.suppress(Exception):
                if self._event.is_set():
                    self._flag.set()
                    return
            self._done.wait(0.2)

    def is_set(self) -> bool:
        return self._flag.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._flag.wait(timeout)

    def close(self) -> None:
        self._done.set()


def call(path: str):
    """On a worker: the function at `path` ("module:function") called, imported there and only there (the
    web server never imports TensorFlow to send it)."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)()


def _files_of(model_file: Path) -> dict[str, bytes]:
    paths = (model_file, onnx_path(model_file), card_path(model_file))
    return {path.name: path.read_bytes() for path in paths if path.exists()}


def worker_main(trainer_path: str, runs, data, names: dict) -> None:
    """On a worker: train each run in a scratch folder, sending records, reports (with the run's files)
    and a last word over the app's queue."""
    from distributed import Event, Queue, get_worker

    worker = get_worker()
    queue = Queue(names["records"])
    stop = _StopFlag(Event(names["stop"]))
    queue.put(("where", None, {"address": worker.address, "name": str(worker.name)}))
    module, name = trainer_path.split(":")
    trainer = getattr(importlib.import_module(module), name)
    try:
        with tempfile.TemporaryDirectory(prefix="kmnist-") as scratch:
            for index, run in enumerate(runs):
                if stop.is_set():
                    break
                queue.put(("run", index, None))
                result = trainer(run.config, data, model_path(run.name, Path(scratch)),
                                 listeners=[lambda record, run=run: queue.put(
                                     ("record", None, {**record, "run": run.name}))], stop_event=stop)
                predicted = predict_classes(result.model, data.x_test) if result.model is not None else None
                files = _files_of(result.model_path) if result.model_path is not None else {}
                queue.put(("report", index, (replace(result, model=None), predicted, files)))
        queue.put(("done", None, None))
    except BaseException as error:  # the app must learn what happened, in words
        queue.put(("failed", None, wording.describe_failure(error)))
    finally:
        stop.close()
