"""Starting node processes (node.py) and reading what they report: the parent's side.

Every child gets its own process group, so a kill reaches all it started; the
ones still running when the parent exits are killed then (``atexit``), and
each child also watches its parent and its own lifetime (node.py): none is
left behind, whatever happens to the parent.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final

__all__ = ["NodeProcess", "NodeProcessError", "kill_all", "live_process_ids", "stop_all"]

NODE_MODULE: Final = "fedcl_lint.runtime.node"
_STDERR_KEPT: Final = 20_000  # characters of a child's standard error kept for error messages

_live: dict[int, NodeProcess] = {}


class NodeProcessError(RuntimeError):
    """A node process did not report what was awaited, or did not end in time; its standard error is quoted."""


def live_process_ids() -> list[int]:
    """The node processes started here that have not been seen to end."""
    return sorted(_live)


def kill_all() -> None:
    """Kill the process group of every node process still running (a finalizer's last resort)."""
    for process in list(_live.values()):
        process.kill()


async def stop_all(timeout: float = 5.0) -> None:
    """Kill every node process still running and wait (bounded) until each has ended and been reaped."""
    running = list(_live.values())
    for process in running:
        process.kill()
    for process in running:
        with contextlib.suppress(asyncio.TimeoutError, NodeProcessError):
            await process.wait(timeout)


atexit.register(kill_all)


class NodeProcess:
    """A node (``python -m fedcl_lint.runtime.node ...``, or any command) running in a child process.

    ``reports`` collects its JSON report lines as they arrive; ``wait_for`` awaits one.
    """

    def __init__(self, name: str, process: asyncio.subprocess.Process) -> None:
        self.name = name
        self.process = process
        self.pid = process.pid
        self.reports: list[dict[str, Any]] = []
        self._stderr: list[str] = []
        self._changed = asyncio.Condition()
        self._readers = [
            asyncio.ensure_future(self._read_reports()),
            asyncio.ensure_future(self._read_stderr()),
        ]
        _live[self.pid] = self

    @classmethod
    async def start(
        cls, name: str, arguments: Sequence[str], *, command: Sequence[str] | None = None, cwd: str | None = None
    ) -> NodeProcess:
        """Start ``python -m fedcl_lint.runtime.node ARGUMENTS`` (or ``COMMAND ARGUMENTS``) as ``name``."""
        prefix = list(command) if command is not None else [sys.executable, "-m", NODE_MODULE]
        process = await asyncio.create_subprocess_exec(
            *prefix,
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # its own process group: a kill reaches everything it started
            cwd=cwd,
        )
        return cls(name, process)

    # ----------------------------------------------------------------- reading

    async def _read_reports(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            try:
                document = json.loads(line)
            except ValueError:
                document = {"report": "output", "text": line.decode("utf-8", "replace").rstrip("\n")}
            if not isinstance(document, dict):
                document = {"report": "output", "text": repr(document)}
            async with self._changed:
                self.reports.append(document)
                self._changed.notify_all()
        await self.process.wait()
        _live.pop(self.pid, None)
        async with self._changed:
            self._changed.notify_all()

    async def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self._stderr.append(line.decode("utf-8", "replace"))
            while sum(map(len, self._stderr)) > _STDERR_KEPT and len(self._stderr) > 1:
                del self._stderr[0]

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def reports_of(self, kind: str) -> list[dict[str, Any]]:
        return [document for document in self.reports if document.get("report") == kind]

    async def wait_for(
        self, kind: str, *, timeout: float, where: Callable[[dict[str, Any]], bool] = lambda document: True
    ) -> dict[str, Any]:
        """The first report of ``kind`` (that ``where`` accepts); NodeProcessError if none comes in time."""

        def found() -> dict[str, Any] | None:
            return next((d for d in self.reports if d.get("report") == kind and where(d)), None)

        async def arrival() -> dict[str, Any] | None:
            async with self._changed:
                while (document := found()) is None and not self._ended():
                    await self._changed.wait()
                return document

        try:
            document = await asyncio.wait_for(arrival(), timeout)
        except asyncio.TimeoutError:
            raise NodeProcessError(self.explain(f"no {kind!r} report within {timeout:g}s")) from None
        if document is None:
            raise NodeProcessError(self.explain(f"ended (exit code {self.returncode}) without a {kind!r} report"))
        return document

    def _ended(self) -> bool:
        return self.process.returncode is not None and all(reader.done() for reader in self._readers[:1])

    def explain(self, what: str) -> str:
        tail = self.stderr.strip()[-2000:]
        return f"{self.name} (pid {self.pid}) {what}" + (f"; its standard error:\n{tail}" if tail else "")

    # ----------------------------------------------------------------- ending

    async def wait(self, timeout: float) -> int:
        """Wait for the process to end by itself; after ``timeout`` seconds kill it and raise NodeProcessError."""
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.kill()
            await self.process.wait()
            raise NodeProcessError(self.explain(f"did not end within {timeout:g}s, killed")) from None
        await asyncio.gather(*self._readers, return_exceptions=True)
        _live.pop(self.pid, None)
        return code

    def terminate(self) -> None:
        """Ask the node to stop (SIGTERM): it closes its transport and exits."""
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the node's whole process group at once (SIGKILL)."""
        self._signal(signal.SIGKILL)

    def _signal(self, number: int) -> None:
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, number)
