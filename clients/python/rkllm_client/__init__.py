"""A client of rkllm-server, standard library only: see Client."""

from .client import Client, RPCError, Stream

__all__ = ["Client", "RPCError", "Stream"]
