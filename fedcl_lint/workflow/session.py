"""An editor's session: one project analysed again and again, the open documents' text in place of the files'.

A run of `check` reads, parses and links the whole project once. An editor asks after every
edit; the session keeps what does not change: the files it read and the facts extracted
from them. An edit replaces one file's text and drops that file's facts only, so the next
analysis extracts one file and links the project (linking is fast next to parsing). A file
the session has not seen (created, or outside the last discovery) makes it discover again.
"""

from __future__ import annotations

import os
from pathlib import Path

from fedcl_lint.analysis.discover import Discovery, SourceFile, discover, display_path
from fedcl_lint.analysis.link import Linker, LinkResult
from fedcl_lint.analysis.load import MAX_FILE_BYTES, EngineOptions, FactStore, Module
from fedcl_lint.files import UnreadableFile, read_bounded
from fedcl_lint.refine.result import Analysis
from fedcl_lint.settings.config import Config, load_config
from fedcl_lint.settings.rulepack import load_packs
from fedcl_lint.workflow.pipeline import analyze_store, paused_gc, selection_of


class Session:
    """The analysis state of one project folder, kept in memory between analyses."""

    def __init__(self, root: Path, config: Config | None = None):
        self.root = Path(os.path.abspath(root))
        self.config = config if config is not None else load_config(["."], self.root)
        self.pack = load_packs(self.config.rules)
        self.texts: dict[Path, bytes] = {}  # open documents: their text as the editor has it
        self._discovery: Discovery | None = None
        self._store: FactStore | None = None
        self._files: dict[Path, SourceFile] = {}
        self._linked: LinkResult | None = None  # the last analysis's linking
        self._edited: dict[SourceFile, Module | None] = {}  # files changed since then: their facts before

    def set_text(self, path: Path, text: str | None) -> None:
        """The editor's text of `path` (None: closed, the file on disk counts again)."""
        path = Path(os.path.abspath(path))
        if text is None:
            self.texts.pop(path, None)
            content = _read(path)
        else:
            content = self.texts[path] = text.encode("utf-8", "surrogatepass")
        file = self._files.get(path)
        if file is None or content is None:
            self._store = None  # a file the last discovery did not find, or one gone: discover again
        elif self._store is not None:
            self._edited.setdefault(file, self._store.modules.get(file))
            self._store.replace(file, content)

    def analyze(self) -> Analysis:
        """Findings and table of the project as the editor shows it now."""
        with paused_gc():
            if self._store is None or self._discovery is None:
                self._discovery = discover(["."], self.root, selection_of(self.config))
                self._files = {file.path: file for file in self._discovery.files}
                self._store = FactStore(list(self._discovery.files), self.pack, EngineOptions(jobs=1))
                for path, content in self.texts.items():
                    if path in self._files:
                        self._store.replace(self._files[path], content)
                self._linked, self._edited = None, {}
            linked = self._link(self._store)
            self._linked, self._edited = linked, {}
            return analyze_store(self._store, self._discovery, self.config, self.root, linked)

    def _link(self, store: FactStore) -> LinkResult:
        """From the last linking when one file changed since (see `Linker.link_again`), else anew."""
        if self._linked is not None and len(self._edited) == 1:
            [(file, before)] = self._edited.items()
            if before is not None:
                again = Linker(store, self.pack).link_again(self._linked, before, store.module(file))
                if again is not None:
                    return again
        return Linker(store, self.pack).link()

    def display(self, path: Path) -> str:
        """How findings name `path`: relative to the session's folder, as `check` run there does."""
        return display_path(Path(os.path.abspath(path)), self.root)


def _read(path: Path) -> bytes | None:
    """A closed document's file as a run reads it (bounded); None when it cannot be read."""
    try:
        return read_bounded(path, MAX_FILE_BYTES)
    except (UnreadableFile, OSError):
        return None
