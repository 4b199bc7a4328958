"""A client of rkllm-server, standard library only: Client (any method; AsyncClient for asyncio),
LLM (a language model), RKNNLite (an RKNN model, as rknn-toolkit-lite2 names it)."""

from .aio import AsyncClient, AsyncStream
from .client import Client, RPCError, Stream
from .llm import LLM
from .rknnlite import RKNNLite

__all__ = ["Client", "RPCError", "Stream", "AsyncClient", "AsyncStream", "LLM", "RKNNLite"]
