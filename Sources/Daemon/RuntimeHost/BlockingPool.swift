import Foundation

/// The runtime host's threads for blocking calls: at most `width` run at once (the device's cores),
/// and calls on one runtime object (a context is not thread-safe) one at a time, in arrival order.
/// The threads are made as calls need them and live as long as the host process, which ends when
/// the daemon closes its channel.
final class BlockingPool: @unchecked Sendable {
    private let width: Int
    private let condition = NSCondition()
    private var queue: [(key: String?, work: @Sendable () -> Void)] = []
    private var busyKeys: Set<String> = []
    private var threads = 0
    private var idle = 0

    init(width: Int) { self.width = max(1, width) }

    /// Runs `work` on a pool thread once no other call with the same `key` runs.
    func submit(key: String?, _ work: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        queue.append((key, work))
        // More calls waiting than threads waiting for calls: another thread, up to the width.
        if queue.count > idle && threads < width {
            threads += 1
            let thread = Thread { [self] in serve() }
            thread.name = "runtime-call-\(threads)"
            thread.start()
        }
        condition.broadcast()
    }

    private func serve() {
        condition.lock()
        while true {
            guard let index = queue.firstIndex(where: { $0.key.map { !busyKeys.contains($0) } ?? true }) else {
                idle += 1
                condition.wait()
                idle -= 1
                continue
            }
            let task = queue.remove(at: index)
            if let key = task.key { busyKeys.insert(key) }
            condition.unlock()
            task.work()
            condition.lock()
            if let key = task.key { busyKeys.remove(key) }
            condition.broadcast()  // a call waiting for this object may run now
        }
    }
}
