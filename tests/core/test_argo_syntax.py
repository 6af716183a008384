"""Argo CD's small languages, table-driven: repoURL matching, the three glob dialects,
build-environment substitution and ApplicationSet templates."""

import pytest

from bot.core.render.argo.envsubst import envsubst
from bot.core.render.argo.globs import directory_glob_match, path_match, pathspec_match
from bot.core.render.argo.repo_url import is_this_repo, normalize_repo_url, not_this_repo_reason
from bot.core.render.argo.template import TemplateError, render_fasttemplate, render_gotemplate
from bot.model.repo_config import RenderConfig

THIS = RenderConfig(repo_urls=("https://github.com/acme/gitops.git",))


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://github.com/acme/gitops.git", True),
        ("https://github.com/acme/gitops", True),
        ("https://github.com/acme/gitops/", True),
        ("http://github.com/acme/gitops.git/", True),
        ("https://token:x-oauth@github.com/acme/gitops.git", True),
        ("git@github.com:acme/gitops.git", True),
        ("ssh://git@github.com/acme/gitops", True),
        ("https://GitHub.com/Acme/GitOps", True),
        ("https://github.com/acme/gitops-other", False),
        ("https://github.com/acme", False),
        ("https://charts.bitnami.com/bitnami", False),
        ("", False),
    ],
)
def test_repo_url_matching(url, same):
    assert is_this_repo(url, THIS) is same


def test_normalized_form_and_skip_reason():
    assert normalize_repo_url("git@gitlab.example.com:group/sub/repo.git") == (
        "gitlab.example.com/group/sub/repo"
    )
    assert not_this_repo_reason("https://x/y", THIS) == "source is not this repository: https://x/y"
    assert "render.repo_urls" in not_this_repo_reason("https://x/y", RenderConfig())


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*.yaml", "deploy.yaml", True),
        ("*.yaml", "sub/deploy.yaml", True),  # no separators: * crosses /
        ("*.json", "deploy.yaml", False),
        ("{deploy.yaml,svc.yaml}", "svc.yaml", True),
        ("{deploy.yaml,svc.yaml}", "cm.yaml", False),
        ("sub/*", "sub/a/b.yaml", True),
        ("[!x]*.yaml", "a.yaml", True),
        ("[!x]*.yaml", "x.yaml", False),
        ("[a-c].yaml", "b.yaml", True),
        ("?.yaml", "ab.yaml", False),
        ("{unclosed", "unclosed", False),  # a bad pattern matches nothing
    ],
)
def test_directory_include_exclude_globs(pattern, path, matches):
    assert directory_glob_match(pattern, path) is matches


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("apps/*", "apps/web", True),
        ("apps/*", "apps/web/overlays", False),  # Go's path.Match: * stops at /
        ("apps/*/overlays", "apps/web/overlays", True),
        ("apps/[a-m]*", "apps/cache", True),
        ("apps/[a-m]*", "apps/web", False),
        ("apps/\\*", "apps/*", True),
        ("apps/[", "apps/[", False),
    ],
)
def test_git_directories_generator_globs(pattern, path, matches):
    assert path_match(pattern, path) is matches


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("config/*.json", "config/a.json", True),
        ("config/*.json", "config/deep/a.json", True),  # git pathspecs: * crosses /
        ("config/**/config.json", "config/a/config.json", True),
        ("config/*.json", "other/a.json", False),
    ],
)
def test_git_files_generator_globs(pattern, path, matches):
    assert pathspec_match(pattern, path) is matches


ENV = {"ARGOCD_APP_NAME": "web", "ARGOCD_APP_NAMESPACE": "prod"}


@pytest.mark.parametrize(
    ("text", "result", "unknown"),
    [
        ("values-$ARGOCD_APP_NAME.yaml", "values-web.yaml", set()),
        ("${ARGOCD_APP_NAMESPACE}/values.yaml", "prod/values.yaml", set()),
        ("$$ARGOCD_APP_NAME", "$ARGOCD_APP_NAME", set()),  # $$ is a literal $
        ("price: 5$", "price: 5$", set()),
        ("$OTHER-x", "-x", set()),  # unknown names expand to nothing, as in Argo CD
        ("v-$ARGOCD_APP_REVISION", "v-", {"ARGOCD_APP_REVISION"}),
        ("no variables", "no variables", set()),
    ],
)
def test_build_environment_substitution(text, result, unknown):
    assert envsubst(text, ENV) == (result, frozenset(unknown))


PARAMS = {
    "path": {"path": "teams/alpha", "basename": "alpha", "segments": ["teams", "alpha"]},
    "cluster": "prod-eu",
    "replicas": 3,
}


@pytest.mark.parametrize(
    ("template", "result"),
    [
        ("{{ .path.path }}", "teams/alpha"),
        ("team-{{.path.basename}}", "team-alpha"),
        ("{{ index .path.segments 0 }}", "teams"),
        ("{{ .cluster | upper }}", "PROD-EU"),
        ("{{ .cluster | trunc 4 }}", "prod"),
        ('{{ replace "-" "_" .cluster }}', "prod_eu"),
        ('{{ printf "%s-%d" .cluster .replicas }}', "prod-eu-3"),
        ('{{ default "one" .missing }}', "one"),
        ("{{ .missing }}", "<no value>"),
        ("a {{- .cluster -}} b", "aprod-eub"),
        ("{{/* a comment */}}x", "x"),
        ('{{ normalize "Team_Alpha" }}', "team-alpha"),
        ("{{ .replicas }}", "3"),
    ],
)
def test_go_templates(template, result):
    assert render_gotemplate(template, PARAMS) == result


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{ if .cluster }}x{{ end }}", "`if` blocks are not supported"),
        ("{{ range .path.segments }}{{ . }}{{ end }}", "`range` blocks are not supported"),
        ("{{ $name := .cluster }}", "variables are not supported"),
        ("{{ sha256sum .cluster }}", "'sha256sum' is not supported"),
        ("{{ .cluster.name }}", "can't evaluate field name"),
        ("{{ .cluster", "unclosed action"),
    ],
)
def test_go_templates_beyond_the_subset_are_errors(template, problem):
    with pytest.raises(TemplateError, match=problem):
        render_gotemplate(template, PARAMS)


def test_missingkey_error_option():
    with pytest.raises(TemplateError, match="no entry for key 'nope'"):
        render_gotemplate("{{ .nope }}", PARAMS, missing_error=True)


@pytest.mark.parametrize(
    ("template", "result", "unresolved"),
    [
        ("{{path}}", "apps/web", ()),
        ("{{ path.basename }}-x", "web-x", ()),
        ("{{path[1]}}", "web", ()),
        ("{{cluster}}-{{path}}", "{{cluster}}-apps/web", ("{{cluster}}",)),
        ("{{ .Values.image }}", "{{ .Values.image }}", ("{{ .Values.image }}",)),
    ],
)
def test_fasttemplate(template, result, unresolved):
    params = {"path": "apps/web", "path.basename": "web", "path[0]": "apps", "path[1]": "web"}
    assert render_fasttemplate(template, params) == (result, unresolved)
