"""The asyncio client: one connection shared by any number of tasks, each call awaiting its own
answer (a reader task routes every message to its request)."""

import asyncio
import collections
import json
import os
import socket

from .client import RPCError, _params, default_socket

_MAX_DESCRIPTORS = 16


class AsyncClient:
    """`await AsyncClient.connect(path)`; `await call(...)`, `async for m in stream(...)`,
    `await close()` (or `async with`)."""

    def __init__(self, sock):
        self._sock = sock
        self._loop = asyncio.get_running_loop()
        self._queues = {}
        self._fds = collections.deque()
        self._next_id = 0
        self._closed = None
        self._reader = asyncio.ensure_future(self._read_forever())

    @classmethod
    async def connect(cls, path=None):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, path or default_socket())
        return cls(sock)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_):
        await self.close()

    async def close(self):
        self._reader.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
        while self._fds:
            os.close(self._fds.popleft())
        self._sock.close()

    async def call(self, method, *args, **kwargs):
        """The result, or RPCError; a model's loading progress is skipped."""
        request, queue = await self._send(method, _params(args, kwargs))
        try:
            while True:
                result = _result(await queue.get())
                if "_loading" not in result:
                    return result
        finally:
            del self._queues[request]

    def stream(self, method, *args, **kwargs):
        """An async iterator over a stream's messages, the last (with `_ended`) included; `aclose()`
        before its end cancels the request."""
        return AsyncStream(self, method, _params(args, kwargs))

    def take_fd(self):
        """The oldest descriptor that came with an answer (yours to close)."""
        return self._fds.popleft()

    async def _send(self, method, params, notify=False):
        request = {"jsonrpc": "2.0", "method": method}
        queue = None
        if not notify:
            self._next_id += 1
            request["id"] = self._next_id
            queue = self._queues[self._next_id] = asyncio.Queue()
        if params is not None:
            request["params"] = params
        if self._closed is not None:
            raise self._closed
        await self._loop.sock_sendall(self._sock, (json.dumps(request) + "\n").encode())
        return request.get("id"), queue

    async def _read_forever(self):
        buffer = b""
        try:
            while True:
                data, fds = await self._receive()
                if not data:
                    raise ConnectionError("the daemon closed the connection")
                self._fds.extend(fds)
                buffer += data
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    message = json.loads(line)
                    queue = self._queues.get(message.get("id"))
                    if queue is not None:
                        queue.put_nowait(message)
        except (OSError, ValueError) as error:
            self._closed = error
            for queue in self._queues.values():  # every waiting call learns the connection is gone
                queue.put_nowait({"error": {"code": None, "message": str(error)}})

    async def _receive(self):
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, 1 << 20, _MAX_DESCRIPTORS)
                return data, fds
            except BlockingIOError:
                readable = self._loop.create_future()
                self._loop.add_reader(self._sock.fileno(), readable.set_result, None)
                try:
                    await readable
                finally:
                    self._loop.remove_reader(self._sock.fileno())


class AsyncStream:
    def __init__(self, client, method, params):
        self.client, self.method, self.params = client, method, params
        self.id, self._queue, self.final = None, None, None
        self._pieces = []

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.final is not None:
            raise StopAsyncIteration
        if self._queue is None:
            self.id, self._queue = await self.client._send(self.method, self.params)
        while True:
            result = _result(await self._queue.get())
            if "_queue_position" in result:
                continue
            if "_ended" in result:
                self.final = result
                del self.client._queues[self.id]
            self._pieces.append(result.get("text") or "")
            return result

    @property
    def text(self):
        return "".join(self._pieces)

    async def aclose(self):
        """Cancels the request if it has not ended, and reads its end."""
        if self.final is not None or self._queue is None:
            return
        await self.client._send("$/cancelRequest", {"id": self.id}, notify=True)
        try:
            async for _ in self:
                pass
        except RPCError as error:
            self.final = {"_ended": "cancelled", "code": error.code}
            self.client._queues.pop(self.id, None)


def _result(message):
    if "error" in message:
        raise RPCError(message["error"])
    return message["result"]
