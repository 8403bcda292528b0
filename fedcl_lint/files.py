"""Files the user owns: read with located errors and bounds, written whole or not at all.

Every read is size-checked before it happens and refuses what is not a regular
file (`read_bounded`): a repository may link `.gitignore` to `/dev/zero` or hold
a 4 GB "source". Every file the user names (a rule pack, a configuration, a
baseline, a protocol manifest) is read by `read_user_text`, so all say "not
found" or "cannot read" the same way, and parsed by `parse_structured`, so
nesting or numbers that break the parser are an error, not a crash. Every file
fedcl-lint writes (a fixed source file, a report, a baseline, the protocol page)
goes through `replace_atomically`: a crash or a full disk leaves the old file,
never half of the new one.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

_T = TypeVar("_T")
USER_FILE_LIMIT = 64 * 1024 * 1024  # settings, packs, baselines, manifests: far beyond any real one


class UnreadableFile(OSError):
    """A file refused before reading: not a regular file, or over the size limit."""

    def __init__(self, reason: str, size: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.size = size  # the file's size, when it is too large

    def __str__(self) -> str:
        return self.reason


def read_bounded(path: Path | str, limit: int, follow: bool = True) -> bytes:
    """A regular file's bytes, at most `limit`; `UnreadableFile` (an OSError) for anything else.

    The file is opened without blocking (a FIFO would wait for a writer forever), checked to be a
    regular file, and read in at most a few calls (reading a large tree is a tenth of a cold run).
    A file that grows while read stops being read past the limit. With `follow=False`, a symbolic
    link is refused (ELOOP) instead of followed.
    """
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags)
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise UnreadableFile(f"not a regular file ({_kind(status.st_mode)})")
        if status.st_size > limit:
            raise UnreadableFile(f"{status.st_size} bytes, over the {limit} byte limit", status.st_size)
        data = os.read(descriptor, status.st_size + 1)
        if len(data) != status.st_size:  # it changed since, or the file system reads in parts
            chunks = [data]
            while (total := sum(map(len, chunks))) <= limit and (chunk := os.read(descriptor, 1 << 20)):
                chunks.append(chunk)
            if total > limit:
                raise UnreadableFile(f"grew past the {limit} byte limit while read", total)
            data = b"".join(chunks)
        return data
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a named pipe"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def read_user_text(path: Path, display: str, error: type[Exception], missing: str) -> str:
    """The UTF-8 text of a file the user named, or `error` saying (with `display`) why not."""
    try:
        data = read_bounded(path, USER_FILE_LIMIT)
        return data.decode("utf-8-sig")  # a BOM some editors write is not part of the text
    except FileNotFoundError:
        raise error(f"{display}: {missing}") from None
    except UnreadableFile as exc:
        raise error(f"{display}: cannot read: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{display}: cannot read: {exc}") from None


def parse_structured(parse: Callable[[str], _T], text: str, display: str, error: type[Exception],
                     invalid: str) -> _T:
    """`parse(text)` (`tomllib.loads`, `json.loads`), or `error` saying "`display`: `invalid`: why":
    a syntax error, and what hostile input makes a parser raise besides (nesting deeper than the
    interpreter's stack, an integer past Python's digit limit)."""
    try:
        return parse(text)
    except RecursionError:
        raise error(f"{display}: {invalid}: nested too deeply") from None
    except ValueError as exc:  # the parsers' syntax errors are ValueErrors too
        reason = "an integer with too many digits" if "integer string conversion" in str(exc) else str(exc)
        raise error(f"{display}: {invalid}: {reason}") from None


def json_text(document: object) -> str:
    """A JSON document as fedcl-lint writes it: indented, non-ASCII kept readable, and the bytes of a
    file name that are not UTF-8 (which Python holds as lone surrogates) written as JSON escapes, so
    the text is valid UTF-8 and reads back to the same name."""
    import json  # loaded by the runs that write JSON only

    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def sha256_hex(data: bytes) -> str:
    """The SHA-256 of `data`, in hex. hashlib is loaded by the first call: OpenSSL takes 3 ms to load,
    and a run without a cache hashes nothing unless it fixes, or reads or writes fingerprints."""
    import hashlib

    return hashlib.sha256(data).hexdigest()


def write_report(path: Path, text: str) -> None:
    """A report or page fedcl-lint writes where the user asked: its folder made, the file replaced
    whole, a file name's bytes that are not UTF-8 written as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_atomically(path, text.encode("utf-8", "surrogateescape"))


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
