"""A client of rkllm-server, standard library only: Client (any method), LLM (a language model),
RKNNLite (an RKNN model, as rknn-toolkit-lite2 names it)."""

from .client import Client, RPCError, Stream
from .llm import LLM
from .rknnlite import RKNNLite

__all__ = ["Client", "RPCError", "Stream", "LLM", "RKNNLite"]
