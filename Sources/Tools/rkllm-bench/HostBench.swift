import BindingRuntime
import Foundation

/// `rkllm-bench hosts [--connections 100]`: what a runtime host per RKNN client costs against one
/// shared host. N clients one after another each make a context of the demo float model and run it
/// once: the time to that first run (p50, max: it includes starting the client's host), then with
/// all N holding their contexts, the memory of the RKNN hosts, in total and per client: resident,
/// and proportional (PSS: pages shared between hosts, the executable's code, counted once).
func hosts(_ options: Options) throws {
    for shared in [false, true] {
        let memory = try hostMemory(clients: options.connections, shared: shared)
        print(
            String(
                format:
                    "%@: %d clients, %d RKNN hosts: resident %.1f MiB (%.1f per client), proportional %.1f MiB (%.1f per client); "
                    + "connect to first run p50 %.1f ms, max %.1f ms",
                shared ? "one shared host" : "a host per client", options.connections, memory.hosts,
                memory.residentMiB, memory.residentMiB / Double(options.connections), memory.proportionalMiB,
                memory.proportionalMiB / Double(options.connections), memory.firstRunP50, memory.firstRunMax))
    }
}

/// The RKNN hosts' memory with N clients each holding a context (resident and proportional, MiB),
/// and the time from connecting to a client's first run (ms).
struct HostMemory {
    var hosts: Int
    var residentMiB: Double
    var proportionalMiB: Double
    var firstRunP50: Double
    var firstRunMax: Double
}

func hostMemory(clients count: Int, shared: Bool) throws -> HostMemory {
    setenv("RKNN_RUNTIME_LIB", besideBench("librknnrt_sim.so"), 1)
    setenv("RKLLM_MODEL_DIRS", repositoryModels, 1)
    setenv("RKNN_SIM_RUN_MS", "0", 1)
    let input: JSONValue = [
        ["index": 0, "buf": .string(Data(count: 32).base64EncodedString()), "type": "RKNN_TENSOR_FLOAT32"]
    ]
    let target = try Target(
        socket: nil, maxConnections: count,
        arguments: ["--rknn-shared-host", shared ? "1" : "0", "--max-runtime-hosts", String(count + 1)])
    defer { target.stop() }
    var clients: [BenchClient] = []
    var firstRuns: [Double] = []
    for _ in 0..<count {
        let started = now()
        let client = try BenchClient(target.socket)
        let context = try client.call("rknn.init", [["path": "demo-float.rknn"], 0])["context"]!
        _ = try client.call("rknn.inputs_set", [context, input])
        _ = try client.call("rknn.run", [context])
        firstRuns.append(Double(now() - started) / 1e6)
        clients.append(client)
    }
    let daemon = try target.pid()
    let hosts = try FileManager.default.contentsOfDirectory(atPath: "/proc").compactMap(Int32.init).filter { pid in
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains("--runtime-host") && args.contains("rknn") && args.contains(String(daemon))
    }
    let resident = Double(hosts.map { memoryKiB($0, "status", "VmRSS:") }.reduce(0, +)) / 1024
    let proportional = Double(hosts.map { memoryKiB($0, "smaps_rollup", "Pss:") }.reduce(0, +)) / 1024
    firstRuns.sort()
    withExtendedLifetime(clients) {}  // every client held its context until the memory was read
    return HostMemory(
        hosts: hosts.count, residentMiB: resident, proportionalMiB: proportional,
        firstRunP50: firstRuns[firstRuns.count / 2], firstRunMax: firstRuns.last ?? 0)
}

/// A memory figure in KiB of a process from one of its /proc files (`status`, `VmRSS:`); 0 once
/// it is gone.
func memoryKiB(_ pid: Int32, _ file: String, _ key: String) -> Int {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8)) ?? ""
    let line = text.split(separator: "\n").first { $0.hasPrefix(key) } ?? ""
    return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
}
