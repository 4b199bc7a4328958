import asyncio

from rkllm_client import AsyncClient


def test_tasks_share_one_connection(daemon):
    async def main():
        async with await AsyncClient.connect(daemon) as client:
            pongs = await asyncio.gather(*(client.call("server.ping") for _ in range(20)))
            assert pongs == ["pong"] * 20
            await client.call("rkllm.init", {"model_path": "demo"})
            stream = client.stream("rkllm.run", None, {"prompt_input": "hello world"}, {})
            # A call answered while the stream runs: each waits for its own messages.
            pinged = asyncio.ensure_future(client.call("server.ping"))
            async for _ in stream:
                pass
            assert await pinged == "pong"
            assert stream.final["_ended"] == "finished" and stream.text.startswith("Hello from the demo model")

    asyncio.run(main())


def test_an_async_stream_closed_early_is_cancelled(daemon):
    async def main():
        async with await AsyncClient.connect(daemon) as client:
            await client.call("rkllm.init", {"model_path": "demo"})
            stream = client.stream("rkllm.run", None, {"prompt_input": "hello world"}, {})
            assert (await stream.__anext__())["text"]
            await stream.aclose()
            assert stream.final["_ended"] == "cancelled"
            assert await client.call("server.ping") == "pong"

    asyncio.run(main())
