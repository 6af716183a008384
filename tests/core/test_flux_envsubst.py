"""Flux's `${var}` expansion, case by case against the behaviour of fluxcd/pkg/envsubst."""

import pytest

from bot.core.render.flux.envsubst import SubstitutionSyntaxError, expand, parse, referenced

VALUES = {"domain": "example.com", "n": "3", "empty": "", "name": "Hello", "path": "a/b/c.tar.gz"}


def known(name: str) -> str:
    return VALUES.get(name, "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("host: ${domain}", "host: example.com"),
        ("replicas: ${n}", "replicas: 3"),
        ("$domain stays", "$domain stays"),  # no braces: plain text for Flux
        ("$${domain}", "${domain}"),  # $$ escapes the dollar
        ("cost $5 and $$", "cost $5 and $"),
        ("${missing}", ""),  # not strict: unknown is empty
        ("${missing:=fallback}", "fallback"),
        ("${missing:-fallback}", "fallback"),
        ("${empty:=fallback}", "fallback"),
        ("${missing=fallback}", "fallback"),
        ("${missing:-${domain}}", "example.com"),
        ("${missing:-a${n}b}", "a3b"),
        ("${domain:=unused}", "example.com"),
        ("${domain/./-}", "example-com"),
        ("${path//\\//_}", "a_b_c.tar.gz"),
        ("${domain/#example/ex}", "ex.com"),
        ("${domain/%com/org}", "example.org"),
        ("${domain:8}", "com"),
        ("${domain:0:7}", "example"),
        ("${domain:-3}", "example.com"),  # :- is a default operator, not a substring
        ("${domain: -3}", "com"),
        ("${#domain}", "11"),
        ("${name^^}", "HELLO"),
        ("${name,,}", "hello"),
        ("${name,}", "hello"),
        ("${empty^}", ""),
        ("${path#*/}", "b/c.tar.gz"),
        ("${path##*/}", "b/c.tar.gz"),  # * never matches a slash (Go path.Match)
        ("${path%.*}", "a/b/c.tar"),
        ("${path%%.*}", "a/b/c"),
    ],
)
def test_expansion(text: str, expected: str) -> None:
    assert expand(parse(text), known) == expected


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("${}", "unable to parse variable name"),
        ("${domain", "missing closing brace"),
        ("${domain-x}", "missing closing brace"),  # no colon: not supported by Flux
        ("${domain.x}", "missing closing brace"),
        ("${#}", "bad substitution"),
        ("${domain#}", "unable to parse substitution within function"),
        ("${a:-" + "${a:-" * 40 + "x" + "}" * 41, "nested more than"),
    ],
)
def test_syntax_errors(text: str, error: str) -> None:
    with pytest.raises(SubstitutionSyntaxError, match=error):
        parse(text)


def test_unknowable_values_are_kept_as_written() -> None:
    """A variable that may come from a Secret keeps its whole expression, default included."""

    def lookup(name: str) -> str | None:
        return VALUES.get(name)

    text = "${domain} ${secret} ${secret:=d} ${secret/./-} ${missing:-${domain}}"
    assert (
        expand(parse(text), lookup)
        == "example.com ${secret} ${secret:=d} ${secret/./-} ${missing:-${domain}}"
    )


def test_referenced_names_include_nested_defaults() -> None:
    assert referenced(parse("${a} $b ${c:-${d}} $${e}")) == ["a", "c", "d"]
