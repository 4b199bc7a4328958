"""A ctypes client of librkllmrt written the way the vendor's Flask and Gradio servers
(rknn-llm 1.2.x) use it, run against the library named by RKLLM_LIB with the model RKLLM_MODEL.
Standard library only: `python3 -m unittest` runs it (Tests/Conformance/run.sh)."""

import ctypes
import os
import threading
import unittest

RKLLM_RUN_NORMAL, RKLLM_RUN_WAITING, RKLLM_RUN_FINISH, RKLLM_RUN_ERROR = 0, 1, 2, 3
RKLLM_INPUT_PROMPT = 0
RKLLM_INFER_GENERATE = 0
DEMO_REPLY = "Hello from the demo model, ça va? 你好: world hello."


class RKLLMExtendParam(ctypes.Structure):
    _fields_ = [("base_domain_id", ctypes.c_int32), ("embed_flash", ctypes.c_int8),
                ("enabled_cpus_num", ctypes.c_int8), ("enabled_cpus_mask", ctypes.c_uint32),
                ("n_batch", ctypes.c_uint8), ("use_cross_attn", ctypes.c_int8),
                ("reserved", ctypes.c_uint8 * 104)]


class RKLLMParam(ctypes.Structure):
    _fields_ = [("model_path", ctypes.c_char_p), ("max_context_len", ctypes.c_int32),
                ("max_new_tokens", ctypes.c_int32), ("top_k", ctypes.c_int32), ("n_keep", ctypes.c_int32),
                ("top_p", ctypes.c_float), ("temperature", ctypes.c_float), ("repeat_penalty", ctypes.c_float),
                ("frequency_penalty", ctypes.c_float), ("presence_penalty", ctypes.c_float),
                ("mirostat", ctypes.c_int32), ("mirostat_tau", ctypes.c_float), ("mirostat_eta", ctypes.c_float),
                ("skip_special_token", ctypes.c_bool), ("is_async", ctypes.c_bool),
                ("img_start", ctypes.c_char_p), ("img_end", ctypes.c_char_p), ("img_content", ctypes.c_char_p),
                ("extend_param", RKLLMExtendParam)]


class RKLLMEmbedInput(ctypes.Structure):
    _fields_ = [("embed", ctypes.POINTER(ctypes.c_float)), ("n_tokens", ctypes.c_size_t)]


class RKLLMTokenInput(ctypes.Structure):
    _fields_ = [("input_ids", ctypes.POINTER(ctypes.c_int32)), ("n_tokens", ctypes.c_size_t)]


class RKLLMMultiModalInput(ctypes.Structure):
    _fields_ = [("prompt", ctypes.c_char_p), ("image_embed", ctypes.POINTER(ctypes.c_float)),
                ("n_image_tokens", ctypes.c_size_t), ("n_image", ctypes.c_size_t),
                ("image_width", ctypes.c_size_t), ("image_height", ctypes.c_size_t)]


class RKLLMInputUnion(ctypes.Union):
    _fields_ = [("prompt_input", ctypes.c_char_p), ("embed_input", RKLLMEmbedInput),
                ("token_input", RKLLMTokenInput), ("multimodal_input", RKLLMMultiModalInput)]


class RKLLMInput(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("enable_thinking", ctypes.c_bool),
                ("input_type", ctypes.c_int), ("input_data", RKLLMInputUnion)]


class RKLLMLoraParam(ctypes.Structure):
    _fields_ = [("lora_adapter_name", ctypes.c_char_p)]


class RKLLMPromptCacheParam(ctypes.Structure):
    _fields_ = [("save_prompt_cache", ctypes.c_int), ("prompt_cache_path", ctypes.c_char_p)]


class RKLLMLoraAdapter(ctypes.Structure):
    _fields_ = [("lora_adapter_path", ctypes.c_char_p), ("lora_adapter_name", ctypes.c_char_p), ("scale", ctypes.c_float)]


class RKLLMInferParam(ctypes.Structure):
    _fields_ = [("mode", ctypes.c_int), ("lora_params", ctypes.POINTER(RKLLMLoraParam)),
                ("prompt_cache_params", ctypes.POINTER(RKLLMPromptCacheParam)), ("keep_history", ctypes.c_int)]


class RKLLMResultLastHiddenLayer(ctypes.Structure):
    _fields_ = [("hidden_states", ctypes.POINTER(ctypes.c_float)), ("embd_size", ctypes.c_int),
                ("num_tokens", ctypes.c_int)]


class RKLLMResultLogits(ctypes.Structure):
    _fields_ = [("logits", ctypes.POINTER(ctypes.c_float)), ("vocab_size", ctypes.c_int), ("num_tokens", ctypes.c_int)]


