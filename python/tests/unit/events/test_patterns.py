from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llmaz_serverless.events.patterns import PatternError, compile_pattern, resolve

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "e-1",
    "source": "/chat-ui/eu-1",
    "type": "com.example.chat.session.opened",
    "tenantid": "acme",
    "data": {
        "model": "chat-8b",
        "seats": 3,
        "beta": True,
        "note": None,
        "user": {"tier": "pro", "region": "eu"},
        "files": [{"kind": "pdf", "size": 10}, {"kind": "png", "size": 2}],
        "tags": ["urgent", "nightly"],
    },
}

# (pattern, expected match against EVENT)
TABLE: list[tuple[str, dict[str, Any], bool]] = [
    ("one allowed value", {"type": ["com.example.chat.session.opened"]}, True),
    ("value not allowed", {"type": ["com.example.other"]}, False),
    ("any of several values", {"type": ["a", "com.example.chat.session.opened"]}, True),
    ("prefix", {"source": [{"prefix": "/chat-ui/"}]}, True),
    ("prefix mismatch", {"source": [{"prefix": "/batch/"}]}, False),
    ("extension attribute", {"tenantid": ["acme"]}, True),
    ("nested data path", {"data": {"user": {"tier": ["pro"]}}}, True),
    ("nested data path mismatch", {"data": {"user": {"tier": ["free"]}}}, False),
    ("number equals number", {"data": {"seats": [3]}}, True),
    ("number equals float", {"data": {"seats": [3.0]}}, True),
    ("string is not number", {"data": {"seats": ["3"]}}, False),
    ("bool is not number", {"data": {"beta": [1]}}, False),
    ("bool equals bool", {"data": {"beta": [True]}}, True),
    ("null value present", {"data": {"note": [None]}}, True),
    ("exists true on present", {"data": {"user": {"region": [{"exists": True}]}}}, True),
    ("exists true on null", {"data": {"note": [{"exists": True}]}}, True),
    ("exists true on absent", {"data": {"user": {"banned": [{"exists": True}]}}}, False),
    ("exists false on absent", {"data": {"user": {"banned": [{"exists": False}]}}}, True),
    ("exists false on present", {"data": {"model": [{"exists": False}]}}, False),
    ("exists false under absent parent", {"data": {"nothing": {"here": [{"exists": False}]}}}, True),
    ("anything-but list", {"data": {"user": {"tier": [{"anythingBut": ["free", "trial"]}]}}}, True),
    ("anything-but hit", {"data": {"user": {"tier": [{"anythingBut": ["pro"]}]}}}, False),
    ("anything-but scalar", {"data": {"user": {"tier": [{"anythingBut": "free"}]}}}, True),
    ("anything-but prefix", {"source": [{"anythingBut": {"prefix": "/internal/"}}]}, True),
    ("anything-but prefix hit", {"source": [{"anythingBut": {"prefix": "/chat"}}]}, False),
    ("anything-but needs presence", {"data": {"missing": [{"anythingBut": ["x"]}]}}, False),
    ("array element matches", {"data": {"tags": ["nightly"]}}, True),
    ("array element missing", {"data": {"tags": ["weekly"]}}, False),
    ("array of objects", {"data": {"files": {"kind": ["pdf"]}}}, True),
    ("array of objects miss", {"data": {"files": {"kind": ["doc"]}}}, False),
    (
        "anything-but over array excludes any element",
        {"data": {"tags": [{"anythingBut": ["urgent"]}]}},
        False,
    ),
    ("OR inside a field", {"data": {"model": ["other", {"prefix": "chat-"}]}}, True),
    (
        "AND across fields, one fails",
        {"type": ["com.example.chat.session.opened"], "data": {"model": ["other"]}},
        False,
    ),
    (
        "AND across fields, all pass",
        {"type": ["com.example.chat.session.opened"], "source": [{"prefix": "/chat"}], "tenantid": ["acme"]},
        True,
    ),
    ("data as a whole exists", {"data": [{"exists": True}]}, True),
    ("absent attribute", {"subject": ["x"]}, False),
    ("absent attribute exists false", {"subject": [{"exists": False}]}, True),
]


