import Foundation
import XCTest

@testable import RPCServer

final class EventLoopTests: XCTestCase {
    /// Tasks posted from many threads all run, on the loop thread, in each poster's order.
    func testTasksPostedFromOtherThreadsRunOnTheLoopInOrder() throws {
        let loop = try EventLoop()
        let thread = Thread { loop.run() }
        thread.start()
        let done = DispatchSemaphore(value: 0)
        final class Seen: @unchecked Sendable {
            var values: [[Int]] = Array(repeating: [], count: 8)
            var offLoop = 0
        }
        let seen = Seen()
        DispatchQueue.concurrentPerform(iterations: 8) { poster in
            for i in 0..<1000 {
                loop.execute {
                    if !loop.inLoopThread { seen.offLoop += 1 }
                    seen.values[poster].append(i)
                }
            }
        }
        loop.execute { done.signal() }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(seen.offLoop, 0)
        for values in seen.values { XCTAssertEqual(values, Array(0..<1000)) }
        let stopped = DispatchSemaphore(value: 0)
        loop.execute {
            loop.stop()
            stopped.signal()
        }
        XCTAssertEqual(stopped.wait(timeout: .now() + 60), .success)
    }

    func testTimersFireInDeadlineOrderAndCanBeCancelled() throws {
        let loop = try EventLoop()
        final class Order: @unchecked Sendable { var fired: [Int] = [] }
        let order = Order()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            loop.schedule(after: 0.03) { order.fired.append(3) }
            loop.schedule(after: 0.01) { order.fired.append(1) }
            let cancelled = loop.schedule(after: 0.02) { order.fired.append(2) }
            loop.cancelTimer(cancelled)
            loop.schedule(after: 0.05) {
                loop.stop()
                done.signal()
            }
        }
        let thread = Thread { loop.run() }
        thread.start()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(order.fired, [1, 3])
    }
}
