"""The cache folder: written only by us, only inside it, and read only where we wrote it.

The folder sits in the project, which may be a repository an attacker controls,
checked by a CI job that runs as root. So:

- a cache folder that is a symbolic link, not a folder, or not owned by this user
  is refused (`problem` says why, for the command line to say once); one where
  nothing can be written is read, and said once too (`unwritable`);
- files are created exclusively under a temporary name and renamed into place: a
  committed link at a cache file's name is replaced, never written through;
- every file carries a keyed hash (BLAKE2b) of its name and content, with a key kept
  outside the repository, in the user's cache directory, made on first use: a file
  written by another user, on another machine or by hand (committed to the
  repository) is a miss, never an input.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

from fedcl_lint.files import create_temporary, read_bounded

_TAG_BYTES = 32
_KEY_BYTES = 32
_IGNORE_TEXT = b"# Created by fedcl-lint: the cache is not for version control.\n*\n"


def problem(folder: Path) -> str | None:
    """Why `folder` cannot be the cache folder, or None when it can (it may not exist yet)."""
    try:
        status = os.lstat(folder)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be examined ({exc.strerror or exc})"
    if stat.S_ISLNK(status.st_mode):
        return "it is a symbolic link"
    if not stat.S_ISDIR(status.st_mode):
        return "it is not a folder"
    if hasattr(os, "getuid") and status.st_uid != os.getuid():
        return "it belongs to another user"
    return None


def unwritable(folder: Path) -> str | None:
    """Why no file can be written in `folder` (or, when it does not exist yet, in the nearest folder
    above it, where it would be made), or None when one can: a temporary file is created there and
    removed at once. Writes to the cache fail in silence (they cost speed only): this is what the
    command line says, once, instead of a cache that never fills."""
    existing = Path(os.path.abspath(folder))
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        descriptor, temporary = create_temporary(existing / "probe")
        os.close(descriptor)
        os.unlink(temporary)
    except OSError as exc:
        return str(exc.strerror or exc)
    return None


class CacheFolder:
    """Authenticated files in one cache folder (or a subfolder of it, such as `runs`)."""

    def __init__(self, path: Path, top: Path | None = None):
        self.path = Path(path)
        self.top = Path(top) if top is not None else self.path  # the folder `problem` vouches for
        self._key: bytes | None = None

    def usable(self) -> bool:
        """Whether the folder may be read and written: it passes `problem`, as do its subfolders
        down to this one, and the user's key can be had."""
        folders = [self.top, *reversed([p for p in self.path.parents if p.is_relative_to(self.top) and p != self.top])]
        if self.path != self.top:
            folders.append(self.path)
        return all(problem(folder) is None for folder in folders) and self.key() is not None

    def key(self) -> bytes | None:
        if self._key is None:
            self._key = user_key()
        return self._key

    def read(self, name: str, limit: int) -> memoryview | None:
        """The content of a file this user wrote with `write`, or None: missing, unreadable, not a
        regular file (a link is not followed), too large, or not authenticated."""
        if not self.usable():
            return None
        try:
            data = read_bounded(self.path / name, limit + _TAG_BYTES, follow=False)
        except OSError:
            return None
        view = memoryview(data)  # the content is not copied: a base file of facts can be large
        content, tag = view[:-_TAG_BYTES], view[-_TAG_BYTES:]
        if len(data) < _TAG_BYTES or not hmac.compare_digest(tag, self._tag(name, content)):
            return None
        return content

    def write(self, name: str, content: bytes) -> bool:
        """Write a file whole: a temporary file created exclusively, then renamed over `name` (a link
        there is replaced, not followed). False when the folder is refused or the disk says no."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if not self.usable():
                return False
            self._ensure_ignored()
            self._replace(name, content + self._tag(name, content))
        except OSError:
            return False
        return True

    def _tag(self, name: str, content: bytes | memoryview) -> bytes:
        key = self.key()
        assert key is not None  # callers checked `usable`
        digest = hashlib.blake2b(key=key, digest_size=_TAG_BYTES)
        digest.update(name.encode("utf-8", "surrogateescape") + b"\0")
        digest.update(content)
        return digest.digest()

    def _replace(self, name: str, data: bytes) -> None:
        descriptor, temporary = create_temporary(self.path / name)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
            os.replace(temporary, self.path / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _ensure_ignored(self) -> None:
        """A `.gitignore` in the top folder, so that the cache is not committed by accident."""
        ignore = self.top / ".gitignore"
        try:
            os.lstat(ignore)
        except FileNotFoundError:
            CacheFolder(self.top)._replace(".gitignore", _IGNORE_TEXT)


def user_key() -> bytes | None:
    """This user's key for cache files, made on first use (None when it cannot be had: then nothing
    is cached). It lives in the user's cache directory, never in a project."""
    folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fedcl-lint"
    path = folder / "cache-key"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        except FileExistsError:
            return _existing_key(path)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(os.urandom(_KEY_BYTES))
        return _existing_key(path)
    except OSError:
        return None


def _existing_key(path: Path) -> bytes | None:
    """The key file's bytes if it is ours: a regular file of this user that others cannot write."""
    try:
        status = os.lstat(path)
        key = read_bounded(path, _KEY_BYTES, follow=False)
    except OSError:
        return None
    if hasattr(os, "getuid") and status.st_uid != os.getuid():
        return None
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or len(key) != _KEY_BYTES:
        return None
    return key


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
