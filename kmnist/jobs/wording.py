"""What the jobs say to people: durations, progress lines, refusals and why a run failed."""

from __future__ import annotations

import signal

from kmnist.network.config import ConfigError
from kmnist.registry.errors import ModelError


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def progress_line(run_index: int, runs: int, epoch: int, epochs: int, batch: int, steps: int,
                  elapsed: float, eta: float | None) -> str:
    """One line of a job's progress: run, epoch, batch, time spent and left."""
    run = f"run {run_index}/{runs} · " if runs > 1 else ""
    if not steps or not epoch:
        return f"{run}preparing data and building the model… · {format_seconds(elapsed)} elapsed"
    if batch == steps and epoch == epochs:
        left = "testing the best epoch on the test set…"
    elif eta is None:
        left = "estimating…"
    else:
        left = f"about {format_seconds(eta)} left"
    return (f"{run}epoch {epoch}/{epochs} · batch {batch}/{steps} · "
            f"{format_seconds(elapsed)} elapsed · {left}")


def not_owner(owner: str, names: list[str]) -> str:
    return f"only {owner}, who started {', '.join(names)}, can stop it"


def queue_full(owner: str | None, names: list[str], waiting: int) -> str:
    whose = f"{owner} is training {', '.join(names)}; " if owner else ""
    return (f"{whose}{waiting} jobs already wait, the most this server queues; "
            "try again when one has finished")


def not_started(error: BaseException) -> str:
    return (f"The training process could not be started ({type(error).__name__}: {error}); "
            "try again in a moment.")


def ended_after_stop(grace: float) -> str:
    return (f"The training process did not stop within {grace:.0f} s of Stop and was ended; "
            "the best checkpoint it had saved is kept.")


def death_message(exitcode: int | None) -> str:
    """Why a child that sent no last word ended: killed by a signal, or an exit status."""
    if exitcode is not None and exitcode < 0:
        try:
            cause = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            cause = f"killed by signal {-exitcode}"
        hint = " (out of memory?)" if exitcode == -signal.SIGKILL else ""
    else:
        cause, hint = f"exited with status {exitcode}", ""
    return (f"The training process was {cause}{hint} before it finished. The server is fine; the best "
            "checkpoint saved so far is kept, and its card says the run was interrupted. Start again, "
            "perhaps with a smaller batch size or subset.")


def describe_failure(error: BaseException) -> str:
    """A user-worded sentence for an exception raised inside training."""
    if isinstance(error, (ModelError, ConfigError)):
        return f"Training could not continue: {error}"
    if isinstance(error, MemoryError) or "OOM" in str(error) or "out of memory" in str(error).lower():
        return ("Training ran out of memory. Use a smaller batch size or a smaller training subset, "
                "then start again.")
    return (f"Training failed ({type(error).__name__}: {str(error)[:300]}). Nothing was overwritten; "
            "if a best checkpoint was saved its card says the run failed. Try again with other "
            "settings, or report this message.")


def cluster_unreachable(address: str, error: BaseException) -> str:
    why = f"{type(error).__name__}: {str(error)[:160]}"
    return (f"The training cluster at {address} cannot be reached ({why}). "
            "Check that `dask scheduler` runs there and that this server can reach its port, or unset "
            "KMNIST_CLUSTER to train on this server.")


def cluster_lost(address: str, error: BaseException | None = None) -> str:
    why = f" ({type(error).__name__}: {str(error)[:160]})" if error is not None else ""
    return (f"The training cluster's scheduler at {address} stopped answering during this run{why}. "
            "Models already saved are kept; start the scheduler again, then this run again.")


def worker_died(where: str) -> str:
    return (f"The lab machine training this run, worker {where}, died or left the cluster mid-run. "
            "Nothing it trained reached the models folder; start the run again and another worker takes it.")


def worker_restarted(grace: float, where: str | None) -> str:
    return (f"The run did not stop within {grace:.0f} s of Stop, so its worker {where or ''} was restarted; "
            "nothing of this run was saved.")


def waiting_not_kept(address: str) -> str:
    return (f"This run was waiting when the training cluster's scheduler at {address} stopped answering: it "
            "was not kept. Start it again once the scheduler runs again.")


def no_last_word(where: str) -> str:
    return (f"The run on worker {where} ended without reporting how: nothing of it reached the models "
            "folder. Start it again.")
