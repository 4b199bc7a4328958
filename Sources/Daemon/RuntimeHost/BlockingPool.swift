import Foundation

/// The runtime host's threads for blocking calls: at most `width` run at once (the device's cores),
/// in arrival order. (The daemon sends the calls on one object one at a time: CallQueue.) The
/// threads are made as calls need them and live as long as the host process, which ends when the
/// daemon closes its channel.
final class BlockingPool: @unchecked Sendable {
    private let width: Int
    private let condition = NSCondition()
    private var queue: [@Sendable () -> Void] = []
    private var threads = 0
    private var idle = 0

    init(width: Int) { self.width = max(1, width) }

    func submit(_ work: @escaping @Sendable () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        queue.append(work)
        // More calls waiting than threads waiting for calls: another thread, up to the width.
        if queue.count > idle && threads < width {
            threads += 1
            let thread = Thread { [self] in serve() }
            thread.name = "runtime-call-\(threads)"
            thread.start()
        }
        condition.signal()
    }

    private func serve() {
        condition.lock()
        while true {
            guard !queue.isEmpty else {
                idle += 1
                condition.wait()
                idle -= 1
                continue
            }
            let work = queue.removeFirst()
            condition.unlock()
            work()
            condition.lock()
        }
    }
}
