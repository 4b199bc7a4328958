"""One connection to rkllm-server: calls by name, streams, and the descriptors of shared memory.

The daemon speaks JSON-RPC 2.0, one JSON text per line, over a Unix socket; a streaming method
answers with several messages of the request's id, the last one marked `_ended`. A descriptor the
daemon hands over (memory shared with the NPU) comes beside its answer's line (SCM_RIGHTS).
"""

import collections
import json
import mmap
import os
import socket

SYSTEM_SOCKET = "/run/rkllm-server.sock"  # the systemd socket unit's
DAEMON_SOCKET = "/tmp/rkllm.sock"  # the daemon's own default
_MAX_DESCRIPTORS = 16


def default_socket():
    """$RKLLM_UDS_PATH, else the system service's socket when there is one, else the daemon's default."""
    return os.environ.get("RKLLM_UDS_PATH") or (SYSTEM_SOCKET if os.path.exists(SYSTEM_SOCKET) else DAEMON_SOCKET)


class RPCError(Exception):
    """A JSON-RPC error: `code`, `message`, and `data` (the parameter at fault, a runtime's code,
    its name and meaning, ...)."""

    def __init__(self, error):
        super().__init__(f"{error.get('message')} ({error.get('code')})")
        self.code = error.get("code")
        self.message = error.get("message")
        self.data = error.get("data") or {}


class Client:
    """A connection to the daemon. Not thread-safe: one per thread, or a lock around it.

    `path` defaults to $RKLLM_UDS_PATH, else /run/rkllm-server.sock when it exists (the system
    service), else /tmp/rkllm.sock. Use it as a context manager, or call close()."""

    def __init__(self, path=None, timeout=None):
        self.path = path or default_socket()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        self._sock.connect(self.path)
        self._buffer = b""
        self._fds = collections.deque()
        # Messages read while waiting for another request's, by id.
        self._inbox = collections.defaultdict(collections.deque)
        self._next_id = 0

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def close(self):
        """Closes the connection: the daemon releases what this client held."""
        while self._fds:
            os.close(self._fds.popleft())
        self._sock.close()

    # Requests

    def send(self, method, params=None, fds=()):
        """Sends a request (with descriptors, in the order its parameters use them); its id."""
        self._next_id += 1
        request = {"jsonrpc": "2.0", "id": self._next_id, "method": method}
        if params is not None:
            request["params"] = params
        self._write(request, fds)
        return self._next_id

    def notify(self, method, params=None):
        """Sends a notification (no answer)."""
        request = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            request["params"] = params
        self._write(request, ())

    def call(self, method, *args, fds=(), **kwargs):
        """The result of `method` called with positional or named parameters (not both); its
        error raised as RPCError. A model's loading progress is skipped."""
        request = self.send(method, _params(args, kwargs), fds)
        while True:
            result = self._result(self.receive(request))
            if "_loading" not in result:
                return result

    def stream(self, method, *args, **kwargs):
        """A streaming call (`rkllm.run`): a Stream to iterate over its messages."""
        return Stream(self, method, self.send(method, _params(args, kwargs)))

    # Descriptors

    def take_fd(self):
        """The oldest descriptor that came with an answer (yours to close)."""
        if not self._fds:
            raise RPCError({"code": None, "message": "no descriptor came with the answers"})
        return self._fds.popleft()

    def map_fd(self, size):
        """Maps the oldest descriptor that came with an answer (`rknn.create_mem`'s) for reading
        and writing; the descriptor is closed, the mapping stays."""
        fd = self.take_fd()
        try:
            return mmap.mmap(fd, size)
        finally:
            os.close(fd)

    # Reading

    def receive(self, request):
        """The next message of request `request` (others are kept for theirs)."""
        if self._inbox[request]:
            return self._inbox[request].popleft()
        while True:
            message = self._read()
            if message.get("id") == request:
                return message
            self._inbox[message.get("id")].append(message)

    def _read(self):
        while b"\n" not in self._buffer:
            data, fds, _, _ = socket.recv_fds(self._sock, 1 << 20, _MAX_DESCRIPTORS)
            if not data:
                raise ConnectionError("the daemon closed the connection")
            self._buffer += data
            self._fds.extend(fds)
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _write(self, request, fds):
        line = (json.dumps(request) + "\n").encode()
        if fds:
            sent = socket.send_fds(self._sock, [line], list(fds))
            line = line[sent:]
        self._sock.sendall(line)

    @staticmethod
    def _result(message):
        if "error" in message:
            raise RPCError(message["error"])
        return message["result"]


class Stream:
    """The messages of one streaming request, the last one (with `_ended`) included; its place in
    a queue is in `queue_position` rather than among them. Closing it (or leaving a `with` block,
    or dropping it) before its end cancels the request and reads what is left of it."""

    def __init__(self, client, method, request):
        self.client, self.method, self.id = client, method, request
        self.final = None
        self.queue_position = None
        self._pieces = []

    def __iter__(self):
        return self

    def __next__(self):
        if self.final is not None:
            raise StopIteration
        while True:
            result = Client._result(self.client.receive(self.id))
            if "_queue_position" in result:
                self.queue_position = result["_queue_position"]
                continue
            if "_ended" in result:
                self.final = result
            self._pieces.append(result.get("text") or "")
            return result

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def __del__(self):
        try:
            self.close()
        except (OSError, ValueError, RPCError):
            pass  # the connection is gone already

    @property
    def text(self):
        """The text of the messages read so far."""
        return "".join(self._pieces)

    def read_all(self):
        """Reads to the end; the whole text."""
        for _ in self:
            pass
        return self.text

    def close(self):
        """Cancels the request if it has not ended, and reads its end."""
        if self.final is not None or self.client._sock.fileno() < 0:
            return
        self.client.notify("$/cancelRequest", {"id": self.id})
        try:
            for _ in self:
                pass
        except RPCError as error:  # cancelled while it waited in a queue
            self.final = {"_ended": "cancelled", "code": error.code}


def _params(args, kwargs):
    if args and kwargs:
        raise TypeError("parameters by position or by name, not both")
    if kwargs:
        return kwargs
    return list(args) if args else None
