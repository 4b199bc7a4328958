"""An RKNN model on rkllm-server with the names rknn-toolkit-lite2's users know: `RKNNLite`,
`load_rknn`, `init_runtime(core_mask=...)`, `inference(inputs=[...])`, `release`. Inputs are numpy
arrays (when numpy is installed), bytes or memoryviews; outputs are float32 numpy arrays in the
model's output shapes, or flat `array('f')` without numpy."""

import array
import base64
import sys

from .client import Client, RPCError

try:
    import numpy
except ImportError:  # bytes and memoryviews still work
    numpy = None

_TENSOR_TYPES = {
    "float32": "RKNN_TENSOR_FLOAT32", "float16": "RKNN_TENSOR_FLOAT16", "int8": "RKNN_TENSOR_INT8",
    "uint8": "RKNN_TENSOR_UINT8", "int16": "RKNN_TENSOR_INT16", "uint16": "RKNN_TENSOR_UINT16",
    "int32": "RKNN_TENSOR_INT32", "uint32": "RKNN_TENSOR_UINT32", "int64": "RKNN_TENSOR_INT64",
    "bool": "RKNN_TENSOR_BOOL",
}
_FORMATS = {"nchw": "RKNN_TENSOR_NCHW", "nhwc": "RKNN_TENSOR_NHWC"}


class RKNNLite:
    NPU_CORE_AUTO = 0
    NPU_CORE_0 = 1
    NPU_CORE_1 = 2
    NPU_CORE_2 = 4
    NPU_CORE_0_1 = 3
    NPU_CORE_0_1_2 = 7
    NPU_CORE_ALL = 0xFFFF

    def __init__(self, verbose=False, client=None):
        self.verbose = verbose
        self.client = client
        self._owns_client = client is None
        self.path = None
        self.context = None
        self.output_shapes = []

    def load_rknn(self, path):
        """Names the model (a path, or a name in the daemon's model directories); 0."""
        self.path = path
        return 0

    def init_runtime(self, core_mask=NPU_CORE_AUTO):
        """Loads the model on the daemon's NPU; 0, or -1 with the reason printed."""
        try:
            if self.client is None:
                self.client = Client()
            params = {"model_path": self.path}
            if core_mask != self.NPU_CORE_AUTO:
                params["core_mask"] = core_mask
            self.context = self.client.call("rknn.init", **params)["context"]
            count = self.client.call("rknn.query", self.context, "RKNN_QUERY_IN_OUT_NUM")["info"]["n_output"]
            self.output_shapes = []
            for index in range(count):
                attr = self.client.call("rknn.query", self.context, "RKNN_QUERY_OUTPUT_ATTR", {"index": index})["info"]
                self.output_shapes.append(tuple(attr["dims"][: attr["n_dims"]]))
            return 0
        except (OSError, RPCError) as error:
            print(f"E init_runtime: {error}", file=sys.stderr)
            return -1

    def inference(self, inputs, data_type=None, data_format=None):
        """Runs the model on `inputs` (one per model input); its outputs as float32."""
        formats = data_format if isinstance(data_format, (list, tuple)) else [data_format] * len(inputs)
        tensors = []
        for index, (value, layout) in enumerate(zip(inputs, formats)):
            raw, kind = self._bytes(value, data_type)
            tensors.append({
                "index": index, "buf": base64.b64encode(raw).decode(), "type": _TENSOR_TYPES[kind],
                "fmt": _FORMATS[(layout or "nhwc").lower()],
            })
        self.client.call("rknn.inputs_set", self.context, tensors)
        self.client.call("rknn.run", self.context)
        outputs = self.client.call(
            "rknn.outputs_get", self.context, [{"want_float": 1} for _ in self.output_shapes])["outputs"]
        results = []
        for output, shape in zip(outputs, self.output_shapes):
            raw = base64.b64decode(output["buf"])
            if numpy is not None:
                results.append(numpy.frombuffer(raw, dtype=numpy.float32).reshape(shape))
            else:
                results.append(array.array("f", raw))
        return results

    def release(self):
        """Destroys the model's context and closes the connection."""
        if self.context is not None:
            self.client.call("rknn.destroy", self.context)
            self.context = None
        if self._owns_client and self.client is not None:
            self.client.close()
            self.client = None

    @staticmethod
    def _bytes(value, data_type):
        if numpy is not None and isinstance(value, numpy.ndarray):
            return numpy.ascontiguousarray(value).tobytes(), str(value.dtype)
        return bytes(memoryview(value)), data_type or "uint8"
