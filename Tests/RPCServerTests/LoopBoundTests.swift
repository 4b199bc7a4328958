import Foundation
import XCTest

@testable import RPCServer

/// Loop-owned state is checked in code: only the loop's thread may touch it while a loop runs.
final class LoopBoundTests: XCTestCase {
    func testOnlyTheLoopsThreadMayTouchLoopStateWhileItRuns() throws {
        let loop = try EventLoop()
        let ended = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let thread = Thread {
            loop.run()
            ended.signal()
        }
        thread.start()
        final class Seen: @unchecked Sendable { var onLoop = false }
        let seen = Seen()
        loop.execute {
            seen.onLoop = LoopThread.mayTouchLoopState
            started.signal()
        }
        XCTAssertEqual(started.wait(timeout: .now() + 60), .success)
        XCTAssertTrue(seen.onLoop, "the loop's own thread may")
        XCTAssertFalse(LoopThread.mayTouchLoopState, "another thread may not while the loop runs")
        loop.execute { loop.stop() }
        XCTAssertEqual(ended.wait(timeout: .now() + 60), .success)
    }

    func testTheWrapperHandsOutAndMutatesItsValueInPlace() {
        final class Owner {
            @LoopBound var counts: [String: Int] = [:]
        }
        let owner = Owner()
        owner.counts["a", default: 0] += 2
        owner.counts["a", default: 0] += 1
        XCTAssertEqual(owner.counts, ["a": 3])
    }
}
