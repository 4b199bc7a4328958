"""A ctypes client of librknnrt written the way the vendor's rknpu2 examples call it (init from
the model's bytes, queries, inputs_set, run, outputs_get with want_float, release; a MatMul with
memory from rknn_create_mem), run against the library named by RKNN_LIB with the models in
RKNN_MODELS. Standard library only: `python3 -m unittest` runs it (Tests/Conformance/run.sh)."""

import ctypes
import os
import struct
import unittest

RKNN_MAX_DIMS, RKNN_MAX_NAME_LEN = 16, 256
RKNN_QUERY_IN_OUT_NUM, RKNN_QUERY_INPUT_ATTR, RKNN_QUERY_OUTPUT_ATTR, RKNN_QUERY_PERF_DETAIL = 0, 1, 2, 3
RKNN_QUERY_SDK_VERSION = 5
RKNN_TENSOR_FLOAT32, RKNN_TENSOR_INT8, RKNN_TENSOR_UINT8, RKNN_TENSOR_INT32 = 0, 2, 3, 6
RKNN_TENSOR_NCHW, RKNN_TENSOR_NHWC, RKNN_TENSOR_UNDEFINED = 0, 1, 3
RKNN_INT8_MM_INT8_TO_INT32 = 2


class rknn_input_output_num(ctypes.Structure):
    _fields_ = [("n_input", ctypes.c_uint32), ("n_output", ctypes.c_uint32)]


class rknn_tensor_attr(ctypes.Structure):
    _fields_ = [("index", ctypes.c_uint32), ("n_dims", ctypes.c_uint32), ("dims", ctypes.c_uint32 * RKNN_MAX_DIMS),
                ("name", ctypes.c_char * RKNN_MAX_NAME_LEN), ("n_elems", ctypes.c_uint32), ("size", ctypes.c_uint32),
                ("fmt", ctypes.c_int), ("type", ctypes.c_int), ("qnt_type", ctypes.c_int), ("fl", ctypes.c_int8),
                ("zp", ctypes.c_int32), ("scale", ctypes.c_float), ("w_stride", ctypes.c_uint32),
                ("size_with_stride", ctypes.c_uint32), ("pass_through", ctypes.c_uint8), ("h_stride", ctypes.c_uint32)]


class rknn_sdk_version(ctypes.Structure):
    _fields_ = [("api_version", ctypes.c_char * 256), ("drv_version", ctypes.c_char * 256)]


class rknn_perf_detail(ctypes.Structure):
    _fields_ = [("perf_data", ctypes.c_char_p), ("data_len", ctypes.c_uint64)]


class rknn_input(ctypes.Structure):
    _fields_ = [("index", ctypes.c_uint32), ("buf", ctypes.c_void_p), ("size", ctypes.c_uint32),
                ("pass_through", ctypes.c_uint8), ("type", ctypes.c_int), ("fmt", ctypes.c_int)]


class rknn_output(ctypes.Structure):
    _fields_ = [("want_float", ctypes.c_uint8), ("is_prealloc", ctypes.c_uint8), ("index", ctypes.c_uint32),
                ("buf", ctypes.c_void_p), ("size", ctypes.c_uint32)]


class rknn_tensor_mem(ctypes.Structure):
    _fields_ = [("virt_addr", ctypes.c_void_p), ("phys_addr", ctypes.c_uint64), ("fd", ctypes.c_int32),
                ("offset", ctypes.c_int32), ("size", ctypes.c_uint32), ("flags", ctypes.c_uint32),
                ("priv_data", ctypes.c_void_p)]


class rknn_matmul_tensor_attr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char * RKNN_MAX_NAME_LEN), ("n_dims", ctypes.c_uint32),
                ("dims", ctypes.c_uint32 * RKNN_MAX_DIMS), ("size", ctypes.c_uint32), ("type", ctypes.c_int)]


class rknn_matmul_io_attr(ctypes.Structure):
    _fields_ = [("A", rknn_matmul_tensor_attr), ("B", rknn_matmul_tensor_attr), ("C", rknn_matmul_tensor_attr)]


class rknn_matmul_info(ctypes.Structure):
    _fields_ = [("M", ctypes.c_int32), ("K", ctypes.c_int32), ("N", ctypes.c_int32), ("type", ctypes.c_int),
                ("B_layout", ctypes.c_int16), ("B_quant_type", ctypes.c_int16), ("AC_layout", ctypes.c_int16),
                ("AC_quant_type", ctypes.c_int16), ("iommu_domain_id", ctypes.c_int32), ("group_size", ctypes.c_int16),
                ("reserved", ctypes.c_int8 * 34)]


