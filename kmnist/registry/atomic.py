"""Atomic file writing: a temporary file beside the target, renamed into place only when complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kmnist.registry.errors import ModelError

_UMASK = os.umask(0)


def atomic_write(target: Path, write) -> None:
    """Write via `write(tmp_path)` to a temporary file beside `target`, then rename it into place.

    On any failure (disk full, no permission) the temporary file is removed and the previous
    `target`, if any, is left untouched.
    """
    target = Path(target)
    try:
        descriptor, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix,
                                           dir=target.parent)
    except OSError as error:
        raise ModelError(f"cannot write to {target.parent} ({error.strerror}); make the folder "
                         "writable or choose another one") from error
    os.close(descriptor)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; saved models are for everyone
        os.replace(tmp, target)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise ModelError(f"could not save {target} ({error.strerror or error}); the previous "
                             "file, if any, is unchanged: free some disk space or check "
                             "permissions, then save again") from error
        raise
