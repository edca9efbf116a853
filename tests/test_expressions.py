"""Pictify's expression language (render/expressions.py, expression_functions.py) and HTML
template filling (render/html_template.py): every example of concepts/expressions.mdx with
its documented or JavaScript-defined result, then hostile input, which must be refused
quickly with an error naming the expression."""

import math

import pytest

from pixhaven.render.expression_values import MAX_DEPTH, Budget, ExpressionError
from pixhaven.render.expressions import evaluate
from pixhaven.render.html_template import fill_html, referenced_variables

DATA = {
    "title": "Hello",
    "user": {"name": "jane doe", "profile": {"avatar": "https://x.test/a.png"}},
    "items": [{"price": 9.5, "name": "Pen"}, {"price": 3, "name": "Ink"}],
    "order": {"items": [{"name": "Book"}]},
    "price": 29.99,
    "quantity": 3,
    "subtotal": 100,
    "tax": 8.25,
    "total": 4250,
    "count": 7,
    "status": "active",
    "name": "Guest",
    "isAdmin": True,
    "isPremium": False,
    "hasDiscount": False,
    "isFirstOrder": True,
    "isExpired": False,
    "email": "Jane@Example.COM",
    "input": "  padded  ",
    "desc": "a" * 120,
    "text": "foo-bar-baz",
    "tags": "red,green,blue",
    "id": 42,
    "code": "AB",
    "rating": 4.7,
    "shipping": 4.2,
    "difference": -12,
    "maxPrice": 25,
    "prices": [1.5, 2.5, 6],
    "ratings": [4, 5, 3],
    "rate": 0.256,
    "createdAt": "2026-01-29T10:30:00Z",
    "timestamp": "2026-01-29T15:05:00Z",
    "images": ["a.png", "b.png"],
    "comments": ["first", "latest"],
    "roles": ["user", "admin"],
    "data": {"a": [1, 2]},
    "jsonString": '{"k": [1, "two"]}',
    "nickname": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # Syntax: variables and property access
        ("title", "Hello"),
        ("user.name", "jane doe"),
        ("items[0].price", 9.5),
        ("user.profile.avatar", "https://x.test/a.png"),
        ("order.items[0].name", "Book"),
        # Arithmetic
        ("price * quantity", 89.97),
        ("subtotal + tax", 108.25),
        ("total / 100", 42.5),
        ("count % 2", 1),
        # Comparisons
        ("price > 100", False),
        ("status == 'active'", True),
        ("count >= 10", False),
        ("name != 'Guest'", False),
        # Logical operators
        ("isAdmin && isPremium", False),
        ("hasDiscount || isFirstOrder", True),
        ("!isExpired", True),
        # Ternaries
        ("isPremium ? 'Premium Member' : 'Free User'", "Free User"),
        ("count > 0 ? count : 'None'", 7),
        # String functions
        ("uppercase(name)", "GUEST"),
        ("lowercase(email)", "jane@example.com"),
        ("capitalize(title)", "Hello"),
        ("titleCase(user.name)", "Jane Doe"),
        ("trim(input)", "padded"),
        ("truncate(desc, 100, '...')", "a" * 100 + "..."),
        ("replace(text, '-', ' ')", "foo bar baz"),
        ("split(tags, ',')", ["red", "green", "blue"]),
        ("padStart(id, 5, '0')", "00042"),
        ("padEnd(code, 10, '-')", "AB--------"),
        # Number functions
        ("round(price, 2)", 29.99),
        ("round(2.675, 2)", 2.68),
        ("floor(rating)", 4),
        ("ceil(shipping)", 5),
        ("abs(difference)", 12),
        ("min(price, maxPrice)", 25),
        ("max(0, quantity)", 3),
        ("sum(prices)", 10),
        ("average(ratings)", 4),
        # Formatting functions
        ("currency(price, 'USD')", "$29.99"),
        ("currency(1234567.891, 'EUR', 'de-DE')", "1.234.567,89\u00a0€"),
        ("currency(-5, 'GBP')", "-£5.00"),
        ("number(1234567.5, 'en-US')", "1,234,567.5"),
        ("percent(rate, 1)", "25.6%"),
        ("date(createdAt, 'MMM D, YYYY')", "Jan 29, 2026"),
        ("time(timestamp)", "3:05 PM"),
        # Array functions
        ("length(items)", 2),
        ("first(images)", "a.png"),
        ("last(comments)", "latest"),
        ("join(split(tags, ','), ', ')", "red, green, blue"),
        ("slice(prices, 0, 2)", [1.5, 2.5]),
        ("contains(roles, 'admin')", True),
        ("indexOf(roles, 'admin')", 1),
        ("indexOf(images, 'apple')", -1),
        # Type checks
        ("isEmpty(items)", False),
        ("isNotEmpty(name)", True),
        ("isDefined(user)", True),
        ("isDefined(nobody)", False),
        ("isArray(items)", True),
        ("isString(name)", True),
        ("isNumber(count)", True),
        # Utilities
        ("default(nickname, 'Guest')", "Guest"),
        ("coalesce(nickname, name, 'User')", "Guest"),
        ("json(data)", '{"a":[1,2]}'),
        ("parseJson(jsonString)", {"k": [1, "two"]}),
        # "Test with Data": the documented request and its result
        ("currency(price * quantity, 'USD')", "$89.97"),
        # JavaScript semantics the examples lean on
        ("' +' + (length(images) - 1) + ' more'", " +1 more"),
        ("1 + 2 + 'a'", "3a"),
        ("nickname || 'anon'", "anon"),
        ("items.length", 2),
        ("10 / 4", 2.5),
        ("-7 % 3", -1),
    ],
)
def test_documented_expressions(expression, expected):
    assert evaluate(expression, DATA) == expected


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        # Text interpolation, both documented examples
        (
            "Hello, {{name}}! You have {{count}} {{count == 1 ? 'message' : 'messages'}}.",
            {"name": "Ann", "count": 1},
            "Hello, Ann! You have 1 message.",
        ),
        (
            "{{currency(price, 'USD')}} ({{percent(discount)}} off)",
            {"price": 20, "discount": 0.25},
            "$20.00 (25% off)",
        ),
        # The Examples section
        (
            "{{capitalize(greeting)}}, {{titleCase(name)}}!",
            {"greeting": "welcome back", "name": "jANE doe"},
            "Welcome back, Jane Doe!",
        ),
        (
            "{{currency(price, 'USD')}}{{hasDiscount ? ' (' + percent(discount) + ' off)' : ''}}",
            {"price": 49, "hasDiscount": True, "discount": 0.1},
            "$49.00 (10% off)",
        ),
        (
            "Published {{date(publishedAt, 'MMMM D, YYYY')}}",
            {"publishedAt": "2026-03-05"},
            "Published March 5, 2026",
        ),
        (
            "{{join(slice(tags, 0, 3), ' • ')}}"
            "{{length(tags) > 3 ? ' +' + (length(tags) - 3) + ' more' : ''}}",
            {"tags": ["a", "b", "c", "d", "e"]},
            "a • b • c +2 more",
        ),
        (
            "{{join(slice(tags, 0, 3), ' • ')}}"
            "{{length(tags) > 3 ? ' +' + (length(tags) - 3) + ' more' : ''}}",
            {"tags": ["a", "b"]},
            "a • b",
        ),
        # Conditional rendering in HTML (api-reference/templates.mdx), and `_if` with the
        # documented complex condition
        (
            '<div _if="showBadge" class="badge">Premium</div><p>x</p>',
            {"showBadge": False},
            "<p>x</p>",
        ),
        (
            '<div _if="showBadge" class="badge">Premium</div>',
            {"showBadge": True},
            '<div class="badge">Premium</div>',
        ),
        (
            '<div _if="isPremium && !isExpired"><div>in</div><img src="{{badge}}"></div>after',
            {"isPremium": True, "isExpired": True, "badge": "b.png"},
            "after",
        ),
        (
            "<p>Total: {{currency(price * quantity, 'USD')}}</p>",
            {"price": 29.99, "quantity": 3},
            "<p>Total: $89.97</p>",
        ),
        # Values are escaped, in text and in attributes; a missing variable prints nothing
        (
            '<h1 title="{{t}}">{{t}}</h1>{{missing}}',
            {"t": "\"><script>alert('x')</script>&"},
            '<h1 title="&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;">'
            "&quot;&gt;&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;</h1>",
        ),
        # `}}` inside a string literal does not close the expression
        ("{{ '}}' + a }}", {"a": 1}, "}}1"),
    ],
)
def test_html_fill(template, data, expected):
    assert fill_html(template, data) == expected


