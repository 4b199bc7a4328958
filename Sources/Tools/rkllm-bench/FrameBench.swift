import BindingRuntime
import Foundation

/// `rkllm-bench frames [--frames 100]`: the 640x640x3 demo detector through the daemon, with the
/// frame as base64 and in shared memory (no copy in the daemon): frames/s and the bytes the daemon
/// relayed per frame on each path; the base64 decode of a frame (MB/s); MatMul calls/s for a small
/// shape. The simulated runtime computes at full speed (RKNN_SIM_RUN_MS=0).
func frames(_ options: Options) throws {
    let figures = try frameFigures(frames: options.frames)
    print("frames: the 640x640x3 demo detector, \(options.frames) frames per path, simulated runtime at full speed")
    print(
        String(
            format:
                "  base64:    %.1f frames/s, %.0f bytes relayed by the daemon per frame (%.0f bytes of requests and "
                + "answers), daemon CPU %.2f ms per frame (zero-copy: %.2f ms)",
            figures.base64FramesPerSecond, figures.base64Relayed, figures.base64Exchanged,
            figures.base64DaemonCPU / 1e6, figures.zeroCopyDaemonCPU / 1e6))
    print(
        String(
            format:
                "  zero-copy: %.1f frames/s, %.0f bytes relayed by the daemon per frame (the frame is %.2f MB: none of it)",
            figures.zeroCopyFramesPerSecond, figures.zeroCopyRelayed, Double(640 * 640 * 3) / 1e6))
    print(String(format: "  base64 decode of a frame in the runtime host: %.0f MB/s", figures.decodeMBps))
    print(
        String(
            format: "  matmul_run (int8 4x64 by 64x32) through the daemon: %.0f calls/s", figures.matmulCallsPerSecond))
}

/// Per frame: `relayed`, the bytes the daemon wrote to the runtime host and to the client;
/// `exchanged`, the client's requests and the answers it read; `daemonCPU`, the daemon's CPU
/// time (ns), all its threads.
struct FrameFigures {
    var base64FramesPerSecond: Double
    var base64Relayed: Double
    var base64Exchanged: Double
    var base64DaemonCPU: Double
    var zeroCopyDaemonCPU: Double
    var zeroCopyFramesPerSecond: Double
    var zeroCopyRelayed: Double
    var decodeMBps: Double
    var matmulCallsPerSecond: Double
}

