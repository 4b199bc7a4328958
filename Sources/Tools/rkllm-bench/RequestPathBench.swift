import BindingRuntime
import Foundation
import RPCServer

/// `rkllm-bench parse`: the request path without sockets or the loop: read one request line
/// (`JSONRPC.message(bytes:)`) and write its answer (`JSONRPC.writeResult`), in a tight loop on
/// one thread. A steady number on a noisy machine, for changes to the JSON-RPC layer.
func requestPath(_ options: Options) {
    let line = Array(#"{"jsonrpc":"2.0","id":12345,"method":"server.ping"}"#.utf8)
    var out: [UInt8] = []
    out.reserveCapacity(1 << 16)
    let iterations = max(100_000, Int(options.duration * 2_000_000))
    var checksum = 0
    let started = now()
    line.withUnsafeBytes { bytes in
        for _ in 0..<iterations {
            guard case .single(.success(let request))? = try? JSONRPC.message(bytes: bytes, knownMethod: "server.ping"),
                let id = request.id
            else { fatalError("unreadable") }
            checksum &+= request.method.utf8.count
            JSONRPC.writeResult(id: id, result: "pong", into: &out)
            out.append(0x0A)
            if out.count > 60_000 { out.removeAll(keepingCapacity: true) }
        }
    }
    let nanos = Double(now() - started) / Double(iterations)
    print(
        String(
            format: "request path: %.0f ns per request (read + answer, %d iterations, check %d)", nanos, iterations,
            checksum % 7))
}
