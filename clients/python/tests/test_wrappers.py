import array
import importlib.util

import pytest

from rkllm_client import LLM, Client, RKNNLite

HELLO = "Hello from the demo model, ça va? 你好: world hello."


def test_generate_and_a_conversation(daemon):
    with LLM("demo", client=Client(daemon)) as llm:
        assert llm.generate("hello world") == HELLO
        assert llm.last["_ended"] == "finished"
        llm.chat("hello world")
        first = llm.last["perf"]["prefill_tokens"]
        llm.chat("and again")
        assert llm.last["perf"]["prefill_tokens"] < first, "the second turn prefills only itself"
        llm.reset()
        llm.chat("hello world")
        assert llm.last["perf"]["prefill_tokens"] < first, "the system prompt stays in the cache"


def test_limits_and_tools(daemon):
    with LLM("demo", client=Client(daemon), max_new_tokens=3) as short:
        assert short.generate("hello world") == "Hello from the"
        assert short.last["_ended"] == "max_tokens"
    with LLM("demo", client=Client(daemon)) as llm:
        llm.set_tools([{"type": "function", "function": {"name": "get_weather"}}])
        call = llm.chat("what is the get_weather in Paris")
        assert call.startswith("<tool_call>") and "get_weather" in call
        assert llm.chat("sunny", role="tool") == "Tool result received: sunny."


def test_rknnlite_as_its_users_write_it(daemon):
    rknn = RKNNLite(client=Client(daemon))
    assert rknn.load_rknn("demo") == 0
    assert rknn.init_runtime(core_mask=RKNNLite.NPU_CORE_0) == 0
    outputs = rknn.inference(inputs=[bytes(640 * 640 * 3)])
    # Flat float32 arrays without numpy, arrays of the outputs' shapes with it.
    sizes = [len(o) if isinstance(o, array.array) else o.size for o in outputs]
    assert sizes == [16 * 80 * 80, 16 * 40 * 40, 16 * 20 * 20]
    rknn.release()
    missing = RKNNLite(client=Client(daemon))
    missing.load_rknn("no-such-model")
    assert missing.init_runtime() == -1


@pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="numpy is not installed")
def test_rknnlite_takes_and_gives_numpy_arrays(daemon):
    import numpy

    rknn = RKNNLite(client=Client(daemon))
    rknn.load_rknn("demo")
    assert rknn.init_runtime() == 0
    frame = numpy.zeros((1, 640, 640, 3), dtype=numpy.uint8)
    outputs = rknn.inference(inputs=[frame], data_format="nhwc")
    assert [o.shape for o in outputs] == [(1, 16, 80, 80), (1, 16, 40, 40), (1, 16, 20, 20)]
    assert outputs[0].dtype == numpy.float32
    rknn.release()
