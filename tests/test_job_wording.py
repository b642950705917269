"""kmnist.jobs.wording: what the jobs say to people, word for word where the words are the point."""

import signal

import pytest

from kmnist.jobs import wording
from kmnist.network.config import ConfigError
from kmnist.registry.errors import ModelError


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (5.4, "5 s"), (59.4, "59 s"), (59.6, "1 min 00 s"),
                                           (125, "2 min 05 s"), (3600, "60 min 00 s"), (-3, "0 s")])
def test_format_seconds(seconds, text):
    assert wording.format_seconds(seconds) == text


def test_a_progress_line_names_the_run_epoch_batch_and_time():
    assert (wording.progress_line(2, 2, 3, 5, 7, 20, 70, 30)
            == "run 2/2 · epoch 3/5 · batch 7/20 · 1 min 10 s elapsed · about 30 s left")
    assert (wording.progress_line(1, 1, 1, 5, 1, 20, 4, None)
            == "epoch 1/5 · batch 1/20 · 4 s elapsed · estimating…")  # one run: no "run 1/1"


def test_before_the_first_batch_and_after_the_last_the_line_says_what_happens():
    assert (wording.progress_line(1, 2, 0, 5, 0, 0, 3, None)
            == "run 1/2 · preparing data and building the model… · 3 s elapsed")
    last = wording.progress_line(1, 1, 5, 5, 20, 20, 90, 0)
    assert last.endswith("· testing the best epoch on the test set…")
    assert wording.progress_line(1, 1, 4, 5, 20, 20, 90, 12).endswith("· about 12 s left")  # an epoch to go


def test_refusals_say_who_and_why():
    assert wording.not_owner("Ann", ["a-max", "a-avg"]) == "only Ann, who started a-max, a-avg, can stop it"
    assert wording.queue_full("Ann", ["first"], 10) == (
        "Ann is training first; 10 jobs already wait, the most this server queues; "
        "try again when one has finished")
    assert wording.queue_full(None, [], 10).startswith("10 jobs already wait")


def test_a_process_that_would_not_start_or_stop_is_explained():
    assert (wording.not_started(OSError("Too many open files"))
            == "The training process could not be started (OSError: Too many open files); try again in a "
               "moment.")
    ended = wording.ended_after_stop(20.0)
    assert "did not stop within 20 s of Stop" in ended and "best checkpoint it had saved is kept" in ended


def test_a_death_names_the_signal_or_the_status():
    killed = wording.death_message(-signal.SIGKILL)
    assert killed.startswith("The training process was killed by signal SIGKILL (out of memory?) before it "
                             "finished.")
    assert "its card says the run was interrupted" in killed
    assert "killed by signal SIGTERM before" in wording.death_message(-signal.SIGTERM)  # no memory hint
    assert "killed by signal 99 before" in wording.death_message(-99)  # no such signal name
    assert "exited with status 3 before" in wording.death_message(3)


@pytest.mark.parametrize("error", [ModelError("folder /x does not exist"), ConfigError("epochs must be 1+")])
def test_problems_we_word_ourselves_are_passed_on_as_they_are(error):
    assert wording.describe_failure(error) == f"Training could not continue: {error}"


@pytest.mark.parametrize("error", [MemoryError(), RuntimeError("OOM when allocating tensor"),
                                   RuntimeError("CUDA error: Out Of Memory")])
def test_running_out_of_memory_suggests_a_smaller_run(error):
    assert wording.describe_failure(error).startswith("Training ran out of memory. Use a smaller batch size")


def test_any_other_failure_names_its_type_and_a_bounded_message():
    message = wording.describe_failure(RuntimeError("boom"))
    assert message.startswith("Training failed (RuntimeError: boom). Nothing was overwritten")
    assert "Traceback" not in message
    long = wording.describe_failure(ValueError("x" * 1000))
    assert "x" * 300 in long and "x" * 301 not in long


def test_cluster_troubles_name_the_address_or_worker_and_what_to_do():
    unreachable = wording.cluster_unreachable("tcp://lab:8786", OSError("timed out"))
    assert unreachable.startswith("The training cluster at tcp://lab:8786 cannot be reached (OSError: timed "
                                  "out)")
    assert "unset KMNIST_CLUSTER" in unreachable
    assert "(TimeoutError: x)" in wording.cluster_lost("tcp://lab:8786", TimeoutError("x"))
    assert "during this run. Models already saved" in wording.cluster_lost("tcp://lab:8786")
    assert "worker tcp://10.0.0.7:4000, died or left" in wording.worker_died("tcp://10.0.0.7:4000")
    restarted = wording.worker_restarted(20.0, "tcp://10.0.0.7:4000")
    assert "within 20 s of Stop, so its worker tcp://10.0.0.7:4000 was restarted" in restarted
