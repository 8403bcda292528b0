"""Files the user owns: read with located errors, written whole or not at all.

Every file the user names (a rule pack, a configuration, a baseline, a protocol
manifest) is read by `read_user_text`, so all say "not found" or "cannot read"
the same way. Every file fedcl-lint writes (a fixed source file, a report, a baseline, the
protocol page) goes through `replace_atomically`: a crash or a full disk leaves
the old file, never half of the new one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def read_user_text(path: Path, display: str, error: type[Exception], missing: str) -> str:
    """The UTF-8 text of a file the user named, or `error` saying (with `display`) why not."""
    try:
        return path.read_text(encoding="utf-8-sig")  # a BOM some editors write is not part of the text
    except FileNotFoundError:
        raise error(f"{display}: {missing}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{display}: cannot read: {exc}") from None


def replace_atomically(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, give it `path`'s mode and owner
    (if `path` exists), then rename it over `path`.

    On any failure the temporary file is removed and `path` is untouched. A symbolic link is
    followed: the file it points to is replaced, the link stays.
    """
    path = Path(os.path.realpath(path))
    try:
        status: os.stat_result | None = path.stat()
    except FileNotFoundError:
        status = None
    descriptor, created = create_temporary(path)
    temporary: str | None = created
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if status is not None:
            _same_owner(created, status)
            os.chmod(created, stat.S_IMODE(status.st_mode))  # after chown, which may clear setuid bits
        os.replace(created, path)
        temporary = None
    finally:
        if temporary is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)


def create_temporary(path: Path) -> tuple[int, str]:
    """A new file beside `path`, open for writing, with the mode a plain `open()` would give it:
    the system applies the umask (reading the umask means setting it, a race with other threads)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        temporary = os.path.join(path.parent, f".{path.name}.{os.urandom(6).hex()}.fedcl-tmp")
        try:
            return os.open(temporary, flags, 0o666), temporary
        except FileExistsError:
            continue  # 48 random bits taken already: draw again


def _same_owner(temporary: str, status: os.stat_result) -> None:
    """Give the new file the old one's owner and group when allowed (e.g. when run as root)."""
    current = os.stat(temporary)
    if (current.st_uid, current.st_gid) == (status.st_uid, status.st_gid) or not hasattr(os, "chown"):
        return
    with contextlib.suppress(PermissionError):
        os.chown(temporary, status.st_uid, status.st_gid)