def test_referenced_variables_are_the_top_level_names_read():
    html = (
        '<p _if="vip && !gone">Hi {{titleCase(user.name)}}, {{items[0].price * qty}}'
        " {{ 'literal' }} {{currency(total, 'USD')}}</p>"
    )
    assert sorted(referenced_variables(html)) == ["gone", "items", "qty", "total", "user", "vip"]


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("x.__class__", "not allowed"),
        ("x['__class__']", "not allowed"),
        ("__import__('os')", "not allowed"),
        ("eval('1')", "Unknown function"),
        ("x.constructor('1')", "Unexpected"),
        ("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5), "nested deeper"),
        ("!" * 500 + "x", "nested deeper"),
        ("1 +", "Unexpected end"),
        ("'open", "Unterminated string"),
        ("a ? b", "Expected ':'"),
        ("a # b", "Unexpected character"),
        # JavaScript's number literals are ASCII digits: "٣" and "²" are not numbers.
        ("٣ + 1", "Unexpected character"),
        ("2²", "Unexpected character"),
        ("1" + " + 1" * 1000, "longer than"),
        ("padStart('x', 1000000000, 'y')", "over"),
        ("replace(big, 'a', big)", "longer than"),
        ("parseJson('{')", "not valid JSON"),
        ("nothing.deeper", "Cannot read property"),
    ],
)
def test_hostile_or_broken_expressions_are_refused_naming_the_expression(expression, reason):
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, {"x": {"a": 1}, "big": "a" * 50_000})
    assert reason in caught.value.reason
    assert caught.value.expression.startswith(expression[:40])


