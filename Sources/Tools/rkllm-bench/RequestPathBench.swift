import BindingRuntime
import Foundation
import RPCServer

/// `rkllm-bench parse`: the request path without sockets or the loop: read one request line as
/// the server reads it (`PlainRequest.Last`: a repeat of the last request, else the plain reader)
/// and write its answer (`JSONRPC.writeResult`), in a tight loop on one thread, the id new each
/// time. A steady number on a noisy machine, for changes to the JSON-RPC layer.
func requestPath(_ options: Options) {
    var line = Array(#"{"jsonrpc":"2.0","id":10000,"method":"server.ping"}"#.utf8)
    let digits = line.firstIndex(of: UInt8(ascii: "1"))!
    var last = PlainRequest.Last()
    var out: [UInt8] = []
    out.reserveCapacity(1 << 16)
    let iterations = max(100_000, CheckedNumbers.wholePart(options.duration * 2_000_000))
    var checksum = 0
    let started = now()
    for i in 0..<iterations {
        line[digits + 4] = UInt8(ascii: "0") + UInt8(i % 10)
        let read = line.withUnsafeBytes { bytes in
            last.read(bytes, knownMethod: "server.ping") { request in
                guard let id = request.id else { fatalError("no id") }
                checksum &+= request.method.utf8.count
                JSONRPC.writeResult(id: id, result: "pong", into: &out)
                out.append(0x0A)
            }
        }
        guard read else { fatalError("unreadable") }
        if out.count > 60_000 { out.removeAll(keepingCapacity: true) }
    }
    let nanos = Double(now() - started) / Double(iterations)
    print(
        String(
            format: "request path: %.0f ns per request (read + answer, %d iterations, check %d)", nanos, iterations,
            checksum % 7))
}
