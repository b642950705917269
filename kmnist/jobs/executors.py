"""Where jobs run: on this server in child processes (local), or on a Dask cluster's workers (cluster).

The ledger (kmnist.jobs.ledger) asks an executor how many jobs may run at once (`slots`) and for a runner
of each job it starts; a runner starts the job, stops it, and reports to it until it ends. The Training
page asks the executor to `prepare` when it opens, so the first Start is as quick as the next.
"""

from __future__ import annotations

import os

from kmnist.jobs import supervisor
from kmnist.jobs.cluster import CLUSTER_ENV, Cluster, ClusterError, ClusterRun
from kmnist.jobs.supervisor import ChildProcess

SLOTS_ENV = "KMNIST_SLOTS"  # how many jobs train at once on this server (local executor)


def default_slots(cores: int | None = None) -> int:
    """One job at a time on a machine of up to 4 cores (two TensorFlow trainings on 2 cores take longer
    together than one after the other), then one more for every 4 cores."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // 4)


class LocalExecutor:
    """Each job in a child process of this server, at most `slots` at once."""

    kind = "local"

    def __init__(self, slots: int | None = None):
        self._slots = slots or configured_slots() or default_slots()

    def slots(self) -> int:
        return self._slots

    def runner(self, job) -> ChildProcess:
        return ChildProcess(job)

    def prepare(self) -> None:
        """Get ready to start jobs quickly: the fork server imports TensorFlow in the background."""
        supervisor.warm()

    def describe(self) -> str:
        return (f"on this server, {self._slots} job{'s' if self._slots > 1 else ''} at a time "
                f"(set {SLOTS_ENV} to change it; set {CLUSTER_ENV} to train on a Dask cluster)")


class ClusterExecutor:
    """Each job as a task on a Dask cluster's workers, as many at once as the workers have threads."""

    kind = "cluster"

    def __init__(self, address: str, cluster: Cluster | None = None):
        self.address = address
        self.cluster = cluster or Cluster(address)  # ClusterError, worded, if the scheduler cannot be reached

    def slots(self) -> int:
        return self.cluster.slots()

    def runner(self, job) -> ClusterRun:
        return ClusterRun(job, self.cluster)

    def prepare(self) -> None:
        """Nothing to do here: each worker imports TensorFlow once, with its first job."""

    def describe(self) -> str:
        try:
            names = self.cluster.worker_names() if self.cluster.connected else []
        except Exception:  # the scheduler went quiet between two questions
            names = []
        listed = f" ({', '.join(names)})" if names else ""
        slots = self.slots()
        return (f"on the Dask cluster at {self.address}: {len(names)} worker"
                f"{'s' if len(names) != 1 else ''}{listed}, {slots} job{'s' if slots != 1 else ''} at a time")


def configured_slots(environ=os.environ) -> int | None:
    """The local slots KMNIST_SLOTS sets (a whole number of at least 1), or None."""
    value = environ.get(SLOTS_ENV, "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


def cluster_address(environ=os.environ) -> str | None:
    """The Dask scheduler KMNIST_CLUSTER names, or None to train on this server."""
    return environ.get(CLUSTER_ENV, "").strip() or None


def from_settings(environ=os.environ):
    """The executor the settings name: the cluster at KMNIST_CLUSTER, else local with KMNIST_SLOTS slots.
    ClusterError when the cluster is named but cannot be reached."""
    address = cluster_address(environ)
    return ClusterExecutor(address) if address else LocalExecutor(configured_slots(environ))


__all__ = ["ClusterError", "ClusterExecutor", "LocalExecutor", "default_slots", "from_settings"]
