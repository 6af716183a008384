"""A RepoTree seen through the core's safety rules: bounded reads, in-repo symlinks only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.paths import join_inside, parent_dir
from bot.core.safe_yaml import YamlLimits, YamlLoad, load_yaml_documents
from bot.model.finding import Finding, Severity
from bot.model.resource import Location
from bot.ports import EntryMode, RepoTree, TreeEntry

MAX_SYMLINK_HOPS = 16
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class FileRead:
    """Bytes of a file, or the Finding explaining why they cannot be used."""

    path: str
    content: bytes | None
    finding: Finding | None = None


def escape_finding(path: str, target: str) -> Finding:
    return Finding(
        rule_id="path-escapes-repo",
        severity=Severity.ERROR,
        message=f"symlink {path} -> {target} points outside the repository; it was not followed",
        location=Location(path, 1),
        hint="replace the symlink with a copy of the file or a link inside the repository",
    )


class TreeView:
    """Caching, policy-enforcing reader over one revision (one instance per review)."""

    def __init__(
        self,
        tree: RepoTree,
        max_file_bytes: int,
        yaml_cache: dict[tuple[str, str], YamlLoad] | None = None,
    ) -> None:
        """`yaml_cache` may be shared by the views of base and head: keyed by (path, blob id),
        a file the change did not touch is parsed once for both revisions."""
        self._tree = tree
        self._entries: Mapping[str, TreeEntry] = tree.entries()
        self._max_file_bytes = max_file_bytes
        self._yaml: dict[tuple[str, str], YamlLoad] = {} if yaml_cache is None else yaml_cache
        self._dir_files: dict[str, list[str]] = {}
        self._dirs: set[str] = set()
        for path in self._entries:
            directory = parent_dir(path)
            self._dir_files.setdefault(directory, []).append(path)
            while directory and directory not in self._dirs:
                self._dirs.add(directory)
                directory = parent_dir(directory)

    @property
    def tree(self) -> RepoTree:
        return self._tree

    @property
    def entries(self) -> Mapping[str, TreeEntry]:
        return self._entries

    def exists(self, path: str) -> bool:
        return path in self._entries

    def is_dir(self, path: str) -> bool:
        return path == "" or path in self._dirs

    def files_in_dir(self, directory: str) -> tuple[str, ...]:
        """Files directly in `directory` (not in its subdirectories)."""
        return tuple(self._dir_files.get(directory, ()))

    def resolve(self, path: str) -> tuple[str | None, Finding | None]:
        """The real path behind `path`, following in-repo symlinks in any of its components.

        A hop that leaves the repository, or more than MAX_SYMLINK_HOPS hops, is a finding.
        """
        parts = [p for p in path.split("/") if p]
        current = ""
        hops = 0
        while parts:
            candidate = f"{current}/{parts[0]}" if current else parts[0]
            entry = self._entries.get(candidate)
            if entry is None or entry.mode is not EntryMode.SYMLINK:
                current, parts = candidate, parts[1:]
                continue
            hops += 1
            target = self._tree.read(candidate).decode("utf-8", errors="replace")
            nxt = join_inside(parent_dir(candidate), target)
            if nxt is None:
                return None, escape_finding(candidate, target)
            if hops > MAX_SYMLINK_HOPS:
                return None, Finding(
                    rule_id="path-escapes-repo",
                    severity=Severity.ERROR,
                    message=f"symlinks from {path} go round more than {MAX_SYMLINK_HOPS} times",
                    location=Location(candidate, 1),
                    hint="make the symlink point directly at a file inside the repository",
                )
            current, parts = "", [p for p in nxt.split("/") if p] + parts[1:]
        return current, None

    def symlinks_on(self, path: str) -> list[str]:
        """Symlink entries among `path` and its parent directories."""
        found = []
        prefix = ""
        for part in path.split("/"):
            prefix = f"{prefix}/{part}" if prefix else part
            entry = self._entries.get(prefix)
            if entry is not None and entry.mode is EntryMode.SYMLINK:
                found.append(prefix)
        return found

    def read(self, path: str) -> FileRead:
        real, problem = self.resolve(path)
        if real is None:
            return FileRead(path, None, problem)
        entry = self._entries.get(real)
        if entry is None:
            return FileRead(path, None, None)
        if entry.size > self._max_file_bytes:
            return FileRead(
                path,
                None,
                Finding(
                    rule_id="file-too-large",
                    severity=Severity.ERROR,
                    message=(
                        f"{path} is {entry.size} bytes, over the {self._max_file_bytes}-byte limit;"
                        " it was not read"
                    ),
                    location=Location(path, 1),
                    hint="split the file or raise render.max_file_bytes in .gitops-bot.yaml",
                ),
            )
        return FileRead(path, self._tree.read(real))

    def load_yaml(self, path: str) -> YamlLoad:
        entry = self._entries.get(path)
        key = (path, entry.blob_id if entry else "")
        cached = self._yaml.get(key)
        if cached is not None and not self._through_symlink(path):
            return cached
        read = self.read(path)
        if read.content is None:
            findings = (read.finding,) if read.finding else ()
            result = YamlLoad(documents=(), findings=findings)
        else:
            result = load_yaml_documents(
                read.content, path, YamlLimits(max_bytes=self._max_file_bytes)
            )
        self._yaml[key] = result
        return result

    def _through_symlink(self, path: str) -> bool:
        # A symlink's blob is its target path: same blob, different content per revision.
        return bool(self.symlinks_on(path))