class RKLLMPerfStat(ctypes.Structure):
    _fields_ = [("prefill_time_ms", ctypes.c_float), ("prefill_tokens", ctypes.c_int),
                ("generate_time_ms", ctypes.c_float), ("generate_tokens", ctypes.c_int),
                ("memory_usage_mb", ctypes.c_float)]


class RKLLMResult(ctypes.Structure):
    _fields_ = [("text", ctypes.c_char_p), ("token_id", ctypes.c_int),
                ("last_hidden_layer", RKLLMResultLastHiddenLayer), ("logits", RKLLMResultLogits),
                ("perf", RKLLMPerfStat)]


CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(RKLLMResult), ctypes.c_void_p, ctypes.c_int)


class Received:
    """What the callback saw, as the servers keep it: NORMAL texts decoded one by one, strictly."""

    def __init__(self):
        self.texts, self.states, self.errors = [], [], []
        self.abort_at = None
        self.model = None

    def callback(self, result, userdata, state):
        self.states.append(state)
        if state == RKLLM_RUN_NORMAL:
            try:
                self.texts.append(result.contents.text.decode("utf-8"))
            except (UnicodeDecodeError, AttributeError) as error:
                self.errors.append(error)
            if self.abort_at is not None and len(self.texts) == self.abort_at:
                self.model.abort()
        elif state == RKLLM_RUN_WAITING and result.contents.text:
            self.errors.append(f"WAITING with text {result.contents.text!r}")
        return 0


class RKLLM:
    """The servers' model class: zeroed parameters, n_keep -1, runs on a thread of the caller's."""

    def __init__(self, library, model_path, received, max_context_len=4096):
        self.lib = library
        self.received = received
        received.model = self
        self.callback = CALLBACK(received.callback)
        param = RKLLMParam()
        param.model_path = model_path.encode("utf-8")
        param.max_context_len = max_context_len
        param.max_new_tokens = 4096
        param.skip_special_token = True
        param.n_keep = -1
        param.top_k = 1
        param.top_p = 0.9
        param.temperature = 0.8
        param.repeat_penalty = 1.1
        param.mirostat_tau = 5.0
        param.mirostat_eta = 0.1
        param.is_async = False
        param.img_start = b""
        param.img_end = b""
        param.img_content = b""
        param.extend_param.base_domain_id = 0
        param.extend_param.embed_flash = 1
        param.extend_param.n_batch = 1
        param.extend_param.enabled_cpus_num = 4
        param.extend_param.enabled_cpus_mask = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7)
        self.handle = ctypes.c_void_p()
        init = library.rkllm_init
        init.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(RKLLMParam), CALLBACK]
        init.restype = ctypes.c_int
        self.status = init(ctypes.byref(self.handle), ctypes.byref(param), self.callback)
        self.run_ = library.rkllm_run
        self.run_.argtypes = [ctypes.c_void_p, ctypes.POINTER(RKLLMInput), ctypes.POINTER(RKLLMInferParam), ctypes.c_void_p]
        self.run_.restype = ctypes.c_int
        self.set_function_tools_ = library.rkllm_set_function_tools
        self.set_function_tools_.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]
        self.set_function_tools_.restype = ctypes.c_int
        self.infer = RKLLMInferParam()
        ctypes.memset(ctypes.byref(self.infer), 0, ctypes.sizeof(RKLLMInferParam))
        self.infer.mode = RKLLM_INFER_GENERATE
        self.infer.keep_history = 0

    def run(self, role, enable_thinking, prompt):
        rkllm_input = RKLLMInput()
        rkllm_input.role = role.encode("utf-8")
        rkllm_input.enable_thinking = ctypes.c_bool(enable_thinking)
        rkllm_input.input_type = RKLLM_INPUT_PROMPT
        rkllm_input.input_data.prompt_input = ctypes.c_char_p(prompt.encode("utf-8"))
        return self.run_(self.handle, ctypes.byref(rkllm_input), ctypes.byref(self.infer), None)

    def abort(self):
        return self.lib.rkllm_abort(self.handle)

    def release(self):
        return self.lib.rkllm_destroy(self.handle)


