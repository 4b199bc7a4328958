import BindingRuntime
import Foundation

/// Connections spread over client threads, each thread running rounds over its own connections
/// until `duration` has passed: the load of `ping` (any probe) and of HTTP's `/api/version`.
/// `round` gets a thread's connections, a read buffer and the latencies it may add to; it
/// returns how many requests the round answered.
func rounds(
    over connections: [Int32], threads: Int, duration: Double, bufferSize: Int,
    _ round: @escaping @Sendable (_ mine: [Int32], _ buffer: inout [UInt8], _ latencies: inout [UInt64]) throws -> Int
) throws -> (requests: Int, latencies: [UInt64], threads: Int, seconds: Double) {
    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var requests = 0
        var latencies: [UInt64] = []
        var failure: Error?
    }
    let shared = Shared()
    let end = now() + CheckedNumbers.nanoseconds(duration)
    let threads = min(threads, connections.count)
    let group = DispatchGroup()
    for t in 0..<threads {
        let mine = stride(from: t, to: connections.count, by: threads).map { connections[$0] }
        group.enter()
        Thread {
            var buffer = [UInt8](repeating: 0, count: bufferSize)
            var count = 0
            var latencies: [UInt64] = []
            latencies.reserveCapacity(1 << 16)
            do {
                while now() < end { count += try round(mine, &buffer, &latencies) }
            } catch {
                shared.lock.withLock { shared.failure = error }
            }
            shared.lock.withLock {
                shared.requests += count
                shared.latencies += latencies
            }
            group.leave()
        }.start()
    }
    let started = now()
    group.wait()
    let seconds = Double(now() - started) / 1e9
    if let failure = shared.failure { throw failure }
    return (shared.requests, shared.latencies, threads, seconds)
}

/// The `p` quantile (0...1, 1 the maximum) of nanosecond figures, in microseconds; 0 for none.
func percentile(_ values: [UInt64], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty
        ? 0 : Double(sorted[min(sorted.count - 1, CheckedNumbers.wholePart(Double(sorted.count) * p))]) / 1000
}

/// The middle of the figures (the upper one of an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}