def load():
    lib = ctypes.CDLL(os.environ["RKNN_LIB"])
    lib.rknn_init.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_void_p]
    for name in ("rknn_query",):
        getattr(lib, name).argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
    lib.rknn_inputs_set.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.POINTER(rknn_input)]
    lib.rknn_run.argtypes = [ctypes.c_uint64, ctypes.c_void_p]
    lib.rknn_outputs_get.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.POINTER(rknn_output), ctypes.c_void_p]
    lib.rknn_outputs_release.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.POINTER(rknn_output)]
    lib.rknn_destroy.argtypes = [ctypes.c_uint64]
    lib.rknn_matmul_create.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(rknn_matmul_info), ctypes.POINTER(rknn_matmul_io_attr)]
    lib.rknn_create_mem.argtypes = [ctypes.c_uint64, ctypes.c_uint32]
    lib.rknn_create_mem.restype = ctypes.POINTER(rknn_tensor_mem)
    lib.rknn_matmul_set_io_mem.argtypes = [ctypes.c_uint64, ctypes.POINTER(rknn_tensor_mem), ctypes.POINTER(rknn_matmul_tensor_attr)]
    lib.rknn_matmul_run.argtypes = [ctypes.c_uint64]
    lib.rknn_destroy_mem.argtypes = [ctypes.c_uint64, ctypes.POINTER(rknn_tensor_mem)]
    lib.rknn_matmul_destroy.argtypes = [ctypes.c_uint64]
    return lib


class VendorStyleClientTests(unittest.TestCase):
    def setUp(self):
        self.lib = load()
        self.models = os.environ["RKNN_MODELS"]

    def init(self, name):
        with open(os.path.join(self.models, name), "rb") as file:
            model = file.read()
        ctx = ctypes.c_uint64()
        self.assertEqual(self.lib.rknn_init(ctypes.byref(ctx), model, len(model), 0, None), 0)
        return ctx.value

    def test_the_float_model_as_the_examples_run_it(self):
        ctx = self.init("demo-float.rknn")
        version = rknn_sdk_version()
        self.assertEqual(self.lib.rknn_query(ctx, RKNN_QUERY_SDK_VERSION, ctypes.byref(version), ctypes.sizeof(version)), 0)
        io = rknn_input_output_num()
        self.assertEqual(self.lib.rknn_query(ctx, RKNN_QUERY_IN_OUT_NUM, ctypes.byref(io), ctypes.sizeof(io)), 0)
        self.assertEqual((io.n_input, io.n_output), (1, 1))
        attr = rknn_tensor_attr(index=0)
        self.assertEqual(self.lib.rknn_query(ctx, RKNN_QUERY_INPUT_ATTR, ctypes.byref(attr), ctypes.sizeof(attr)), 0)
        self.assertEqual(attr.n_elems, 8)
        values = [0.5 * i - 1 for i in range(8)]
        data = (ctypes.c_float * 8)(*values)
        inputs = (rknn_input * 1)(rknn_input(index=0, buf=ctypes.cast(data, ctypes.c_void_p), size=32,
                                             pass_through=0, type=RKNN_TENSOR_FLOAT32, fmt=RKNN_TENSOR_UNDEFINED))
        self.assertEqual(self.lib.rknn_inputs_set(ctx, 1, inputs), 0)
        self.assertEqual(self.lib.rknn_run(ctx, None), 0)
        detail = rknn_perf_detail()
        self.assertEqual(self.lib.rknn_query(ctx, RKNN_QUERY_PERF_DETAIL, ctypes.byref(detail), ctypes.sizeof(detail)), 0,
                         "PERF_DETAIL without COLLECT_PERF: an empty success")
        self.assertIsNotNone(detail.perf_data)
        outputs = (rknn_output * 1)(rknn_output(want_float=1, is_prealloc=0, index=0))
        self.assertEqual(self.lib.rknn_outputs_get(ctx, 1, outputs, None), 0)
        got = struct.unpack("8f", ctypes.string_at(outputs[0].buf, outputs[0].size))
        self.assertEqual(list(got), [2 * v + 1 for v in values])
        self.assertEqual(self.lib.rknn_outputs_release(ctx, 1, outputs), 0)
        self.assertEqual(self.lib.rknn_destroy(ctx), 0)

    def test_a_matmul_in_memory_of_the_runtime(self):
        M, K, N = 4, 64, 32
        info = rknn_matmul_info(M=M, K=K, N=N, type=RKNN_INT8_MM_INT8_TO_INT32)
        io = rknn_matmul_io_attr()
        ctx = ctypes.c_uint64()
        self.assertEqual(self.lib.rknn_matmul_create(ctypes.byref(ctx), ctypes.byref(info), ctypes.byref(io)), 0)
        a = [((i * 7) % 23) - 11 for i in range(M * K)]
        b = [((i * 5) % 19) - 9 for i in range(K * N)]
        mems = {}
        for name, values in (("A", a), ("B", b), ("C", None)):
            attr = getattr(io, name)
            mem = self.lib.rknn_create_mem(ctx.value, attr.size)
            self.assertTrue(mem)
            if values is not None:
                ctypes.memmove(mem.contents.virt_addr, struct.pack(f"{len(values)}b", *values), len(values))
            self.assertEqual(self.lib.rknn_matmul_set_io_mem(ctx.value, mem, ctypes.byref(attr)), 0)
            mems[name] = mem
        self.assertEqual(self.lib.rknn_matmul_run(ctx.value), 0)
        got = struct.unpack(f"{M * N}i", ctypes.string_at(mems["C"].contents.virt_addr, M * N * 4))
        want = [sum(a[i * K + k] * b[k * N + n] for k in range(K)) for i in range(M) for n in range(N)]
        self.assertEqual(list(got), want)
        for mem in mems.values():
            self.assertEqual(self.lib.rknn_destroy_mem(ctx.value, mem), 0)
        self.assertEqual(self.lib.rknn_matmul_destroy(ctx.value), 0)


if __name__ == "__main__":
    unittest.main()
