"""In-memory implementations of the core's Protocols (no I/O, no mocks)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.ports import Command, CommandResult, EntryMode, TreeEntry


class FakeTree:
    """A RepoTree from a dict of path -> text. Symlinks are given as `Link("target")`."""

    def __init__(self, files: Mapping[str, str | Link], tree_id: str = "fake") -> None:
        self._data: dict[str, bytes] = {}
        self._entries: dict[str, TreeEntry] = {}
        for path, content in files.items():
            is_link = isinstance(content, Link)
            raw = (content.target if isinstance(content, Link) else content).encode()
            self._data[path] = raw
            blob = hashlib.sha1(b"blob %d\0" % len(raw) + raw).hexdigest()
            mode = EntryMode.SYMLINK if is_link else EntryMode.FILE
            self._entries[path] = TreeEntry(blob, mode, len(raw))
        self._tree_id = tree_id

    @property
    def tree_id(self) -> str:
        return self._tree_id

    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def read(self, path: str) -> bytes:
        return self._data[path]


@dataclass(frozen=True)
class Link:
    target: str


Responder = Callable[[Command, FakeTree], CommandResult]


@dataclass
class FakeRunner:
    """Answers Commands from a function; records every call so tests can assert on argv."""

    respond: Responder
    calls: list[Command] = field(default_factory=list)

    def run(self, command: Command, tree: FakeTree) -> CommandResult:  # type: ignore[override]
        self.calls.append(command)
        return self.respond(command, tree)


def ok(stdout: str) -> CommandResult:
    return CommandResult(stdout.encode(), "", 0)
