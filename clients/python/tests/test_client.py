import base64
import struct

import pytest

from rkllm_client import Client, RPCError


def test_calls_by_position_and_by_name(daemon):
    with Client(daemon) as client:
        assert client.call("server.ping") == "pong"
        handle = client.call("rkllm.init", {"model_path": "demo"})["handle"]
        assert client.call("rkllm.is_running", handle) == client.call("rkllm.is_running", handle=handle)
        with pytest.raises(TypeError):
            client.call("rkllm.is_running", handle, handle=handle)


def test_errors_carry_code_message_and_data(daemon):
    with Client(daemon) as client:
        with pytest.raises(RPCError) as bad:
            client.call("rkllm.init", {"model_path": 42})
        assert bad.value.code == -32602 and "model_path" in bad.value.data["param"]
        context = client.call("rknn.init", model_path="demo")["context"]
        with pytest.raises(RPCError) as refused:
            client.call("rknn.set_core_mask", context, 64)
        assert refused.value.data["name"] == "RKNN_ERR_PARAM_INVALID"
        assert refused.value.data["meaning"]


def test_a_stream_yields_each_message_and_ends(daemon):
    with Client(daemon) as client:
        client.call("rkllm.init", {"model_path": "demo"})
        stream = client.stream("rkllm.run", None, {"prompt_input": "hello world"}, {})
        messages = list(stream)
        assert messages[-1] is stream.final and stream.final["_ended"] == "finished"
        assert stream.text.startswith("Hello from the demo model")
        assert len(messages) == stream.final["perf"]["generate_tokens"] + 1


def test_a_stream_closed_early_is_cancelled_and_the_connection_goes_on(daemon):
    with Client(daemon) as client:
        client.call("rkllm.init", {"model_path": "demo"})
        with client.stream("rkllm.run", None, {"prompt_input": "hello world"}, {}) as stream:
            first = next(stream)
            assert first["text"]
        assert stream.final["_ended"] == "cancelled"
        # The connection is in step: the next call gets its own answer.
        again = client.stream("rkllm.run", None, {"prompt_input": "hello world"}, {})
        assert again.read_all().startswith("Hello from the demo model")


def test_shared_memory_arrives_as_a_descriptor_to_map(daemon):
    with Client(daemon) as client:
        created = client.call("rknn.matmul_create", {"M": 1, "K": 64, "N": 32, "type": "RKNN_INT8_MM_INT8_TO_INT32"})
        context, attrs = created["ctx"], created["io_attr"]
        maps, mems = {}, {}
        for name in "ABC":
            mems[name] = client.call("rknn.create_mem", context, attrs[name]["size"])["return"]
            maps[name] = client.map_fd(attrs[name]["size"])
        maps["A"][:64] = struct.pack("64b", *([1] * 64))
        maps["B"][: 64 * 32] = struct.pack(f"{64 * 32}b", *([2] * 64 * 32))
        for name in "ABC":
            client.call("rknn.matmul_set_io_mem", context, mems[name], attrs[name])
        client.call("rknn.matmul_run", context)
        assert struct.unpack("<32i", maps["C"][:128]) == (128,) * 32
        for name in "ABC":
            maps[name].close()


def test_a_frame_by_base64_through_the_composite_run(daemon):
    with Client(daemon) as client:
        context = client.call("rknn.init", model_path="demo", core_mask=1)["context"]
        frame = base64.b64encode(bytes(640 * 640 * 3)).decode()
        outputs = client.call("rknn.run", context=context, input_data=frame)["outputs"]
        assert [o["size"] // 4 for o in outputs] == [16 * 80 * 80, 16 * 40 * 40, 16 * 20 * 20]
