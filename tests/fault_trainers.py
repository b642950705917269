"""Stand-ins for kmnist.training.train that fail inside the training process (see supervisor.TRAINER).

A job trains in a child process, so a fault must be planted there: a test names one of these as
"tests.fault_trainers:<name>" and the child imports it in place of the real trainer.
"""

import time


def out_of_memory(*args, **kwargs):
    raise MemoryError("simulated: OOM when allocating tensor")


def full_disk(*args, **kwargs):
    """The real training, on a disk that fills up at the first save (a few bytes land, then ENOSPC)."""
    import errno

    import keras

    from kmnist.training.run import train

    def save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as handle:
            handle.write(b"the first bytes of a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    keras.Model.save = save
    return train(*args, **kwargs)


def deaf(config, data, out_path, **kwargs):
    """Never looks at Stop (a child stuck in a long step); leaves NAME.deaf beside its model path first,
    so a test knows the child is past start-up and inside the trainer."""
    from pathlib import Path

    Path(out_path).with_suffix(".deaf").touch()
    time.sleep(600)
