"""A Dask cluster on this machine's loopback, as a school would start it: `dask scheduler` and `dask
worker`s run by the tests (the project folder on their PYTHONPATH, as the README says)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from kmnist.jobs import cluster, executors
from tests.conftest import ROOT

DASK = str(Path(sys.executable).parent / "dask")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]



class LocalCluster:
    """`dask scheduler` and `dask worker`s as a school would start them, on this machine's loopback."""

    def __init__(self, workers: int = 2):
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.scheduler = self._spawn("scheduler", "--host", "127.0.0.1", "--port", str(self.port),
                                     "--no-dashboard")
        self.workers = [self._spawn("worker", self.address, "--nthreads", "1", "--name", f"lab-{n}",
                                    "--no-dashboard") for n in range(1, workers + 1)]

    def _spawn(self, *args) -> subprocess.Popen:
        return subprocess.Popen([DASK, *args], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)

    def connect(self, workers: int = 2, warm: bool = False) -> executors.ClusterExecutor:
        """The app's executor on this cluster, once `workers` have joined; `warm`: each worker first trains
        a tiny run (training.run.warm_up), as in the app; the fault tests leave it out (25 s a worker)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                executor = executors.ClusterExecutor(self.address, cluster.Cluster(self.address, warm=warm))
                break
            except cluster.ClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        executor.cluster.client.wait_for_workers(workers, timeout=60)
        return executor

    def stop(self) -> None:
        for process in [*self.workers, self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
