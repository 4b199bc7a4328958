import Foundation

/// The runtime's handles in this host: small integer ids for the daemon, raw values for C.
final class HandleTable: @unchecked Sendable {
    private let lock = NSLock()
    private var raw: [Int64: (value: UInt64, type: String)] = [:]
    /// Descriptors a creating call was given: the runtime object may use them until it is destroyed.
    private var heldFDs: [Int64: [Int32]] = [:]
    private var next: Int64 = 1

    func register(_ value: UInt64, type: String) -> Int64 {
        lock.withLock {
            defer { next += 1 }
            raw[next] = (value, type)
            return next
        }
    }

    func resolve(_ id: Int64, type: String) -> UInt64? {
        lock.withLock { raw[id].flatMap { $0.type == type ? $0.value : nil } }
    }

    func release(_ id: Int64) {
        let fds = lock.withLock {
            raw.removeValue(forKey: id)
            return heldFDs.removeValue(forKey: id) ?? []
        }
        fds.forEach { close($0) }
    }

    func hold(_ fds: [Int32], for id: Int64) {
        lock.withLock { heldFDs[id, default: []] += fds }
    }
}
