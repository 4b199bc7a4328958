import BindingRuntime

/// Counters for `server.stats`, owned by the loop thread.
struct Stats {
    struct MethodStats {
        var calls = 0
        var errors = 0
        /// Calls whose latency was measured (every call, or one in `sampleEvery` for methods
        /// answered on the loop, whose clock reads would cost as much as the answer).
        var samples = 0
        var totalNanos: UInt64 = 0
        var maxNanos: UInt64 = 0
        /// Measured calls by latency: bucket i holds latencies in [2^i, 2^(i+1)) ns.
        var buckets = [Int](repeating: 0, count: 40)
        static let sampleEvery = 16

        mutating func count(failed: Bool) {
            calls += 1
            if failed { errors += 1 }
        }

        mutating func sample(nanos: UInt64) {
            samples += 1
            totalNanos += nanos
            maxNanos = max(maxNanos, nanos)
            buckets[min(buckets.count - 1, 63 - max(0, (nanos | 1).leadingZeroBitCount))] += 1
        }

        /// The upper bound of the bucket holding the given fraction of measured calls, in microseconds.
        func percentile(_ p: Double) -> Double {
            let target = CheckedNumbers.wholePart((Double(samples) * p).rounded(.up))
            var seen = 0
            for (i, n) in buckets.enumerated() {
                seen += n
                if seen >= max(1, target) { return Double(min(UInt64(1) << (i + 1), maxNanos)) / 1000 }
            }
            return Double(maxNanos) / 1000
        }

        var json: JSONValue {
            .object([
                "calls": .int(Int64(calls)),
                "errors": .int(Int64(errors)),
                "mean_us": .double(samples == 0 ? 0 : Double(totalNanos) / Double(samples) / 1000),
                "p50_us": .double(percentile(0.5)),
                "p99_us": .double(percentile(0.99)),
                "max_us": .double(Double(maxNanos) / 1000),
            ])
        }
    }

    let started = EventLoop.now()
    var connectionsAccepted = 0
    var connectionsRejected = 0
    var clientsDroppedForSlowReading = 0
    var repliesTooLarge = 0
    var linesOverInputCap = 0
    var requests = 0
    var notifications = 0
    var errors = 0
    var parseErrors = 0
    var overlongLines = 0
    /// Bytes read from and written to clients (every payload the daemon relays crosses these).
    var bytesFromClients = 0
    var bytesToClients = 0
}

/// A registered method and its counters (one lookup per request finds both).
final class MethodSlot {
    let method: ServerMethod
    var stats = Stats.MethodStats()
    init(_ method: ServerMethod) { self.method = method }
}
