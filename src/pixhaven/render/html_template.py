"""Pictify HTML templates: `{{ expression }}` substitution with HTML escaping, elements
with an `_if="condition"` attribute kept or dropped, and the variables a template reads.

    fill_html('<p _if="vip">Hi {{name}}</p>', {"vip": True, "name": "<b>"})
    # '<p>Hi &lt;b&gt;</p>'

Every value is escaped (`& < > " '`): the doc defines no raw form, and a value inside an
attribute must not end it. Conditions run first, on the template as written; what is left
is substituted. The whole fill shares one step Budget and is bounded by MAX_TEMPLATE (input)
and MAX_OUTPUT (result) characters.
"""

from __future__ import annotations

import re
from typing import Any

from pixhaven.render.expression_syntax import parse
from pixhaven.render.expression_values import Budget, ExpressionError, to_text, truthy
from pixhaven.render.expressions import evaluate

MAX_TEMPLATE = 500_000
MAX_OUTPUT = 2_000_000
MAX_EXPRESSIONS = 5_000

# An opening tag with its attributes (quoted values may hold `>`), or a closing tag. No part
# of a tag may hold `<`: a match attempt stops at the next `<`, so scanning a template is
# linear however its tags are broken (an attribute value with `<` is not seen as a tag).
TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*?)(/?)>", re.DOTALL
)
IF_ATTRIBUTE = re.compile(r"""\s_if\s*=\s*(?:"([^"]*)"|'([^']*)')""")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
ESCAPE = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}


def escape(text: str) -> str:
    return "".join(ESCAPE.get(c, c) for c in text)


def expressions(html: str) -> list[tuple[int, int, str]]:
    """(start, end, expression) of every `{{ … }}`; a `}}` inside a quoted string does not
    close it. An unclosed `{{` is an error."""
    found, i = [], 0
    while (start := html.find("{{", i)) >= 0:
        j, quote = start + 2, ""
        while j < len(html):
            c = html[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "'\"":
                quote = c
            elif html.startswith("}}", j):
                break
            j += 1
        if j >= len(html):
            raise ExpressionError("Unclosed '{{'", html[start + 2 : start + 62])
        found.append((start, j + 2, html[start + 2 : j].strip()))
        if len(found) > MAX_EXPRESSIONS:
            raise ExpressionError(f"More than {MAX_EXPRESSIONS} expressions", "")
        i = j + 2
    return found


def _condition(raw: str) -> str:
    text = raw.strip()
    if text.startswith("{{") and text.endswith("}}"):
        text = text[2:-2].strip()
    return text


def _element_end(html: str, match: re.Match) -> int:
    """Where the element opened by `match` ends (after its closing tag; same-name nesting
    counted). An element never closed runs to the end of the template."""
    name = match.group(2).lower()
    if name in VOID or match.group(4):
        return match.end()
    depth = 1
    for tag in TAG.finditer(html, match.end()):
        if tag.group(2).lower() != name or tag.group(4):
            continue
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(html)


def apply_conditions(html: str, scope: dict, budget: Budget) -> str:
    out, i = [], 0
    for match in TAG.finditer(html):
        if match.start() < i or match.group(1):
            continue
        condition = IF_ATTRIBUTE.search(match.group(3))
        if condition is None:
            continue
        expression = _condition(condition.group(1) or condition.group(2) or "")
        out.append(html[i : match.start()])
        if truthy(evaluate(expression, scope, budget)):
            attributes = match.group(3)
            attributes = attributes[: condition.start()] + attributes[condition.end() :]
            out.append(f"<{match.group(2)}{attributes}{match.group(4)}>")
            i = match.end()
        else:
            i = _element_end(html, match)
    out.append(html[i:])
    return "".join(out)


def fill_html(html: str, scope: dict, budget: Budget | None = None) -> str:
    """The template with conditions applied and every expression's value escaped in."""
    if len(html) > MAX_TEMPLATE:
        raise ExpressionError(f"Template longer than {MAX_TEMPLATE} characters", "")
    budget = budget or Budget()
    html = apply_conditions(html, scope, budget)
    out, i, size = [], 0, 0
    for start, end, expression in expressions(html):
        value = escape(to_text(evaluate(expression, scope, budget)))
        size += (start - i) + len(value)
        if size > MAX_OUTPUT:
            raise ExpressionError(f"Output longer than {MAX_OUTPUT} characters", expression)
        out += [html[i:start], value]
        i = end
    out.append(html[i:])
    return "".join(out)


def referenced_variables(html: str) -> list[str]:
    """The top-level variable names the template's expressions and `_if` conditions read,
    in order of first use (function names, literals and properties excluded). A syntax
    error in any expression is an ExpressionError naming it."""
    trees = [parse(expression) for _, _, expression in expressions(html)]
    for match in TAG.finditer(html):
        condition = IF_ATTRIBUTE.search(match.group(3)) if not match.group(1) else None
        if condition:
            trees.append(parse(_condition(condition.group(1) or condition.group(2) or "")))
    names: list[str] = []
    for tree in trees:
        _collect(tree, names)
    return names


def _collect(node: Any, names: list[str]) -> None:
    if not isinstance(node, tuple):
        if isinstance(node, list):
            for item in node:
                _collect(item, names)
        return
    if node[0] == "var":
        if node[1] not in names:
            names.append(node[1])
        return
    if node[0] == "lit":
        return
    for part in node[1:]:
        _collect(part, names)
