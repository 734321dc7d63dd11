from __future__ import annotations

import pytest

from llmaz_serverless.events.template import TemplateError, compile_template

DOC = {
    "id": "e-7",
    "source": "/uploads",
    "type": "com.example.upload.finished",
    "data": {
        "url": "s3://bucket/in.jsonl",
        "maxTokens": 256,
        "messages": [{"role": "user", "content": "hi"}],
        "files": [{"url": "s3://a"}, {"url": "s3://b"}],
        "flags": {"fast": True},
    },
}


def test_whole_string_placeholder_keeps_json_type_when_value_is_not_text():
    t = compile_template({"max_tokens": "${data.maxTokens}", "messages": "${data.messages}"}, "request")
    out = t.render(DOC)
    assert out == {"max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}
    out["messages"][0]["content"] = "changed"
    assert DOC["data"]["messages"][0]["content"] == "hi", "rendered request must not alias the event"


def test_embedded_placeholder_becomes_text_when_inside_a_longer_string():
    t = compile_template(
        {"prompt": "Summarise ${data.url} (event ${id}), flags ${data.flags}, n=${data.maxTokens}"}, "request"
    )
    assert t.render(DOC) == {
        "prompt": 'Summarise s3://bucket/in.jsonl (event e-7), flags {"fast":true}, n=256'
    }


def test_list_index_segments_pick_elements():
    assert compile_template("${data.files.1.url}", "w").render(DOC) == "s3://b"


def test_double_dollar_writes_a_literal_placeholder():
    assert compile_template("cost $${data.url} ${id}", "w").render(DOC) == "cost ${data.url} e-7"


def test_non_string_values_pass_through_unchanged():
    t = compile_template({"n": 1, "t": 0.5, "b": False, "z": None, "l": [1, "x"]}, "r")
    assert t.render(DOC) == {"n": 1, "t": 0.5, "b": False, "z": None, "l": [1, "x"]}


def test_render_names_the_missing_path_when_the_event_lacks_it():
    t = compile_template({"messages": [{"content": "${data.prompt}"}]}, "request")
    with pytest.raises(
        TemplateError, match=r"request\.messages\[0\]\.content: the event has no `data\.prompt`"
    ):
        t.render(DOC)


def test_render_fails_when_index_is_out_of_range():
    with pytest.raises(TemplateError, match=r"data\.files\.5"):
        compile_template("${data.files.5.url}", "w").render(DOC)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("${}", "bad placeholder"),
        ("${data..x}", "bad placeholder"),
        ("${data.a b}", "bad placeholder"),
        ("${Data.x}", "must start with an event attribute"),
        ("hello ${data.x", "unclosed placeholder"),
    ],
)
def test_compile_rejects_with_a_fix_when_placeholder_is_malformed(raw, message):
    with pytest.raises(TemplateError, match=message):
        compile_template({"prompt": raw}, "request")


def test_paths_lists_every_placeholder():
    t = compile_template({"a": "${data.x}", "b": ["${id} and ${data.y.z}"]}, "r")
    assert t.paths == ["data.x", "id", "data.y.z"]