@pytest.mark.parametrize(("case", "pattern", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_pattern_matches_event_as_table_says_when_pattern_given(case, pattern, expected):
    assert compile_pattern(pattern).matches(EVENT) is expected


def test_first_mismatch_names_the_failing_field_when_one_field_fails():
    pattern = compile_pattern(
        {"type": ["com.example.chat.session.opened"], "data": {"user": {"tier": ["free"]}}}
    )
    miss = pattern.first_mismatch(EVENT)
    assert miss is not None
    assert miss.dotted == "data.user.tier"
    assert miss.describe() == "'free'"


def test_data_fields_are_absent_when_data_is_text():
    pattern = compile_pattern({"data": {"model": [{"exists": False}]}})
    assert pattern.matches({"type": "t", "data": "plain text"})
    assert not compile_pattern({"data": {"model": ["x"]}}).matches({"type": "t", "data": "plain text"})


BAD: list[tuple[Any, str]] = [
    ({"type": "com.example.x"}, r"pattern\.type: expected a list .* \['com\.example\.x'\]"),
    ({"type": []}, r"pattern\.type: an empty list matches no event"),
    ({"Type": ["x"]}, r"pattern\.Type: not a CloudEvents attribute name"),
    ({"data.model": ["x"]}, r"not a CloudEvents attribute name"),
    ({"data": {}}, r"pattern\.data: an empty mapping constrains nothing"),
    ({"data": {"user": {}}}, r"pattern\.data\.user: an empty mapping"),
    ({"type": [{"prefx": "a"}]}, r"pattern\.type\[0\]: a matcher has exactly one key.*got prefx"),
    ({"type": [{"prefix": "a", "exists": True}]}, r"exactly one key"),
    ({"type": [{"prefix": ""}]}, r"pattern\.type\[0\]\.prefix: expected a non-empty string"),
    ({"type": [{"exists": "yes"}]}, r"exists: expected true or false"),
    ({"type": [{"anythingBut": []}]}, r"anythingBut: an empty list excludes nothing"),
    ({"type": [{"anythingBut": [{"a": 1}]}]}, r"anythingBut: expected a list of plain values"),
    ({"type": [{"anythingBut": {"suffix": "x"}}]}, r"anythingBut: expected a value, a list"),
    ({"type": [["nested"]]}, r"pattern\.type\[0\]: expected a value or one of"),
    (["type"], r"pattern: expected a mapping"),
]


@pytest.mark.parametrize(("raw", "message"), BAD, ids=[str(b[0]) for b in BAD])
def test_compile_rejects_with_path_and_fix_when_pattern_is_malformed(raw, message):
    with pytest.raises(PatternError, match=message):
        compile_pattern(raw)


def test_empty_pattern_compiles_to_match_everything():
    assert compile_pattern({}).matches_everything
    assert compile_pattern({}).matches(EVENT)


def test_resolve_returns_empty_when_path_is_absent_and_null_when_present_null():
    assert resolve(EVENT, ("data", "nope")) == []
    assert resolve(EVENT, ("data", "note")) == [None]
    assert resolve(EVENT, ("data", "files", "size")) == [10, 2]


# ---- property tests -------------------------------------------------------

keys = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)
documents = st.recursive(
    scalars,
    lambda children: st.dictionaries(keys, children, max_size=4),
    max_leaves=12,
).filter(lambda d: isinstance(d, dict))


def _leaves(node: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    if isinstance(node, dict):
        out = []
        for k, v in node.items():
            out.extend(_leaves(v, (*path, k)))
        return out
    return [(path, node)]


def _nest(path: tuple[str, ...], leaf: Any) -> dict[str, Any]:
    out: Any = leaf
    for key in reversed(path):
        out = {key: out}
    return out


@settings(max_examples=200, deadline=None)
@given(data=documents, pick=st.integers(0, 1000))
def test_pattern_built_from_an_events_own_value_always_matches(data, pick):
    leaves = _leaves(data)
    if not leaves:
        return
    path, value = leaves[pick % len(leaves)]
    event = {"type": "t", "data": data}
    assert compile_pattern({"data": _nest(path, [value])}).matches(event)
    assert compile_pattern({"data": _nest(path, [{"exists": True}])}).matches(event)
    assert not compile_pattern({"data": _nest(path, [{"exists": False}])}).matches(event)
    assert not compile_pattern({"data": _nest(path, [{"anythingBut": [value]}])}).matches(event)
    if isinstance(value, str) and value:
        assert compile_pattern({"data": _nest(path, [{"prefix": value[:2]}])}).matches(event)


@settings(max_examples=200, deadline=None)
@given(data=documents, allowed=st.lists(scalars, min_size=1, max_size=4), extra=scalars)
def test_allowed_list_order_and_an_extra_alternative_never_turn_a_match_off(data, allowed, extra):
    event = {"type": "t", "data": data}
    for path, _ in _leaves(data)[:3]:
        base = compile_pattern({"data": _nest(path, allowed)}).matches(event)
        assert compile_pattern({"data": _nest(path, list(reversed(allowed)))}).matches(event) is base
        widened = compile_pattern({"data": _nest(path, [*allowed, extra])}).matches(event)
        assert widened or not base
        # A second field can only narrow: AND never matches more than either side.
        both = compile_pattern({"type": ["t"], "data": _nest(path, allowed)}).matches(event)
        assert both is base
        assert not compile_pattern({"type": ["other"], "data": _nest(path, allowed)}).matches(event)