func frameFigures(frames count: Int) throws -> FrameFigures {
    setenv("RKNN_RUNTIME_LIB", besideBench("librknnrt_sim.so"), 1)
    setenv("RKLLM_MODEL_DIRS", repositoryModels, 1)
    setenv("RKNN_SIM_RUN_MS", "0", 1)
    let target = try Target(socket: nil, maxConnections: 4)
    defer { target.stop() }
    let client = try BenchClient(target.socket)
    let frame = (0..<(640 * 640 * 3)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    let base64 = Data(frame).base64EncodedString()

    // Base64: the frame in every inputs_set, the outputs in every outputs_get.
    let context = try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"]!
    let outputs: JSONValue = [["index": 0], ["index": 1], ["index": 2]]
    let input: JSONValue = [
        ["index": 0, "buf": .string(base64), "type": "RKNN_TENSOR_UINT8", "fmt": "RKNN_TENSOR_NHWC"]
    ]
    let daemon = try target.pid()
    var relayed = try relayedBytes(client)
    let exchanged = client.bytesSent + client.bytesReceived
    var cpu = cpuNanos(daemon)
    var started = now()
    for _ in 0..<count {
        _ = try client.call("rknn.inputs_set", [context, input])
        _ = try client.call("rknn.run", [context])
        _ = try client.call("rknn.outputs_get", [context, outputs])
    }
    let base64Seconds = Double(now() - started) / 1e9
    let base64DaemonCPU = Double(cpuNanos(daemon) - cpu) / Double(count)
    let base64Exchanged = Double(client.bytesSent + client.bytesReceived - exchanged) / Double(count)
    let base64Relayed = Double(try relayedBytes(client) - relayed) / Double(count)

    // Zero-copy: input and outputs in runtime memory the client maps; each frame written in place.
    var mapped: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
    defer { mapped.forEach { munmap($0.pointer, $0.size) } }
    for (query, index) in [
        ("RKNN_QUERY_INPUT_ATTR", 0), ("RKNN_QUERY_OUTPUT_ATTR", 0), ("RKNN_QUERY_OUTPUT_ATTR", 1),
        ("RKNN_QUERY_OUTPUT_ATTR", 2),
    ] {
        let attr = try client.call("rknn.query", [context, .string(query), ["index": .int(Int64(index))]])["info"]!
        guard case .int(let size)? = attr["size"] else { throw BenchError("no size in \(attr.jsonText)") }
        let mem = try client.call("rknn.create_mem", [context, .int(size)])
        let fd = client.receivedFDs.removeFirst()
        let pointer = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)!
        close(fd)
        mapped.append((pointer, Int(size)))
        _ = try client.call("rknn.set_io_mem", [context, mem["return"]!, attr])
    }
    relayed = try relayedBytes(client)
    cpu = cpuNanos(daemon)
    started = now()
    for _ in 0..<count {
        frame.withUnsafeBytes { mapped[0].pointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        _ = try client.call("rknn.run", [context])
    }
    let zeroCopySeconds = Double(now() - started) / 1e9
    let zeroCopyDaemonCPU = Double(cpuNanos(daemon) - cpu) / Double(count)
    let zeroCopyRelayed = Double(try relayedBytes(client) - relayed) / Double(count)

    // The runtime host's decode of a frame's base64 (the generated code's path for a buffer).
    let text = JSONValue.string(base64)
    let decodeRounds = 20
    started = now()
    for _ in 0..<decodeRounds { _ = try Bytes(json: text, path: "buf") }
    let decodeMBps = Double(base64.utf8.count * decodeRounds) / (Double(now() - started) / 1e9) / 1e6

    // MatMul: a small int8 product over and over.
    let matmul = try client.call(
        "rknn.matmul_create", [["M": 4, "K": 64, "N": 32, "type": "RKNN_INT8_MM_INT8_TO_INT32"]])
    let mmContext = matmul["ctx"]!
    for name in ["A", "B", "C"] {
        let attr = matmul["io_attr"]![name]!
        let mem = try client.call("rknn.create_mem", [mmContext, attr["size"]!])
        close(client.receivedFDs.removeFirst())
        _ = try client.call("rknn.matmul_set_io_mem", [mmContext, mem["return"]!, attr])
    }
    let calls = count * 20
    started = now()
    for _ in 0..<calls { _ = try client.call("rknn.matmul_run", [mmContext]) }
    let matmulSeconds = Double(now() - started) / 1e9

    return FrameFigures(
        base64FramesPerSecond: Double(count) / base64Seconds, base64Relayed: base64Relayed,
        base64Exchanged: base64Exchanged, base64DaemonCPU: base64DaemonCPU, zeroCopyDaemonCPU: zeroCopyDaemonCPU,
        zeroCopyFramesPerSecond: Double(count) / zeroCopySeconds,
        zeroCopyRelayed: zeroCopyRelayed, decodeMBps: decodeMBps,
        matmulCallsPerSecond: Double(calls) / matmulSeconds)
}

/// Every byte the daemon relayed so far: what it wrote to runtime hosts and to clients (each came
/// in from the other side first), counting the answer that says so (the next reading counts it).
private func relayedBytes(_ client: BenchClient) throws -> Int {
    let received = client.bytesReceived
    let stats = try client.call("server.stats", [])
    var total = client.bytesReceived - received
    for value in [stats["bytes"]?["to_clients"], stats["runtimes"]?["rknn"]?["bytes_to_hosts"]] {
        if case .int(let n)? = value { total += Int(n) }
    }
    return total
}

/// The CPU time a process's threads have run so far, in nanoseconds (/proc/PID/task/*/schedstat).
func cpuNanos(_ pid: Int32) -> UInt64 {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.reduce(0) { total, task in
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
        return total + (UInt64(text.split(separator: " ").first ?? "0") ?? 0)
    }
}