def test_string_doubling_hits_the_value_limit():
    # Each `s + s` doubles: 2**20 characters would be a megabyte; refused on the way.
    with pytest.raises(ExpressionError, match="longer than"):
        fill_html("{{" + "s + s" + "}}", {"s": "x" * 60_000})


def test_the_step_budget_is_shared_by_a_whole_template():
    # Cheap expressions, but ten thousand of them over one template's budget.
    template = "{{sum(list)}}" * 1000
    with pytest.raises(ExpressionError, match="step budget"):
        fill_html(template, {"list": list(range(1000))}, Budget(steps=50_000))


def test_huge_templates_and_many_expressions_are_refused():
    with pytest.raises(ExpressionError, match="Template longer"):
        fill_html("x" * 600_000, {})
    with pytest.raises(ExpressionError, match="More than"):
        fill_html("{{a}}" * 6000, {})
    with pytest.raises(ExpressionError, match="Unclosed"):
        fill_html("<p>{{name</p>", {})


def test_python_internals_are_unreachable_through_values():
    # Properties are dict keys and list indexes, never attributes: a str's methods and a
    # dict's internals are just undefined.
    assert evaluate("s.upper", {"s": "abc"}) is not None
    assert fill_html("{{s.upper}}{{d.items}}{{d.keys}}", {"s": "abc", "d": {}}) == ""


def test_long_operator_chains_are_nesting_too():
    # `a+a+…+a` parses to a tree as deep as the chain: refused like deep parentheses, at
    # parse time, so neither the evaluator nor variable extraction recurses without bound.
    for chain in ("a+" * 999 + "a", "a&&" * 600 + "a", "a" + ".b" * 900, "a" + "[0]" * 600):
        with pytest.raises(ExpressionError, match="nested deeper"):
            referenced_variables("{{" + chain + "}}")
    assert evaluate("+".join(["a"] * 30), {"a": 1}) == 30


def test_broken_markup_scans_in_linear_time():
    # Thousands of tags that never close, and quotes that never end: each match attempt
    # stops at the next `<`. (Quadratic scanning would take minutes here.)
    for junk in ('<a "' * 100_000, "<a " * 150_000, "<div _if='x' " * 35_000):
        assert fill_html(junk, {"x": True}).startswith(junk[:10])


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (" 12 ", 12),
        ("1e3", 1000),
        ("-.5", -0.5),
        ("0x10", 16),
        ("0b101", 5),
        ("0o17", 15),
        ("Infinity", math.inf),
        ("-Infinity", -math.inf),
        ("", 0),
        # Numbers to Python's float() or int(), NaN to JavaScript's Number().
        ("٣", math.nan),
        ("1_000", math.nan),
        ("nan", math.nan),
        ("infinity", math.nan),
        ("-0x10", math.nan),
        ("0x1_0", math.nan),
        ("0x", math.nan),
    ],
)
def test_strings_become_numbers_as_in_javascript(text, number):
    value = evaluate("x * 1", {"x": text})
    assert math.isnan(value) if math.isnan(number) else value == number
