"""A language model on rkllm-server, the way a chat program uses one."""

import json

from .client import Client


class LLM:
    """A model loaded with `rkllm.init` (shared with other clients that load it alike).

    `params` are RKLLMParam members (`max_new_tokens=256`, `top_k=1`, ...). `generate` answers a
    prompt alone; `chat` keeps the conversation in the runtime's KV cache (each turn prefills only
    itself; the model becomes this client's own), `reset` starts a new one."""

    def __init__(self, model="demo", client=None, **params):
        self.client = client or Client()
        self._owns_client = client is None
        self.handle = self.client.call("rkllm.init", {**params, "model_path": model})["handle"]
        self.last = None  # the last run's final message (perf, _ended)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def close(self):
        """Releases the model (it unloads once no client holds it, after the keep-alive)."""
        if self.handle is not None:
            self.client.call("rkllm.destroy", self.handle)
            self.handle = None
        if self._owns_client:
            self.client.close()

    def stream(self, prompt, role="user", keep_history=False, **infer):
        """The reply's messages as they come (a `Stream`); `infer`: RKLLMInferParam members."""
        run = {**infer, "keep_history": 1 if keep_history else 0}
        return self.client.stream(
            "rkllm.run", self.handle, {"role": role, "input_type": "RKLLM_INPUT_PROMPT", "prompt_input": prompt}, run)

    def generate(self, prompt, **infer):
        """The whole reply to a prompt on its own."""
        stream = self.stream(prompt, **infer)
        text = stream.read_all()
        self.last = stream.final
        return text

    def chat(self, message, role="user", **infer):
        """The reply to the next turn of this client's conversation (`role` "tool" for a tool's result)."""
        stream = self.stream(message, role=role, keep_history=True, **infer)
        text = stream.read_all()
        self.last = stream.final
        return text

    def reset(self, keep_system_prompt=True):
        """Starts a new conversation."""
        self.client.call("rkllm.clear_kv_cache", self.handle, 1 if keep_system_prompt else 0, None, None)

    def set_template(self, system_prompt, prompt_prefix, prompt_postfix):
        """The chat template: the system prompt and what goes around each prompt."""
        self.client.call("rkllm.set_chat_template", self.handle, system_prompt, prompt_prefix, prompt_postfix)

    def set_tools(self, tools, system_prompt="", tool_response="<tool_response>"):
        """The functions the model may call (OpenAI's tool list, or its JSON text)."""
        text = tools if isinstance(tools, str) else json.dumps(tools)
        self.client.call("rkllm.set_function_tools", self.handle, system_prompt, text, tool_response)