class VendorServerClientTests(unittest.TestCase):
    def setUp(self):
        self.lib = ctypes.CDLL(os.environ["RKLLM_LIB"])
        self.received = Received()
        self.model = RKLLM(self.lib, os.environ["RKLLM_MODEL"], self.received)
        self.assertEqual(self.model.status, 0, "rkllm_init with the servers' parameters (n_keep -1)")

    def tearDown(self):
        self.assertEqual(self.model.release(), 0)

    def run_on_thread(self, role, thinking, prompt):
        """As the servers: the run on a thread, its texts collected while it goes."""
        worker = threading.Thread(target=self.model.run, args=(role, thinking, prompt))
        worker.start()
        worker.join(timeout=120)
        self.assertFalse(worker.is_alive())
        self.assertEqual(self.received.errors, [], "every NORMAL text decodes on its own; WAITING carries none")
        self.assertEqual(self.received.states[-1], RKLLM_RUN_FINISH)
        return "".join(self.received.texts)

    def test_a_reply_decodes_token_by_token(self):
        self.assertEqual(self.run_on_thread("user", False, "hello world"), DEMO_REPLY)
        self.assertIn(RKLLM_RUN_WAITING, self.received.states, "split characters came as WAITING first")

    def test_thinking_tools_and_a_tool_result(self):
        self.assertTrue(self.run_on_thread("user", True, "hello world").startswith("<think>\n"))
        self.received.__init__()
        self.received.model = self.model
        tools = '[{"type": "function", "function": {"name": "get_weather"}}]'
        self.assertEqual(self.model.set_function_tools_(self.model.handle, b"You are a helpful assistant.", tools.encode(), b"tool_response"), 0)
        self.assertIn("<tool_call>", self.run_on_thread("user", False, "get_weather in Paris"))
        self.received.__init__()
        self.assertTrue(self.run_on_thread("tool", False, '["sunny"]').startswith("Tool result received"))

    def test_abort_stops_the_reply_and_the_run_still_finishes(self):
        self.received.abort_at = 2
        text = self.run_on_thread("user", False, "hello world")
        self.assertEqual(text, "Hello from", "two tokens, then the abort")

    def test_a_lora_adapter_and_a_prompt_cache_as_the_servers_load_them(self):
        lora_path, cache_path = os.environ["RKLLM_LORA"], os.environ["RKLLM_CACHE"]
        # The servers' LoRA: loaded under the name "test" with scale 1.0, named in every run.
        adapter = RKLLMLoraAdapter()
        ctypes.memset(ctypes.byref(adapter), 0, ctypes.sizeof(RKLLMLoraAdapter))
        adapter.lora_adapter_path = ctypes.c_char_p(lora_path.encode("utf-8"))
        adapter.lora_adapter_name = ctypes.c_char_p(b"test")
        adapter.scale = 1.0
        load_lora = self.lib.rkllm_load_lora
        load_lora.argtypes = [ctypes.c_void_p, ctypes.POINTER(RKLLMLoraAdapter)]
        load_lora.restype = ctypes.c_int
        self.assertEqual(load_lora(self.model.handle, ctypes.byref(adapter)), 0)
        lora_params = RKLLMLoraParam()
        lora_params.lora_adapter_name = ctypes.c_char_p(b"test")
        self.model.infer.lora_params = ctypes.pointer(lora_params)
        self.assertEqual(self.run_on_thread("user", False, "hello world"), "[adapter x1.00] " + DEMO_REPLY)
        # A prompt cache saved by one run, then loaded as the servers load one at start-up.
        self.model.infer.lora_params = None
        cache = RKLLMPromptCacheParam(save_prompt_cache=1, prompt_cache_path=cache_path.encode("utf-8"))
        self.model.infer.prompt_cache_params = ctypes.pointer(cache)
        self.received.texts, self.received.states = [], []
        self.assertEqual(self.run_on_thread("user", False, "hello world"), DEMO_REPLY)
        self.assertTrue(os.path.exists(cache_path))
        self.model.infer.prompt_cache_params = None
        load_cache = self.lib.rkllm_load_prompt_cache
        load_cache.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        load_cache.restype = ctypes.c_int
        self.assertEqual(load_cache(self.model.handle, ctypes.c_char_p(cache_path.encode("utf-8"))), 0)
        self.received.texts, self.received.states = [], []
        self.assertEqual(self.run_on_thread("user", False, "hello world"), DEMO_REPLY)

    def test_a_kept_conversation_shifts_its_window(self):
        small = Received()
        self.assertEqual(self.model.release(), 0)
        self.model = RKLLM(self.lib, os.environ["RKLLM_MODEL"], small, max_context_len=96)
        self.received = small
        self.model.infer.keep_history = 1
        for _ in range(6):
            self.received.texts, self.received.states = [], []
            self.assertTrue(self.run_on_thread("user", False, "hello world").startswith("Hello from the demo model"))


if __name__ == "__main__":
    unittest.main()
