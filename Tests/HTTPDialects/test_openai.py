"""OpenAI's own Python client against the daemon's HTTP front."""

import openai
import pytest

from conftest import HELLO_REPLY, Daemon


@pytest.fixture(scope="module")
def client(daemon):
    return openai.OpenAI(base_url=daemon.url + "/v1", api_key="unused", max_retries=0)


def hello(text="hello world"):
    return [{"role": "user", "content": text}]


def test_models_are_listed(client):
    assert "demo" in [model.id for model in client.models.list()]


def test_chat_whole_and_streamed(client):
    whole = client.chat.completions.create(model="demo", messages=hello())
    assert whole.choices[0].message.content == HELLO_REPLY
    assert whole.choices[0].finish_reason == "stop"
    assert whole.usage.prompt_tokens > 0 and whole.usage.completion_tokens > 0
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + whole.usage.completion_tokens
    pieces, reasons = [], []
    for chunk in client.chat.completions.create(
            model="demo", messages=hello(), stream=True, stream_options={"include_usage": True}):
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            reasons.append(choice.finish_reason)
        if chunk.usage:
            assert chunk.usage.completion_tokens == whole.usage.completion_tokens
    assert "".join(pieces) == HELLO_REPLY
    assert len(pieces) > 3, "the reply came piece by piece"
    assert reasons[-1] == "stop"


def test_a_second_turn_and_a_system_message(client):
    first = client.chat.completions.create(model="demo", messages=hello()).choices[0].message.content
    second = client.chat.completions.create(model="demo", messages=[
        {"role": "system", "content": "You are terse."}, *hello(),
        {"role": "assistant", "content": first}, {"role": "user", "content": "and goodbye"}])
    reply = second.choices[0].message.content
    assert reply.startswith("Hello from the demo model") and "goodbye" in reply, reply


def test_completions(client):
    completion = client.completions.create(model="demo", prompt="hello world")
    assert completion.choices[0].text == HELLO_REPLY


def test_limits_stop_and_max_tokens(client):
    cut = client.chat.completions.create(model="demo", messages=hello(), max_tokens=3)
    assert cut.choices[0].message.content == "Hello from the"
    assert cut.choices[0].finish_reason == "length"
    stopped = client.chat.completions.create(model="demo", messages=hello(), stop=["demo"])
    assert stopped.choices[0].message.content == "Hello from the "
    assert stopped.choices[0].finish_reason == "stop"


def test_sampling_per_request(client):
    # RKLLM 1.3.0 takes sampling per run: the simulated reply says what it used.
    sampled = client.chat.completions.create(model="demo", messages=hello(), temperature=0.7, top_p=0.9,
                                             extra_body={"top_k": 40})
    assert sampled.choices[0].message.content.startswith("[sampled top_k=40 T=0.70] ")


def test_tools(client):
    tools = [{"type": "function", "function": {
        "name": "get_weather", "description": "the weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
    answer = client.chat.completions.create(
        model="demo", messages=hello("what does get_weather say for Paris"), tools=tools)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls[0].function.name == "get_weather"
    assert choice.message.tool_calls[0].function.arguments == "{}"


def test_an_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="no-such-model", messages=hello())
    assert "no-such-model" in str(error.value)


def test_bad_input_is_400(client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="demo", messages=[])


def test_a_client_gone_mid_stream_stops_its_generation(daemon, client):
    slow = Daemon(token_us="200000")
    try:
        slow_client = openai.OpenAI(base_url=slow.url + "/v1", api_key="unused", max_retries=0)
        stream = slow_client.chat.completions.create(model="demo", messages=hello(), stream=True)
        next(iter(stream))
        next(iter(stream))
        stream.close()
        # The generation stops in the daemon, and the next request is served at once.
        slow.wait_until(lambda stats: stats["runtimes"]["rkllm"]["streams_running"] == 0, "the run was stopped")
        cut = slow_client.chat.completions.create(model="demo", messages=hello(), max_tokens=1)
        assert cut.choices[0].message.content == "Hello"
    finally:
        slow.stop()


def test_a_full_queue_is_429():
    busy = Daemon(token_us="200000", arguments=("--max-queue", "1"))
    try:
        client = openai.OpenAI(base_url=busy.url + "/v1", api_key="unused", max_retries=0)
        running = client.chat.completions.create(model="demo", messages=hello(), stream=True)
        next(iter(running))
        waiting = client.with_options().chat.completions.create(model="demo", messages=hello(), stream=True)
        busy.wait_until(lambda stats: stats["runtimes"]["rkllm"]["streams_queued"] == 1, "the second run waits")
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="demo", messages=hello())
        running.close()
        waiting.close()
    finally:
        busy.stop()


def test_sampling_where_the_runtime_fixes_it_at_load_is_400():
    older = Daemon(library="librkllmrt_sim.so")
    try:
        client = openai.OpenAI(base_url=older.url + "/v1", api_key="unused", max_retries=0)
        with pytest.raises(openai.BadRequestError) as error:
            client.chat.completions.create(model="demo", messages=hello(), temperature=0.5)
        assert "temperature" in str(error.value)
        # What it does take still works: max_tokens is kept by the front.
        cut = client.chat.completions.create(model="demo", messages=hello(), max_tokens=2)
        assert cut.choices[0].message.content == "Hello from"
    finally:
        older.stop()
