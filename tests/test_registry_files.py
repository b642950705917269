"""kmnist.registry's small file helpers: atomic writes, content checksums, one lock per model."""

import errno
import gc
import hashlib
import os
import threading
import weakref

import pytest

from kmnist.registry import atomic, hashing, locks
from kmnist.registry.errors import ModelError


# -- atomic: a complete file or the previous one, never half of one ---------------------------------------
def test_an_atomic_write_lands_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "m.card.json"
    target.write_text("old")
    seen = []

    def write(tmp):
        seen.append(tmp)
        assert target.read_text() == "old"  # the target is untouched while the new one is written
        with open(tmp, "w") as handle:
            handle.write("new")

    atomic.atomic_write(target, write)
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["m.card.json"]
    assert os.path.dirname(seen[0]) == str(tmp_path)  # beside the target: the rename cannot cross disks
    assert os.path.basename(seen[0]).startswith(".m.card.json.") and seen[0].endswith(".tmp.json")


def test_an_atomic_write_is_readable_by_everyone_the_umask_allows(tmp_path):
    target = tmp_path / "m.keras"
    atomic.atomic_write(target, lambda tmp: open(tmp, "wb").close())
    assert target.stat().st_mode & 0o777 == 0o666 & ~atomic._UMASK  # not mkstemp's private 0600


def test_a_failed_write_keeps_the_previous_file_and_words_the_error(tmp_path):
    target = tmp_path / "m.keras"
    target.write_bytes(b"the previous model")

    def full_disk(tmp):
        with open(tmp, "wb") as handle:
            handle.write(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    words = r"could not save .*m\.keras \(No space left on device\); the previous file, if any, is unchanged"
    with pytest.raises(ModelError, match=words):
        atomic.atomic_write(target, full_disk)
    assert target.read_bytes() == b"the previous model" and os.listdir(tmp_path) == ["m.keras"]


def test_an_error_that_is_not_about_the_disk_passes_through_after_the_clean_up(tmp_path):
    def broken(tmp):
        raise KeyError("a bug in the writer")

    with pytest.raises(KeyError, match="a bug in the writer"):
        atomic.atomic_write(tmp_path / "m.keras", broken)
    assert os.listdir(tmp_path) == []


def test_a_missing_folder_is_a_model_error_that_names_it(tmp_path):
    with pytest.raises(ModelError, match=f"cannot write to {tmp_path / 'nowhere'}"):
        atomic.atomic_write(tmp_path / "nowhere" / "m.keras", lambda tmp: None)


# -- hashing ----------------------------------------------------------------------------------------------
def test_content_sha256_is_the_hex_sha256_of_the_bytes():
    assert hashing.content_sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert hashing.content_sha256(b"model") == hashlib.sha256(b"model").hexdigest()
    assert hashing.content_sha256(b"model") != hashing.content_sha256(b"model ")


# -- locks: one re-entrant lock per model object ----------------------------------------------------------
class Model:
    """Any object stands for a model: the table keys on the object itself, weakly."""


def test_each_model_has_one_lock_of_its_own():
    first, second = Model(), Model()
    lock = locks.model_lock(first)
    assert locks.model_lock(first) is lock and locks.model_lock(second) is not lock
    with lock, locks.model_lock(first):  # re-entrant: a probe may run while its caller holds the lock
        assert lock.acquire(blocking=False)
        lock.release()


def test_a_held_lock_keeps_other_threads_out_of_its_model_only():
    busy, free = Model(), Model()
    answers = {}

    def other_thread():
        answers["busy"] = locks.model_lock(busy).acquire(blocking=False)
        answers["free"] = locks.model_lock(free).acquire(blocking=False)
        locks.model_lock(free).release()

    with locks.model_lock(busy):
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join(30)
    assert answers == {"busy": False, "free": True}


def test_a_dropped_model_takes_its_lock_with_it():
    model = Model()
    lock = weakref.ref(locks.model_lock(model))
    assert model in locks._model_locks
    gone = weakref.ref(model)
    del model
    gc.collect()
    # the table never keeps a model (or its lock) alive; other tests' models may leave it meanwhile,
    # so this looks at this model only, not at the table's size
    assert gone() is None and lock() is None

