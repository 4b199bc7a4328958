import BindingRuntime
import CLinux
import Foundation
import XCTest

/// rknn.* end to end over the simulated runtime (librknnrt_sim.so) and the demo models:
/// tensors as base64, tensors in shared memory with no copy, queries, errors, ownership.
final class RKNNTests: XCTestCase {
    static func simulated(_ extra: [String: String] = [:]) throws -> Daemon {
        var environment = ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")]
        environment.merge(extra) { $1 }
        return try Daemon(environment: environment)
    }

    /// The detector's test frame: pixel (y, x, c) = (x + 2y + 3c) mod 256, NHWC.
    static let frame: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 640 * 640 * 3)
        for y in 0..<640 {
            for x in 0..<640 { for c in 0..<3 { bytes[(y * 640 + x) * 3 + c] = UInt8((x + 2 * y + 3 * c) % 256) } }
        }
        return bytes
    }()

    /// What the detector's pooled output of `stride` holds (docs/SIMULATED_RUNTIMES.md), int8.
    static func expected(stride: Int) -> [Int8] {
        let side = 640 / stride
        var out = [Int8](repeating: 0, count: 16 * side * side)
        for c in 0..<16 {
            for y in 0..<side {
                for x in 0..<side {
                    var sum: Float = 0
                    for dy in 0..<stride {
                        for dx in 0..<stride {
                            sum += Float(frame[((y * stride + dy) * 640 + x * stride + dx) * 3 + c % 3])
                        }
                    }
                    let value = sum / Float(stride * stride) * (Float(1) / Float(255)) + Float(c) * Float(0.01)
                    let q = (value / Float(0.0078125) + Float(-128)).rounded()
                    out[(c * side + y) * side + x] = Int8(max(-128, min(127, q)))
                }
            }
        }
        return out
    }

    func testTheFloatModelThroughBase64InBothParameterForms() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(
            try client.call("rknn.init", ["model": ["path": "demo-float.rknn"], "flag": 8])["context"])
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_IN_OUT_NUM"])["info"], ["n_input": 1, "n_output": 1])
        let input = try client.call(
            "rknn.query", ["context": context, "cmd": "RKNN_QUERY_INPUT_ATTR", "info": ["index": 0]])["info"]
        XCTAssertEqual(input?["name"], "x")
        XCTAssertEqual(input?["size"], 32)
        let values: [Float] = [0, 1, 2, 3, -1, 0.5, 10, 100]
        let data = values.withUnsafeBytes { Data($0).base64EncodedString() }
        _ = try client.call(
            "rknn.inputs_set", [context, [["index": 0, "buf": .string(data), "type": "RKNN_TENSOR_FLOAT32"]]])
        _ = try client.call("rknn.run", ["context": context])
        let outputs = try client.call("rknn.outputs_get", [context, [["index": 0, "want_float": 1]]])["outputs"]
        let y = try floats(outputs?[0]?["buf"])
        XCTAssertEqual(y, values.map { 2 * $0 + 1 }, "y = 2x + 1")
        // The same input as int16 is converted by the runtime.
        let ints: [Int16] = [0, 1, 2, 3, -1, 0, 10, 100]
        _ = try client.call(
            "rknn.inputs_set",
            [
                "context": context,
                "inputs": [
                    [
                        "index": 0, "type": "RKNN_TENSOR_INT16",
                        "buf": .string(ints.withUnsafeBytes { Data($0).base64EncodedString() }),
                    ]
                ],
            ])
        _ = try client.call("rknn.run", [context])
        XCTAssertEqual(
            try floats(
                try client.call("rknn.outputs_get", [context, [["index": 0, "want_float": 1]]])["outputs"]?[0]?["buf"]),
            ints.map { 2 * Float($0) + 1 })
        XCTAssertNotNil(try client.call("rknn.query", [context, "RKNN_QUERY_PERF_RUN"])["info"]?["run_duration"])
        let detail = try client.call("rknn.query", [context, "RKNN_QUERY_PERF_DETAIL"])["info"]
        guard case .string(let text)? = detail?["perf_data"] else { return XCTFail("\(String(describing: detail))") }
        XCTAssertTrue(text.hasPrefix("model demo-float: 1 outputs"), text)
        XCTAssertEqual(detail?["data_len"], .int(Int64(text.utf8.count)))
        XCTAssertEqual(try client.call("rknn.destroy", [context]), .object([:]))
        daemon.assertStopsCleanly()
    }

    func testTheDetectorThroughBase64AndQueries() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
        let output = try client.call("rknn.query", [context, "RKNN_QUERY_OUTPUT_ATTR", ["index": 2]])["info"]
        XCTAssertEqual(output?["dims"]?[1], 16)
        XCTAssertEqual(output?["qnt_type"], "RKNN_TENSOR_QNT_AFFINE_ASYMMETRIC")
        XCTAssertEqual(output?["zp"], -128)
        let native = try client.call("rknn.query", [context, "RKNN_QUERY_NATIVE_OUTPUT_ATTR", ["index": 2]])["info"]
        XCTAssertEqual(native?["fmt"], "RKNN_TENSOR_NC1HWC2")
        XCTAssertEqual(native?["n_dims"], 5)
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_NATIVE_NHWC_OUTPUT_ATTR", ["index": 2]])["info"]?[
                "fmt"], "RKNN_TENSOR_NHWC")
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_CUSTOM_STRING"])["info"]?["string"],
            "simulated detector: 3 int8 maps pooled at strides 8, 16, 32")
        let version = try client.call("rknn.query", [context, "RKNN_QUERY_SDK_VERSION"])["info"]
        XCTAssertEqual(version?["api_version"], "2.3.2 (simulated)")
        XCTAssertNotNil(try client.call("rknn.query", [context, "RKNN_QUERY_MEM_SIZE"])["info"]?["total_weight_size"])
        let range = try client.call("rknn.query", [context, "RKNN_QUERY_INPUT_DYNAMIC_RANGE", ["index": 0]])["info"]
        XCTAssertEqual(range?["shape_number"], 2)

        // The frame as NHWC uint8 (the model's own layout), and as NCHW (converted by the runtime).
        let frame = Data(Self.frame).base64EncodedString()
        _ = try client.call(
            "rknn.inputs_set",
            [context, [["index": 0, "buf": .string(frame), "type": "RKNN_TENSOR_UINT8", "fmt": "RKNN_TENSOR_NHWC"]]])
        _ = try client.call("rknn.run", [context])
        // An output whose entry leaves its index out is the one of its position.
        let got = try client.call("rknn.outputs_get", [context, [[:], [:], ["index": 2]]])["outputs"]
        for (index, stride) in [8, 16, 32].enumerated() {
            XCTAssertEqual(try int8s(got?[index]?["buf"]), Self.expected(stride: stride), "stride \(stride)")
            XCTAssertEqual(got?[index]?["index"], .int(Int64(index)))
        }
        var planar = [UInt8](repeating: 0, count: Self.frame.count)
        for i in 0..<(640 * 640) { for c in 0..<3 { planar[c * 640 * 640 + i] = Self.frame[i * 3 + c] } }
        _ = try client.call(
            "rknn.inputs_set",
            [
                context,
                [
                    [
                        "index": 0, "buf": .string(Data(planar).base64EncodedString()),
                        "type": "RKNN_TENSOR_UINT8", "fmt": "RKNN_TENSOR_NCHW",
                    ]
                ],
            ])
        _ = try client.call("rknn.run", [context])
        XCTAssertEqual(
            try int8s(try client.call("rknn.outputs_get", [context, [["index": 2]]])["outputs"]?[0]?["buf"]),
            Self.expected(stride: 32))
        // want_float: the dequantised values.
        let floats = try self.floats(
            try client.call("rknn.outputs_get", [context, [["index": 2, "want_float": 1]]])["outputs"]?[0]?["buf"])
        XCTAssertEqual(floats, Self.expected(stride: 32).map { (Float($0) + 128) * 0.0078125 })
        daemon.assertStopsCleanly()
    }

    /// A large request goes to the runtime host as the client wrote it, only its handle rewritten
    /// in place: spaces the client put in its params reach the host (the daemon's traffic to the
    /// host grows by them), and the frame in it is the frame the runtime gets.
    func testALargeRequestsParamsGoToTheHostAsTheyCame() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
        func bytesToHosts() throws -> Int64 {
            guard case .int(let bytes)? = try client.call("server.stats")["runtimes"]?["rknn"]?["bytes_to_hosts"]
            else { throw POSIXError(.EBADMSG) }
            return bytes
        }
        let frame = Data(Self.frame).base64EncodedString()
        func inputsSet(spaces: Int) throws -> Int64 {
            let before = try bytesToHosts()
            let padding = String(repeating: " ", count: spaces)
            try client.send(
                #"{"jsonrpc":"2.0","id":"frame","method":"rknn.inputs_set","params":[\#(context.jsonText),\#(padding)"#
                    + #"[{"index":0,"buf":"\#(frame)","type":"RKNN_TENSOR_UINT8","fmt":"RKNN_TENSOR_NHWC"}]]}"# + "\n")
            XCTAssertEqual(try client.readMessage()["result"], .object([:]))
            return try bytesToHosts() - before
        }
        let compact = try inputsSet(spaces: 0)
        let padded = try inputsSet(spaces: 1000)
        XCTAssert(
            (998...1002).contains(padded - compact), "the host got \(padded - compact) bytes more, not the spaces")
        _ = try client.call("rknn.run", [context])
        let got = try client.call("rknn.outputs_get", [context, [[:], [:], [:]]])["outputs"]
        for (index, stride) in [8, 16, 32].enumerated() {
            XCTAssertEqual(try int8s(got?[index]?["buf"]), Self.expected(stride: stride), "stride \(stride)")
        }
        daemon.assertStopsCleanly()
    }

    func testContextsRunInParallelUpToTheNPUCoresAndOneContextRunsOneAtATime() throws {
        // Runs of 1 s: three at once end in well under 2 s, a fourth or a second on one context after 2 s.
        let daemon = try Self.simulated(["RKNN_SIM_RUN_MS": "1000", "RKNN_NPU_CORES": "3"])
        let clients = try (0..<4).map { _ in try Client(daemon.socket) }
        let input: JSONValue = [
            ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
        ]
        let contexts = try clients.map { client in
            let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
            _ = try client.call("rknn.inputs_set", [context, input])
            return context
        }
        func timeRuns(_ runs: [(Client, JSONValue)]) throws -> Double {
            let started = Date()
            for (i, (client, context)) in runs.enumerated() { try client.start(.int(Int64(i)), "rknn.run", [context]) }
            for (client, _) in runs { XCTAssertEqual(try client.readMessage()["result"], .object([:])) }
            return Date().timeIntervalSince(started)
        }
        let three = try timeRuns(Array(zip(clients, contexts).prefix(3)))
        XCTAssertLessThan(three, 1.9, "three contexts at once on three cores")
        let four = try timeRuns(Array(zip(clients, contexts)))
        XCTAssertGreaterThanOrEqual(four, 2, "a fourth waits for a core")
        // Two runs on one context: one after the other.
        let started = Date()
        try clients[0].start(1, "rknn.run", [contexts[0]])
        try clients[0].start(2, "rknn.run", [contexts[0]])
        _ = try clients[0].readMessage()
        _ = try clients[0].readMessage()
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 2, "one context runs one at a time")
        daemon.assertStopsCleanly()
    }

    func testShapesContextsCoresAndMemoryOutside() throws {
        let daemon = try Self.simulated(["RKNN_SIM_CHIP": "RK3576"])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
        // Dynamic shapes: the smaller frame, then attributes and outputs follow it.
        var shape = try XCTUnwrap(
            try client.call("rknn.query", [context, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"])
        guard case .object(var attr) = shape else { return XCTFail() }
        attr["dims"] = [1, 320, 320, 3]
        shape = .object(attr)
        XCTAssertEqual(try client.call("rknn.set_input_shapes", [context, [shape]]), .object([:]))
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_CURRENT_INPUT_ATTR", ["index": 0]])["info"]?["dims"]?[
                1], 320)
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_CURRENT_OUTPUT_ATTR", ["index": 2]])["info"]?["dims"]?[
                2], 10)
        XCTAssertEqual(
            try client.call("rknn.query", [context, "RKNN_QUERY_OUTPUT_ATTR", ["index": 2]])["info"]?["dims"]?[2], 20,
            "the model's own shape")
        attr["dims"] = [1, 500, 500, 3]
        XCTAssertEqual(
            try client.request("rknn.set_input_shape", [context, .object(attr)])["error"]?["data"]?["code"], -5,
            "not one of the model's shapes")
        // A second context sharing the weights runs on its own.
        let twin = try XCTUnwrap(try client.call("rknn.dup_context", [context])["context_out"])
        XCTAssertNotEqual(twin, context)
        XCTAssertEqual(
            try client.call("rknn.query", [twin, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"]?["dims"]?[1], 640,
            "the twin has the model's shape")
        // Core masks of an RK3576 (two cores) and batches across them.
        XCTAssertEqual(try client.call("rknn.set_core_mask", [context, "RKNN_NPU_CORE_0_1"]), .object([:]))
        // A runtime failure is named by the header's constant and said in a sentence.
        let refused = try XCTUnwrap(try client.request("rknn.set_core_mask", [context, "RKNN_NPU_CORE_2"])["error"])
        XCTAssertEqual(refused["data"]?["code"], -5)
        XCTAssertEqual(refused["data"]?["name"], "RKNN_ERR_PARAM_INVALID")
        XCTAssertEqual(refused["data"]?["meaning"], "a parameter is invalid (an index, a size, a flag)")
        XCTAssertEqual(
            refused["message"],
            "rknn_set_core_mask returned -5 (RKNN_ERR_PARAM_INVALID: a parameter is invalid (an index, a size, a flag))"
        )
        XCTAssertEqual(try client.call("rknn.set_batch_core_num", [context, 2]), .object([:]))
        XCTAssertEqual(try client.request("rknn.set_batch_core_num", [context, 3])["error"]?["data"]?["code"], -5)
        XCTAssertTrue(
            try client.call("rknn.query", [context, "RKNN_QUERY_SDK_VERSION"])["info"]?["drv_version"]
                == "0.9.8 (simulated 2-core NPU)")
        // A single-core chip has no core mask, and its MatMul aligns N to 16 for int8.
        let small = try Self.simulated(["RKNN_SIM_CHIP": "RK3562"])
        let smallClient = try Client(small.socket)
        let smallContext = try XCTUnwrap(
            try smallClient.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        XCTAssertEqual(
            try smallClient.request("rknn.set_core_mask", [smallContext, "RKNN_NPU_CORE_0"])["error"]?["data"]?["code"],
            -3)
        XCTAssertNotNil(
            try smallClient.call(
                "rknn.matmul_create", [["M": 1, "K": 32, "N": 16, "type": "RKNN_INT8_MM_INT8_TO_INT32"]])["ctx"])
        small.assertStopsCleanly()
        // Weights in memory of the caller's: the context runs only once they are set.
        let outside = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0x10])["context"])
        _ = try client.call(
            "rknn.inputs_set",
            [
                outside,
                [["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]],
            ])
        XCTAssertEqual(try client.request("rknn.run", [outside])["error"]?["data"]?["code"], -1, "no weight memory yet")
        let sizes = try client.call("rknn.query", [outside, "RKNN_QUERY_MEM_SIZE"])["info"]
        let weights = try client.call("rknn.create_mem", [outside, sizes!["total_weight_size"]!])
        client.receivedFDs.forEach { Glibc.close($0) }
        client.receivedFDs = []
        XCTAssertEqual(try client.call("rknn.set_weight_mem", [outside, weights["return"]!]), .object([:]))
        XCTAssertEqual(
            try client.call("rknn.mem_sync", [outside, weights["return"]!, "RKNN_MEMORY_SYNC_TO_DEVICE"]), .object([:]))
        XCTAssertEqual(
            try client.request("rknn.run", [outside])["error"]?["data"]?["code"], -1,
            "MEM_ALLOC_OUTSIDE: internal memory too")
        let scratch = try client.call("rknn.create_mem", [outside, sizes!["total_internal_size"]!])
        client.receivedFDs.forEach { Glibc.close($0) }
        client.receivedFDs = []
        XCTAssertEqual(try client.call("rknn.set_internal_mem", [outside, scratch["return"]!]), .object([:]))
        XCTAssertEqual(try client.call("rknn.run", [outside]), .object([:]))
        // outputs_release of the copies a client got: nothing of the runtime's to free any more.
        let outputs = try client.call("rknn.outputs_get", [outside, [["index": 0]]])["outputs"]
        XCTAssertEqual(try client.call("rknn.outputs_release", [outside, outputs!]), .object([:]))
        daemon.assertStopsCleanly()
    }

    func testInjectedFaultsAndDescriptorsReleasedWhenAClientGoes() throws {
        let daemon = try Self.simulated(["RKNN_SIM_CRASH_AT_RUN": "2"])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        _ = try client.call(
            "rknn.inputs_set",
            [
                context,
                [["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]],
            ])
        XCTAssertEqual(try client.call("rknn.run", [context]), .object([:]))
        let crash = try client.request("rknn.run", [context])
        XCTAssertEqual(crash["error"]?["data"]?["signal"], "SIGSEGV", "the second run crashes its host")
        XCTAssertEqual(
            try client.errorCode("rknn.query", [context, "RKNN_QUERY_IN_OUT_NUM"]), RPCError.Code.runtimeCrashed)
        daemon.assertStopsCleanly()

        // Descriptors: the daemon keeps none; the client's runtime host keeps the ones its memory
        // holds, and goes with the client.
        let clean = try Self.simulated()
        let owner = try Client(clean.socket)
        let ctx = try XCTUnwrap(try owner.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let daemonFDs = try openFDs(clean.process.processIdentifier)
        let host = try XCTUnwrap(hostPID(of: clean))
        let hostFDs = try openFDs(host)
        for _ in 0..<5 {
            _ = try owner.call("rknn.create_mem", [ctx, 4096])
            let memory = clinux_sealable_memfd("frame")
            ftruncate(memory, 4096)
            let request: JSONValue = [
                "jsonrpc": "2.0", "id": 1, "method": "rknn.create_mem_from_fd",
                "params": ["ctx": ctx, "fd": 0, "size": 4096, "offset": 0],
            ]
            try owner.send(request.jsonText + "\n", fds: [memory])
            Glibc.close(memory)
            XCTAssertNotNil(try owner.readMessage()["result"])
        }
        owner.receivedFDs.forEach { Glibc.close($0) }
        // (A descriptor sent with an answer is closed just after the send: the count settles.)
        XCTAssertEqual(
            try settled(clean.process.processIdentifier, at: daemonFDs), daemonFDs,
            "the daemon passed every descriptor on")
        XCTAssertEqual(try openFDs(host), hostFDs + 10, "five memfds of the runtime, five of the client's")
        owner.hangUp()
        let deadline = Date().addingTimeInterval(60)
        while kill(host, 0) == 0 && Date() < deadline { usleep(20_000) }
        XCTAssertNotEqual(kill(host, 0), 0, "the client's host ended with it, and its descriptors")
        clean.assertStopsCleanly()
    }

    private func hostPID(of daemon: Daemon) throws -> Int32? {
        try runtimeHostPIDs(with: ["rknn", String(daemon.process.processIdentifier)]).first
    }

    func testCustomOperatorsComeFromServerSidePluginsTheClientNames() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-custom.rknn"], 0])["context"])
        let values: [Float] = [-2, -1, -0.5, 0, 0.25, 0.5, 1, 3]
        _ = try client.call(
            "rknn.inputs_set",
            [
                context,
                [
                    [
                        "index": 0, "buf": .string(values.withUnsafeBytes { Data($0).base64EncodedString() }),
                        "type": "RKNN_TENSOR_FLOAT32",
                    ]
                ],
            ])
        XCTAssertEqual(
            try client.request("rknn.run", [context])["error"]?["data"]?["code"], -1,
            "no operator registered for the model's cstSigmoid")
        XCTAssertEqual(
            try client.request("rknn.register_custom_ops", [context, [["op_type": "nope"]]])["error"]?["code"], -32602,
            "no such plugin")
        XCTAssertEqual(
            try client.request("rknn.register_custom_ops", [context, [["op_type": "../x"]]])["error"]?["code"], -32602,
            "a name, not a path")
        XCTAssertEqual(
            try client.call("rknn.register_custom_ops", ["ctx": context, "op": [["op_type": "cstSigmoid"]]]),
            .object([:]))
        _ = try client.call("rknn.run", [context])
        let y = try floats(try client.call("rknn.outputs_get", [context, [["index": 0]]])["outputs"]?[0]?["buf"])
        XCTAssertEqual(y, values.map { 1 / (1 + expf(-2 * $0)) }, "the plugin's sigmoid with the model's alpha (2)")
        // Outside a callback there is no operator context: the attribute is empty, nothing breaks.
        let attr = try client.call("rknn.custom_op_get_op_attr", [["internal_ctx": 12345], "alpha"])
        XCTAssertEqual(attr["op_attr"]?["n_elems"], 0)
        daemon.assertStopsCleanly()
    }

    /// Calls `method` with `positional` params and again with them named (names from rpc.discover);
    /// both must answer as `expect`s: "ok", or an error code. Returns both answers.
    @discardableResult
    private func bothForms(
        _ client: Client, _ method: String, _ positional: [JSONValue], then second: [JSONValue]? = nil,
        fds: () -> [Int32] = { [] }, expect: JSONValue = "ok",
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> (JSONValue, JSONValue) {
        let names = try paramNames(client, method)
        let values = second ?? positional  // the named call's values (another object, for a destroying call)
        let named = JSONValue.object(
            JSONObject(uniqueKeysLastWins: zip(names, values).filter { $0.1 != .null }.map { ($0.0, $0.1) }))
        var answers: [JSONValue] = []
        for params in [JSONValue.array(positional), named] {
            let request: JSONValue = ["jsonrpc": "2.0", "id": 77, "method": .string(method), "params": params]
            let descriptors = fds()
            try client.send(request.jsonText + "\n", fds: descriptors)
            descriptors.forEach { Glibc.close($0) }
            answers.append(try client.readMessage())
        }
        let outcome = { (answer: JSONValue) -> JSONValue in answer["error"]?["code"] ?? "ok" }
        for answer in answers {
            XCTAssertEqual(outcome(answer), expect, "\(method): \(answer.jsonText)", file: file, line: line)
        }
        return (answers[0], answers[1])
    }

    private var discovered: JSONValue?
    private func paramNames(_ client: Client, _ method: String) throws -> [String] {
        if discovered == nil { discovered = try client.call("rpc.discover") }
        guard case .array(let methods)? = discovered?["methods"],
            let entry = methods.first(where: { $0["name"] == .string(method) }),
            case .array(let params)? = entry["params"]
        else {
            throw Failure("\(method) is not in rpc.discover")
        }
        return params.compactMap { if case .string(let name)? = $0["name"] { return name } else { return nil } }
    }

    func testEveryMethodInBothParameterForms() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        func memfd() -> [Int32] {
            let fd = clinux_sealable_memfd("m")
            ftruncate(fd, 4096)
            return [fd]
        }
        func ok(_ answer: JSONValue) -> JSONValue { answer["result"] ?? .null }
        XCTAssertEqual(ok(try bothForms(client, "rknn.get_constants", []).0)["RKNN_TENSOR_INT8"], 2)
        let (c1, c2) = try bothForms(client, "rknn.init", [["path": "demo-float.rknn"], 0])
        let ctx = ok(c1)["context"]!
        let spare = ok(c2)["context"]!
        let twin = try bothForms(client, "rknn.dup_context", [ctx])
        try bothForms(client, "rknn.query", [ctx, "RKNN_QUERY_IN_OUT_NUM", nil])
        let input: JSONValue = [
            ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
        ]
        try bothForms(client, "rknn.inputs_set", [ctx, input])
        try bothForms(client, "rknn.set_batch_core_num", [ctx, 1])
        try bothForms(client, "rknn.set_core_mask", [ctx, "RKNN_NPU_CORE_AUTO"])
        try bothForms(client, "rknn.run", [ctx, nil])
        try bothForms(client, "rknn.wait", [ctx, nil], expect: .int(Int64(RPCError.Code.runtimeError)))
        let outputs = ok(try bothForms(client, "rknn.outputs_get", [ctx, [["index": 0, "want_float": 1]]]).0)[
            "outputs"]!
        try bothForms(client, "rknn.outputs_release", [ctx, outputs])
        try bothForms(
            client, "rknn.create_mem_from_phys", [ctx, 0x4000_0000, 4096],
            expect: .int(Int64(getuid() == 0 ? RPCError.Code.runtimeError : RPCError.Code.notPermitted)))
        let fromFD = try bothForms(client, "rknn.create_mem_from_fd", [ctx, 0, 4096, 0], fds: memfd)
        try bothForms(client, "rknn.create_mem_from_mb_blk", [ctx, 0], expect: .int(Int64(RPCError.Code.runtimeError)))
        let mems = try bothForms(client, "rknn.create_mem", [ctx, 4096])
        let mems2 = try bothForms(client, "rknn.create_mem2", [ctx, 4096, 1])
        client.receivedFDs.forEach { Glibc.close($0) }
        client.receivedFDs = []
        let attr = try client.call("rknn.query", [ctx, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"]!
        try bothForms(client, "rknn.set_io_mem", [ctx, ok(mems.0)["return"]!, attr])
        try bothForms(client, "rknn.mem_sync", [ctx, ok(mems.0)["return"]!, "RKNN_MEMORY_SYNC_BIDIRECTIONAL"])
        let outside = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0x210])["context"])
        let big = try client.call("rknn.create_mem", [outside, 65536])
        client.receivedFDs.forEach { Glibc.close($0) }
        client.receivedFDs = []
        try bothForms(client, "rknn.set_weight_mem", [outside, big["return"]!])
        try bothForms(client, "rknn.set_internal_mem", [outside, big["return"]!])
        let detector = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
        guard
            case .object(var shape)? = try client.call(
                "rknn.query", [detector, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"]
        else { return XCTFail() }
        shape["dims"] = [1, 320, 320, 3]
        try bothForms(client, "rknn.set_input_shape", [detector, .object(shape)])
        try bothForms(client, "rknn.set_input_shapes", [detector, [.object(shape)]])
        for made in [mems, mems2, fromFD] {
            try bothForms(
                client, "rknn.destroy_mem", [ctx, ok(made.0)["return"]!], then: [ctx, ok(made.1)["return"]!])
        }
        // MatMul.
        let info: JSONValue = ["M": 4, "K": 32, "N": 32, "type": "RKNN_INT8_MM_INT8_TO_INT32"]
        let (m1, _) = try bothForms(client, "rknn.matmul_create", [info])
        let mm = ok(m1)["ctx"]!
        let shapes: JSONValue = [["M": 4, "K": 32, "N": 32], ["M": 8, "K": 32, "N": 32]]
        let dynamics = try bothForms(client, "rknn.matmul_create_dynamic_shape", [info, shapes])
        let dynamic = ok(dynamics.0)["ctx"]!
        try bothForms(client, "rknn.matmul_set_dynamic_shape", [dynamic, ["M": 8, "K": 32, "N": 32]])
        let ioAttr = ok(m1)["io_attr"]!
        for name in ["A", "B", "C"] {
            let mem = try client.call("rknn.create_mem", [mm, ioAttr[name]!["size"]!])
            try bothForms(client, "rknn.matmul_set_io_mem", [mm, mem["return"]!, ioAttr[name]!])
        }
        client.receivedFDs.forEach { Glibc.close($0) }
        client.receivedFDs = []
        try bothForms(client, "rknn.matmul_set_core_mask", [mm, "RKNN_NPU_CORE_0"])
        try bothForms(client, "rknn.matmul_set_quant_params", [mm, ["name": "A", "scale": [0.5], "zp": [0]]])
        try bothForms(client, "rknn.matmul_get_quant_params", [mm, ["name": "A", "scale": [0], "zp": [0]]])
        try bothForms(client, "rknn.matmul_run", [mm])
        try bothForms(
            client, "rknn.B_normal_layout_to_native_layout",
            [.string(Data(count: 32 * 32).base64EncodedString()), 32, 32, info])
        try bothForms(client, "rknn.matmul_destroy", [dynamic], then: [ok(dynamics.1)["ctx"]!])
        // Custom operators.
        let custom = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-custom.rknn"], 0])["context"])
        try bothForms(client, "rknn.register_custom_ops", [custom, [["op_type": "cstSigmoid"]]])
        try bothForms(client, "rknn.custom_op_get_op_attr", [["internal_ctx": 1], "alpha"])
        try bothForms(client, "rknn.destroy", [ok(twin.0)["context_out"]!], then: [ok(twin.1)["context_out"]!])
        XCTAssertEqual(try client.call("rknn.destroy", [spare]), .object([:]))
        daemon.assertStopsCleanly()
    }

    func testPassThroughPreallocatedOutputsAndADescriptorOfTheWrongKind() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        // pass_through: the bytes are taken as the model's own type (float32), whatever `type` says.
        let values: [Float] = [1, 2, 3, 4, 5, 6, 7, 8]
        _ = try client.call(
            "rknn.inputs_set",
            [
                context,
                [
                    [
                        "index": 0, "buf": .string(values.withUnsafeBytes { Data($0).base64EncodedString() }),
                        "type": "RKNN_TENSOR_UINT8", "pass_through": 1,
                    ]
                ],
            ])
        _ = try client.call("rknn.run", [context])
        // A preallocated output buffer of the client's size is filled.
        let filled = try client.call(
            "rknn.outputs_get",
            [
                context,
                [
                    [
                        "index": 0, "want_float": 1, "is_prealloc": 1,
                        "buf": .string(Data(count: 32).base64EncodedString()),
                    ]
                ],
            ])["outputs"]?[0]
        XCTAssertEqual(try floats(filled?["buf"]), values.map { 2 * $0 + 1 })
        let small = try client.request(
            "rknn.outputs_get",
            [
                context,
                [
                    [
                        "index": 0, "want_float": 1, "is_prealloc": 1,
                        "buf": .string(Data(count: 8).base64EncodedString()),
                    ]
                ],
            ])
        XCTAssertEqual(small["error"]?["data"]?["code"], -9, "RKNN_ERR_OUTPUT_INVALID: the buffer is too small")
        // A pipe is no memory: the runtime cannot map it.
        var pipeEnds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&pipeEnds), 0)
        let request: JSONValue = [
            "jsonrpc": "2.0", "id": 5, "method": "rknn.create_mem_from_fd",
            "params": ["ctx": context, "fd": 0, "size": 4096, "offset": 0],
        ]
        try client.send(request.jsonText + "\n", fds: [pipeEnds[0]])
        pipeEnds.forEach { Glibc.close($0) }
        XCTAssertEqual(
            try client.readMessage()["error"]?["code"], .int(Int64(RPCError.Code.runtimeError)),
            "rknn_create_mem_from_fd returned NULL")
        daemon.assertStopsCleanly()
    }

    func testFaultsFromTheEnvironment() throws {
        let failing = try Self.simulated(["RKNN_SIM_INIT_ERROR": "-3"])
        XCTAssertEqual(
            try Client(failing.socket).request("rknn.init", [["path": "demo-float.rknn"], 0])["error"]?["data"]?[
                "code"], -3)
        failing.assertStopsCleanly()
        let erring = try Self.simulated(["RKNN_SIM_RUN_ERROR": "-2"])
        let client = try Client(erring.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        XCTAssertEqual(
            try client.request("rknn.run", [context])["error"]?["data"]?["code"], -2, "RKNN_ERR_TIMEOUT, as asked")
        erring.assertStopsCleanly()
        let hanging = try Daemon(
            arguments: ["--run-timeout", "3"],
            environment: ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"), "RKNN_SIM_HANG_AT_RUN": "1"])
        let stuck = try Client(hanging.socket)
        let other = try Client(hanging.socket)
        let ctx = try XCTUnwrap(try stuck.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        _ = try stuck.call(
            "rknn.inputs_set",
            [
                ctx,
                [["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]],
            ])
        try stuck.start("hang", "rknn.run", [ctx])
        XCTAssertEqual(try other.call("server.ping"), "pong", "served while a run hangs")
        XCTAssertEqual(try stuck.readMessage()["error"]?["data"]?["signal"], "SIGKILL", "killed after the run timeout")
        hanging.assertStopsCleanly()
    }

    func testBadTensorsGetClearErrors() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let runBeforeInputs = try client.request("rknn.run", [context])
        XCTAssertEqual(runBeforeInputs["error"]?["data"]?["code"], -8, "RKNN_ERR_INPUT_INVALID")
        let wrongSize = try client.request(
            "rknn.inputs_set", [context, [["index": 0, "buf": "AAAA", "type": "RKNN_TENSOR_FLOAT32"]]])
        XCTAssertEqual(wrongSize["error"]?["data"]?["code"], -8)
        let wrongIndex = try client.request("rknn.inputs_set", [context, [["index": 3, "buf": "AAAA"]]])
        XCTAssertEqual(wrongIndex["error"]?["data"]?["code"], -8)
        let badBase64 = try client.request("rknn.inputs_set", [context, [["index": 0, "buf": "not base64!"]]])
        XCTAssertEqual(badBase64["error"]?["code"], -32602)
        let badType = try client.request(
            "rknn.inputs_set", [context, [["index": 0, "buf": "AAAA", "type": "RKNN_TENSOR_QUATERNION"]]])
        XCTAssertEqual(badType["error"]?["code"], -32602)
        let badCommand = try client.request("rknn.query", [context, 99])
        XCTAssertNotNil(badCommand["error"])
        let missing = try client.request("rknn.init", [["path": "absent.rknn"], 0])
        XCTAssertEqual(missing["error"]?["data"]?["code"], -6, "RKNN_ERR_MODEL_INVALID")
        XCTAssertEqual(try client.errorCode("rknn.init", [["path": "/etc/passwd"], 0]), RPCError.Code.notPermitted)
        XCTAssertEqual(
            try client.request("rknn.wait", [context])["error"]?["data"]?["code"], -1, "rknn_wait fails as in 2.3.x")
        daemon.assertStopsCleanly()
    }

    func testAFrameInSharedMemoryRunsWithNoCopyAndAnotherClientCannotTouchIt() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
        // Input memory from the runtime, mapped by the client, the frame written in place.
        let inputMem = try client.call("rknn.create_mem", [context, .int(640 * 640 * 3)])
        let inputFD = client.receivedFDs.removeFirst()
        let input = try XCTUnwrap(mmap(nil, 640 * 640 * 3, PROT_READ | PROT_WRITE, MAP_SHARED, inputFD, 0))
        defer {
            munmap(input, 640 * 640 * 3)
            close(inputFD)
        }
        Self.frame.withUnsafeBytes { input.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        let inputAttr = try XCTUnwrap(
            try client.call("rknn.query", [context, "RKNN_QUERY_INPUT_ATTR", ["index": 0]])["info"])
        XCTAssertEqual(try client.call("rknn.set_io_mem", [context, inputMem["return"]!, inputAttr]), .object([:]))
        // Output memory of the client's own (a memfd), sent to the runtime; the result read in place.
        let outputAttr = try XCTUnwrap(
            try client.call("rknn.query", [context, "RKNN_QUERY_OUTPUT_ATTR", ["index": 2]])["info"])
        let size = 16 * 20 * 20
        let outputFD = clinux_sealable_memfd("p32")
        XCTAssertEqual(ftruncate(outputFD, off_t(size)), 0)
        let output = try XCTUnwrap(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, outputFD, 0))
        defer {
            munmap(output, size)
            close(outputFD)
        }
        let request: JSONValue = [
            "jsonrpc": "2.0", "id": 9, "method": "rknn.create_mem_from_fd",
            "params": ["ctx": context, "fd": 0, "size": .int(Int64(size)), "offset": 0],
        ]
        try client.send(request.jsonText + "\n", fds: [outputFD])
        let outputMem = try XCTUnwrap(try client.readMessage()["result"])
        XCTAssertEqual(try client.call("rknn.set_io_mem", [context, outputMem["return"]!, outputAttr]), .object([:]))
        _ = try client.call("rknn.run", [context])
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: output.assumingMemoryBound(to: Int8.self), count: size)),
            Self.expected(stride: 32))
        // A second frame: written in place, run again, no call carries a byte of it.
        memset(input, 0, 640 * 640 * 3)
        _ = try client.call("rknn.run", [context])
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: output.assumingMemoryBound(to: Int8.self), count: 16)),
            (0..<16).map { _ in Int8(-128) }, "a black frame: channel 0 is 0 + 0.01 * 0")

        let stranger = try Client(daemon.socket)
        XCTAssertEqual(try stranger.errorCode("rknn.run", [context]), RPCError.Code.unknownHandle)
        XCTAssertEqual(
            try stranger.errorCode("rknn.destroy_mem", [context, inputMem["return"]!]), RPCError.Code.unknownHandle)
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, inputMem["return"]!]), .object([:]))
        XCTAssertEqual(try client.call("rknn.destroy_mem", [context, outputMem["return"]!]), .object([:]))
        XCTAssertEqual(try client.call("rknn.destroy", [context]), .object([:]))
        daemon.assertStopsCleanly()
    }

    func testPhysicalMemoryIsForRootPeersOnlyAndMediaBlocksFailCleanly() throws {
        let daemon = try Daemon(
            arguments: ["--socket-mode", "0666"], environment: ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        let client = try Client(daemon.socket)
        let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
        let physical: JSONValue = [context, 0x4000_0000, 4096]
        if getuid() == 0 {
            // Root here: the simulated runtime has no physical memory to wrap.
            XCTAssertEqual(try client.errorCode("rknn.create_mem_from_phys", physical), RPCError.Code.runtimeError)
            // Another uid, through the same socket, is refused before the runtime is asked.
            let script = """
                import json, socket
                s = socket.socket(socket.AF_UNIX); s.connect("\(daemon.socket)"); f = s.makefile("rb")
                def call(method, params):
                    s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\\n").encode())
                    return json.loads(f.readline())
                ctx = call("rknn.init", [{"path": "demo-float.rknn"}, 0])["result"]["context"]
                print(call("rknn.create_mem_from_phys", [ctx, 1073741824, 4096])["error"]["code"])
                """
            let nobody = Process()
            nobody.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            nobody.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c", script]
            let output = Pipe()
            nobody.standardOutput = output
            try nobody.run()
            nobody.waitUntilExit()
            let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            XCTAssertEqual(printed.trimmingCharacters(in: .whitespacesAndNewlines), String(RPCError.Code.notPermitted))
        } else {
            XCTAssertEqual(try client.errorCode("rknn.create_mem_from_phys", physical), RPCError.Code.notPermitted)
        }
        XCTAssertEqual(
            try client.errorCode("rknn.create_mem_from_mb_blk", [context, 0]), RPCError.Code.runtimeError,
            "no media blocks here")
        daemon.assertStopsCleanly()
    }

    /// A MatMul context with A, B and C in runtime memory the client maps; B written in `layout`.
    private struct MatMul {
        let client: Client
        let context: JSONValue
        let attrs: JSONValue
        var mapped: [String: (pointer: UnsafeMutableRawPointer, size: Int, fd: Int32, mem: JSONValue)] = [:]

        init(_ client: Client, _ info: JSONValue) throws {
            self.client = client
            let created = try client.call("rknn.matmul_create", [info])
            context = try XCTUnwrap(created["ctx"])
            attrs = try XCTUnwrap(created["io_attr"])
            for name in ["A", "B", "C"] {
                guard case .int(let size)? = attrs[name]?["size"] else {
                    throw Failure("no size for \(name): \(attrs)")
                }
                let mem = try client.call("rknn.create_mem", [context, .int(size)])
                let fd = client.receivedFDs.removeFirst()
                let pointer = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)!
                mapped[name] = (pointer, Int(size), fd, mem["return"]!)
            }
        }

        func write<T>(_ name: String, _ values: [T]) {
            values.withUnsafeBytes {
                mapped[name]!.pointer.copyMemory(from: $0.baseAddress!, byteCount: min($0.count, mapped[name]!.size))
            }
        }

        func bindAndRun() throws {
            for name in ["A", "B", "C"] {
                XCTAssertEqual(
                    try client.call("rknn.matmul_set_io_mem", [context, mapped[name]!.mem, attrs[name]!]), .object([:]),
                    name)
            }
            XCTAssertEqual(try client.call("rknn.matmul_run", [context]), .object([:]))
        }

        func read<T>(_ count: Int, as type: T.Type) -> [T] {
            Array(UnsafeBufferPointer(start: mapped["C"]!.pointer.assumingMemoryBound(to: T.self), count: count))
        }

        func close() throws {
            for (_, m) in mapped {
                munmap(m.pointer, m.size)
                Glibc.close(m.fd)
                _ = try client.call("rknn.destroy_mem", [context, m.mem])
            }
            XCTAssertEqual(try client.call("rknn.matmul_destroy", [context]), .object([:]))
        }
    }

    func testMatMulComputesEachTypeInNormalAndNativeLayouts() throws {
        let daemon = try Self.simulated()
        let client = try Client(daemon.socket)
        let (M, K, N) = (4, 64, 32)
        let a8 = (0..<(M * K)).map { Int8(truncatingIfNeeded: ($0 * 7) % 23 - 11) }
        let b8 = (0..<(K * N)).map { Int8(truncatingIfNeeded: ($0 * 5) % 19 - 9) }
        func reference(_ a: (Int, Int) -> Int, _ b: (Int, Int) -> Int) -> [Int] {
            (0..<(M * N)).map { i in (0..<K).reduce(0) { $0 + a(i / N, $1) * b($1, i % N) } }
        }
        let exact = reference({ Int(a8[$0 * K + $1]) }, { Int(b8[$0 * N + $1]) })
        for layout in [0, 1] {
            // int8 x int8 -> int32, exact.
            let mm = try MatMul(
                client,
                [
                    "M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)),
                    "type": "RKNN_INT8_MM_INT8_TO_INT32", "B_layout": .int(Int64(layout)),
                ])
            mm.write("A", a8)
            if layout == 1 {
                let native = try client.call(
                    "rknn.B_normal_layout_to_native_layout",
                    [
                        "B_input": .string(b8.withUnsafeBytes { Data($0).base64EncodedString() }), "K": .int(Int64(K)),
                        "N": .int(Int64(N)),
                        "info": [
                            "M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)),
                            "type": "RKNN_INT8_MM_INT8_TO_INT32", "B_layout": 1,
                        ],
                    ])
                guard case .string(let text)? = native["B_output"], let bytes = Data(base64Encoded: text) else {
                    return XCTFail("\(native)")
                }
                XCTAssertNotEqual(Array(bytes), b8.map { UInt8(bitPattern: $0) }, "the native layout is another order")
                mm.write("B", Array(bytes))
                XCTAssertEqual(mm.attrs["B"]?["n_dims"], 4, "native B: (N/32, K/32, 32, 32)")
            } else {
                mm.write("B", b8)
            }
            try mm.bindAndRun()
            XCTAssertEqual(mm.read(M * N, as: Int32.self).map(Int.init), exact, "int8 -> int32, layout \(layout)")
            try mm.close()
        }
        // int8 x int8 -> int8 with affine quantisation (per-layer A and C, per-channel B).
        let quantized = try MatMul(
            client,
            ["M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)), "type": "RKNN_INT8_MM_INT8_TO_INT8"])
        quantized.write("A", a8)
        quantized.write("B", b8)
        let bScales = (0..<N).map { Float(0.01) + Float($0) * Float(0.001) }
        _ = try client.call(
            "rknn.matmul_set_quant_params", [quantized.context, ["name": "A", "scale": [0.05], "zp": [1]]])
        _ = try client.call(
            "rknn.matmul_set_quant_params",
            [
                quantized.context,
                [
                    "name": "B", "scale": .array(bScales.map { .double(Double($0)) }),
                    "zp": .array(Array(repeating: 0, count: N)),
                ],
            ])
        _ = try client.call(
            "rknn.matmul_set_quant_params", [quantized.context, ["name": "C", "scale": [0.25], "zp": [-3]]])
        let got = try client.call(
            "rknn.matmul_get_quant_params", [quantized.context, ["name": "C", "scale": [0], "zp": [0]]])
        XCTAssertEqual(got["scale"], 0.25)
        try quantized.bindAndRun()
        let shifted = reference({ Int(a8[$0 * K + $1]) - 1 }, { Int(b8[$0 * N + $1]) })
        let expectedInt8 = (0..<(M * N)).map { i -> Int8 in
            let real = Float(shifted[i]) * (Float(0.05) * bScales[i % N])
            return Int8(max(-128, min(127, (real / Float(0.25) + Float(-3)).rounded())))
        }
        XCTAssertEqual(quantized.read(M * N, as: Int8.self), expectedInt8, "int8 -> int8")
        try quantized.close()
        // float16 x float16 -> float32.
        let half = try MatMul(
            client,
            [
                "M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)),
                "type": "RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32",
            ])
        let aHalf = a8.map { Float16(Float($0) / 4) }
        let bHalf = b8.map { Float16(Float($0) / 8) }
        half.write("A", aHalf)
        half.write("B", bHalf)
        try half.bindAndRun()
        let expectedFloat = (0..<(M * N)).map { i in
            (0..<K).reduce(Float(0)) { $0 + Float(aHalf[(i / N) * K + $1]) * Float(bHalf[$1 * N + i % N]) }
        }
        XCTAssertEqual(
            half.read(M * N, as: Float.self), expectedFloat, "float16 -> float32 (these values are exact in float)")
        try half.close()
        // float16 with B in the native layout (N/16, K/32, 16, 32), and float16 -> float16.
        for type in ["RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT32", "RKNN_FLOAT16_MM_FLOAT16_TO_FLOAT16"] {
            let info: JSONValue = [
                "M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)), "type": .string(type), "B_layout": 1,
            ]
            let native = try MatMul(client, info)
            XCTAssertEqual(native.attrs["B"]?["dims"]?[2], 16, "float16 native B blocks of 16 columns")
            let converted = try client.call(
                "rknn.B_normal_layout_to_native_layout",
                [
                    .string(bHalf.withUnsafeBytes { Data($0).base64EncodedString() }), .int(Int64(K)), .int(Int64(N)),
                    info,
                ])
            guard case .string(let text)? = converted["B_output"], let bytes = Data(base64Encoded: text) else {
                return XCTFail()
            }
            native.write("A", aHalf)
            native.write("B", Array(bytes))
            try native.bindAndRun()
            let got =
                type.hasSuffix("FLOAT32")
                ? native.read(M * N, as: Float.self) : native.read(M * N, as: Float16.self).map(Float.init)
            XCTAssertEqual(
                got, type.hasSuffix("FLOAT32") ? expectedFloat : expectedFloat.map { Float(Float16($0)) }, type)
            try native.close()
        }
        // int8 x int8 -> float32: the real-valued product with the scales.
        let real = try MatMul(
            client,
            ["M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N)), "type": "RKNN_INT8_MM_INT8_TO_FLOAT32"])
        real.write("A", a8)
        real.write("B", b8)
        _ = try client.call("rknn.matmul_set_quant_params", [real.context, ["name": "A", "scale": [0.5], "zp": [0]]])
        _ = try client.call("rknn.matmul_set_quant_params", [real.context, ["name": "B", "scale": [0.25], "zp": [0]]])
        try real.bindAndRun()
        XCTAssertEqual(real.read(M * N, as: Float.self), exact.map { Float($0) * Float(0.125) }, "int8 -> float32")
        try real.close()
        // Dynamic shapes: the second of two shapes chosen, A and C sized for it.
        let shapes: JSONValue = [
            ["M": 2, "K": .int(Int64(K)), "N": .int(Int64(N))],
            ["M": .int(Int64(M)), "K": .int(Int64(K)), "N": .int(Int64(N))],
        ]
        let dynamicInfo: JSONValue = [
            "M": 2, "K": .int(Int64(K)), "N": .int(Int64(N)), "type": "RKNN_INT8_MM_INT8_TO_INT32",
        ]
        let dynamic = try client.call("rknn.matmul_create_dynamic_shape", [dynamicInfo, shapes])
        guard case .array(let ioAttrs)? = dynamic["io_attrs"], ioAttrs.count == 2 else { return XCTFail("\(dynamic)") }
        XCTAssertEqual(ioAttrs[1]["A"]?["dims"]?[0], .int(Int64(M)))
        let dynamicContext = dynamic["ctx"]!
        XCTAssertEqual(try client.call("rknn.matmul_set_dynamic_shape", [dynamicContext, shapes[1]!]), .object([:]))
        var mapped: [String: UnsafeMutableRawPointer] = [:]
        var sizes: [String: Int] = [:]
        defer { for (name, pointer) in mapped { munmap(pointer, sizes[name]!) } }
        for name in ["A", "B", "C"] {
            let attr = ioAttrs[1][name]!
            guard case .int(let size)? = attr["size"] else { return XCTFail() }
            let mem = try client.call("rknn.create_mem", [dynamicContext, .int(size)])
            let fd = client.receivedFDs.removeFirst()
            sizes[name] = Int(size)
            mapped[name] = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
            Glibc.close(fd)
            if name == "A" {
                a8.withUnsafeBytes { mapped["A"]!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            if name == "B" {
                b8.withUnsafeBytes { mapped["B"]!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            _ = try client.call("rknn.matmul_set_io_mem", [dynamicContext, mem["return"]!, attr])
        }
        _ = try client.call("rknn.matmul_run", [dynamicContext])
        XCTAssertEqual(
            Array(UnsafeBufferPointer(start: mapped["C"]!.assumingMemoryBound(to: Int32.self), count: M * N)).map(
                Int.init), exact,
            "the dynamic shape's product")
        _ = try client.call("rknn.matmul_destroy", [dynamicContext])
        // Alignment: N must be a multiple of 32 for int8 on an RK3588.
        let misaligned = try client.request(
            "rknn.matmul_create", [["M": 4, "K": 64, "N": 20, "type": "RKNN_INT8_MM_INT8_TO_INT32"]])
        XCTAssertEqual(misaligned["error"]?["data"]?["code"], -5, "RKNN_ERR_PARAM_INVALID")
        daemon.assertStopsCleanly()
    }

    private func floats(_ value: JSONValue?) throws -> [Float] { try base64Values(value, as: Float.self) }
    private func int8s(_ value: JSONValue?) throws -> [Int8] { try base64Values(value, as: Int8.self) }

    /// A client that leaves a shared host: each of its objects is destroyed by the function the
    /// manifest names for what made it (a MatMul context by rknn_matmul_destroy, a model's by
    /// rknn_destroy, memory by rknn_destroy_mem), none fails and the host is left with nothing.
    func testWhatALeavingClientMadeIsDestroyedByTheFunctionForWhatMadeIt() throws {
        let daemon = try Daemon(
            arguments: ["--rknn-shared-host", "1"], environment: ["RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so")])
        defer { daemon.assertStopsCleanly() }
        let watcher = try Client(daemon.socket)
        func stats() throws -> JSONValue { try watcher.call("server.stats")["runtimes"]?["rknn"] ?? .null }
        do {
            let leaving = try Client(daemon.socket)
            let model = try XCTUnwrap(try leaving.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"])
            _ = try leaving.call("rknn.create_mem", [model, 64])
            _ = try leaving.call(
                "rknn.matmul_create", [["M": 4, "K": 32, "N": 32, "type": "RKNN_INT8_MM_INT8_TO_INT32"]])
            XCTAssertEqual(try stats()["objects"], 3)
        }
        let deadline = Date().addingTimeInterval(60)
        while try stats()["objects"] != 0 || stats()["calls_in_flight"] != 0, Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try stats()["objects"], 0)
        XCTAssertEqual(try stats()["calls_in_flight"], 0)
        XCTAssertEqual(try stats()["destroy_failures"], 0, daemon.log)
        XCTAssertEqual(try stats()["hosts_running"], 1, "the shared host stays")
    }
}
