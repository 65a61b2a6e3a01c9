"""Atomic file output: write to a temporary file beside the target, then rename.

A reader never sees a half-written file: either the old content or the new one. The new file keeps the mode of
the file it replaces (a shared 0644 results file stays readable to other accounts); a new file gets the mode
`open()` would give it (0666 minus the umask), not `mkstemp`'s private 0600.

The temporary file is `.<name>.<host>.<pid>.<random>.tmp` in the target's folder. A process killed between
creating and renaming it leaves it behind; the next atomic write to the same target removes such stale files:
those of a process of this host that no longer runs, and those of any host older than STALE_AFTER_S seconds
(a live writer on another node of a shared file system is never older than that). Used as a library:
    from common.io import atomic_path, atomic_write_text
    atomic_write_text("out/config.yaml", text)
"""
from __future__ import annotations

import contextlib
import os
import socket
import stat
import tempfile
import time
from pathlib import Path

STALE_AFTER_S = 24 * 3600  # a temporary file of another host older than this is left over from a killed write


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (os.umask is set-and-return)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _mode_for(path: Path) -> int:
    """The permission bits the written file should get: the existing file's, else 0666 minus the umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: it runs
        return True
    return True


def _remove_stale(folder: Path, prefix: str) -> list[Path]:
    """Remove the stale temporaries in `folder` whose names start with `prefix` (see the module docstring)."""
    host, now = socket.gethostname(), time.time()
    removed = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
            continue
        head, _, rest = entry.name[:-len(".tmp")].rpartition(".")  # rest: mkstemp's random part
        head, _, pid = head.rpartition(".")
        if not (len(rest) == 8 and pid.isascii() and pid.isdigit()):
            continue  # not a name atomic_path makes
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        if head.endswith(f".{host}"):  # this host's: stale when its process is gone
            stale = int(pid) != os.getpid() and not _pid_alive(int(pid))
        else:  # another host's (or an older naming's) temporary file: only by age
            stale = age > STALE_AFTER_S
        if stale:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def remove_stale_temporaries(path: str | os.PathLike) -> list[Path]:
    """Remove the `.<name>.*.tmp` files a killed atomic write to `path` left behind; return those removed."""
    path = Path(path)
    return _remove_stale(path.parent, f".{path.name}.")


def remove_stale_temporaries_in(folder: str | os.PathLike) -> list[Path]:
    """The same for every target in `folder` at once (one scan, for a writer of many files: unpacking)."""
    return _remove_stale(Path(folder), ".")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, clean_stale: bool = True):
    """Yield a temporary path in the target's folder; on success rename it onto `path`.

    On an exception the temporary file is removed and `path` is left untouched. The file gets the replaced
    file's mode, or 0666 minus the umask when `path` is new. clean_stale: first remove the temporaries killed
    writes to `path` left (a writer of many files in one folder calls remove_stale_temporaries_in once instead).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if clean_stale:
        remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{socket.gethostname()}.{os.getpid()}.", suffix=".tmp",
                               dir=path.parent)
    try:
        os.fchmod(fd, _mode_for(path))
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _mode_for(path))  # the writer may have replaced the file (torch.save, shutil.copy)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
