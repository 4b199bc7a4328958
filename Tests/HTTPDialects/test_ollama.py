"""Ollama's own Python client against the daemon's HTTP front."""

import datetime
import json
import urllib.request

import ollama
import pytest

from conftest import HELLO_REPLY, Daemon


@pytest.fixture(scope="module")
def client(daemon):
    return ollama.Client(host=daemon.url)


def hello(text="hello world"):
    return [{"role": "user", "content": text}]


def test_version_tags_and_show(daemon, client):
    with urllib.request.urlopen(daemon.url + "/api/version") as response:
        assert json.load(response)["version"]
    assert "demo" in [model.model for model in client.list().models]
    assert client.show("demo").details.format == "rkllm"
    with pytest.raises(ollama.ResponseError) as error:
        client.show("no-such-model")
    assert error.value.status_code == 404


def test_chat_whole_and_streamed(client):
    whole = client.chat(model="demo", messages=hello(), stream=False)
    assert whole.message.content == HELLO_REPLY
    assert whole.done and whole.eval_count > 0 and whole.prompt_eval_count > 0
    pieces = list(client.chat(model="demo", messages=hello(), stream=True))
    assert "".join(piece.message.content for piece in pieces) == HELLO_REPLY
    assert pieces[-1].done and pieces[-1].done_reason == "stop"
    assert len(pieces) > 3


def test_a_second_turn(client):
    first = client.chat(model="demo", messages=hello()).message.content
    second = client.chat(model="demo", messages=[
        *hello(), {"role": "assistant", "content": first}, {"role": "user", "content": "and goodbye"}])
    assert "goodbye" in second.message.content


def test_generate_and_options(client):
    assert client.generate(model="demo", prompt="hello world").response == HELLO_REPLY
    cut = client.generate(model="demo", prompt="hello world", options={"num_predict": 3})
    assert cut.response == "Hello from the" and cut.done_reason == "length"
    streamed = "".join(part.response for part in client.generate(model="demo", prompt="hello world", stream=True))
    assert streamed == HELLO_REPLY


def test_keep_alive_is_honoured(client):
    # The daemon here unloads a model as soon as nobody holds it; a request's keep_alive keeps it.
    client.chat(model="demo", messages=hello(), keep_alive="1m")
    loaded = client.ps().models
    assert [model.model for model in loaded] == ["demo"]
    assert 0 < (loaded[0].expires_at - datetime.datetime.now(datetime.timezone.utc)).total_seconds() <= 60
    client.generate(model="demo", prompt="hello world", keep_alive=0)
    assert client.ps().models == []
    # A request without a prompt loads the model (Ollama's way to preload one).
    loaded = client.generate(model="demo", keep_alive=-1)
    assert loaded.done and loaded.done_reason == "load"
    assert [model.model for model in client.ps().models] == ["demo"]
    client.generate(model="demo", keep_alive=0)
    assert client.ps().models == []


def test_an_unknown_model_is_404(client):
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="no-such-model", messages=hello())
    assert error.value.status_code == 404


def test_pulling_a_model_loads_it_with_its_progress():
    slow = Daemon(load_ms="1500")
    try:
        client = ollama.Client(host=slow.url)
        statuses = [progress.status for progress in client.pull("demo", stream=True)]
        assert statuses[0] == "loading demo" and "loading demo: 1 s" in statuses, statuses
        assert statuses[-1] == "success"
        assert slow.stats()["runtimes"]["rkllm"]["hosts_started"] == 1, "the model was loaded"
        with pytest.raises(ollama.ResponseError) as error:
            client.pull("no-such-model")
        assert error.value.status_code == 404
    finally:
        slow.stop()
