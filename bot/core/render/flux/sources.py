"""Where a Flux app's content comes from: this repository (and which directory), or elsewhere.

A `GitRepository` is this repository when it is the bootstrap one (`flux-system`, declared or
not), when its URL is one of `render.repo_urls`, or when a Kustomization syncing it applies the
very file that declares it (a repository that bootstraps itself). An `ExternalArtifact` built by
an `ArtifactGenerator` from this repository maps back to a directory when its copy rules keep
the layout (`@src/apps/**` -> `@artifact/apps/`). Everything else is another source: its apps
are listed, with the reason, and never rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.paths import is_under, join_inside
from bot.core.render.flux.objects import Declared, ObjectIndex
from bot.model.repo_config import RenderConfig

BOOTSTRAP = "flux-system"


@dataclass(frozen=True, slots=True)
class SourceResolution:
    """`root`: the repository directory the source's paths start from; None when the content is
    not in this repository (then `skip_reason` says why)."""

    root: str | None
    description: str
    skip_reason: str = ""
    declared_in: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Ref:
    kind: str
    namespace: str
    name: str

    @classmethod
    def of(cls, value: Any, default_namespace: str) -> Ref | None:
        if not isinstance(value, Mapping) or not value.get("name"):
            return None
        return cls(
            str(value.get("kind") or ""),
            str(value.get("namespace") or default_namespace),
            str(value.get("name")),
        )

    def display(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"


def normalise_url(url: str) -> str:
    """Compare Git URLs without scheme, credentials, port-less ssh form, `.git` or slash."""
    text = url.strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.sub(r"^[^@/]+@", "", text)
    text = re.sub(r"^([^/:]+):(?!\d)", r"\1/", text)  # git@host:owner/repo
    return text.removesuffix("/").removesuffix(".git").removesuffix("/")


class SourceIndex:
    """Source objects by (kind, namespace, name), and the repo paths of Flux Kustomizations."""

    def __init__(self, index: ObjectIndex, namespaces: Mapping[str, frozenset[str]]) -> None:
        """`namespaces`: per file, the namespaces kustomize builds may give its objects."""
        self._by_ref: dict[tuple[str, str, str], list[Declared]] = {}
        for decl in (*index.sources, *index.data):
            candidates = {decl.namespace or "default", *namespaces.get(decl.path, ())}
            for namespace in candidates:
                self._by_ref.setdefault((decl.kind, namespace, decl.name), []).append(decl)
        self._kustomizations = [a for a in index.apps if a.kind == "Kustomization"]
        self._generators = [s for s in index.sources if s.kind == "ArtifactGenerator"]

    def find(self, kind: str, namespace: str, name: str, near: str = "") -> Declared | None:
        """The declaration; with several (one per cluster), the one nearest to `near`."""
        found = self._by_ref.get((kind, namespace, name), [])
        if len(found) <= 1:
            return found[0] if found else None
        return max(found, key=lambda d: _shared_prefix(d.path, near))

    def git_repository(self, ref: Ref, config: RenderConfig, near: str) -> SourceResolution:
        decl = self.find("GitRepository", ref.namespace, ref.name, near)
        if decl is None:
            if ref.name == BOOTSTRAP:
                return SourceResolution("", f"{ref.display()} (this repository, bootstrap)")
            return SourceResolution(
                None,
                ref.display(),
                f"source {ref.display()} is not declared in this repository",
            )
        url = str(decl.spec().get("url") or "")
        if self._is_this_repository(decl, ref, config):
            return SourceResolution("", f"{ref.display()} (this repository)", "", (decl.path,))
        return SourceResolution(
            None,
            f"{ref.display()} ({url})",
            f"source {ref.display()} is another repository ({url})",
            (decl.path,),
        )

    def _is_this_repository(self, decl: Declared, ref: Ref, config: RenderConfig) -> bool:
        if ref.name == BOOTSTRAP and ref.namespace == BOOTSTRAP:
            return True
        url = normalise_url(str(decl.spec().get("url") or ""))
        if url and url in {normalise_url(u) for u in config.repo_urls}:
            return True
        for kustomization in self._kustomizations:
            spec = kustomization.spec()
            source = Ref.of(spec.get("sourceRef"), kustomization.namespace or "default")
            if source is None or (source.kind, source.namespace, source.name) != (
                "GitRepository",
                ref.namespace,
                ref.name,
            ):
                continue
            # A path that is the whole source proves nothing: any file is under it.
            path = join_inside("", str(spec.get("path") or "").lstrip("/"))
            if path and is_under(decl.path, path):
                return True
        return False

    def external_artifact(self, ref: Ref, config: RenderConfig, near: str) -> SourceResolution:
        for generator in self._generators:
            if (generator.namespace or "default") != ref.namespace:
                continue
            artifacts = generator.spec().get("artifacts")
            for artifact in artifacts if isinstance(artifacts, list) else []:
                if isinstance(artifact, Mapping) and artifact.get("name") == ref.name:
                    return self._generated(generator, artifact, ref, config, near)
        return SourceResolution(
            None,
            ref.display(),
            f"source {ref.display()} is produced outside this repository",
        )

    def _generated(
        self,
        generator: Declared,
        artifact: Mapping[str, Any],
        ref: Ref,
        config: RenderConfig,
        near: str,
    ) -> SourceResolution:
        where = f"{ref.display()} (ArtifactGenerator {generator.namespace}/{generator.name})"
        aliases: dict[str, SourceResolution] = {}
        sources = generator.spec().get("sources")
        for source in sources if isinstance(sources, list) else []:
            source_ref = Ref.of(source, generator.namespace or "default")
            if source_ref is None or not isinstance(source, Mapping):
                continue
            alias = str(source.get("alias") or "")
            if source_ref.kind == "GitRepository":
                aliases[alias] = self.git_repository(source_ref, config, near)
            else:
                aliases[alias] = SourceResolution(None, source_ref.display(), "not this repo")
        root = _copy_root(artifact.get("copy"), aliases)
        declared = (generator.path, *(f for a in aliases.values() for f in a.declared_in))
        if root is None:
            return SourceResolution(
                None,
                where,
                f"source {where} is not a copy of one directory of this repository "
                "(another repository, or copy rules that rearrange files)",
                declared,
            )
        return SourceResolution(root, f"{where} = {root or '.'}/", "", declared)


def _copy_root(copy: Any, aliases: Mapping[str, SourceResolution]) -> str | None:
    """The repository directory the artifact root stands for, if every rule keeps the layout."""
    roots: set[str] = set()
    rules: Sequence[Any] = copy if isinstance(copy, list) else []
    for rule in rules:
        if not isinstance(rule, Mapping) or set(rule) - {"from", "to"}:
            return None
        source, target = str(rule.get("from") or ""), str(rule.get("to") or "")
        match_from = re.fullmatch(r"@([\w-]+)/(?:(.*?)/)?\*\*", source)
        match_to = re.fullmatch(r"@artifact/(.*?)/?", target)
        if match_from is None or match_to is None:
            return None
        resolved = aliases.get(match_from.group(1))
        if resolved is None or resolved.root is None:
            return None
        directory = join_inside(resolved.root, match_from.group(2) or "")
        destination = match_to.group(1).strip("/")
        if directory is None:
            return None
        if destination:
            if not (directory == destination or directory.endswith("/" + destination)):
                return None
            directory = directory[: len(directory) - len(destination)].rstrip("/")
        roots.add(directory)
    return roots.pop() if len(roots) == 1 else None


def _shared_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a.split("/"), b.split("/"), strict=False):
        if x != y:
            break
        count += 1
    return count


def resolve_source(
    sources: SourceIndex, ref: Ref | None, config: RenderConfig, near: str
) -> SourceResolution:
    """Where a Kustomization's `sourceRef` points."""
    if ref is None:
        return SourceResolution(None, "no sourceRef", "spec.sourceRef is missing")
    if ref.kind == "GitRepository":
        return sources.git_repository(ref, config, near)
    if ref.kind == "ExternalArtifact":
        return sources.external_artifact(ref, config, near)
    decl = sources.find(ref.kind, ref.namespace, ref.name, near)
    url = str(decl.spec().get("url") or "") if decl else ""
    where = f"{ref.display()} ({url})" if url else ref.display()
    return SourceResolution(
        None,
        where,
        f"content comes from {where}, not from this repository",
        (decl.path,) if decl else (),
    )
