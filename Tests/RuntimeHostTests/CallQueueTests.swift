import XCTest

@testable import RuntimeHost

/// The one place calls on an object are serialised: one runs, the rest wait in arrival order.
final class CallQueueTests: XCTestCase {
    private final class Item {
        let name: String
        init(_ name: String) { self.name = name }
    }

    func testOneRunsTheOthersWaitInArrivalOrderAndTheNextRunsWhenItEnds() {
        var queue = CallQueue<Item>()
        let (a, b, c) = (Item("a"), Item("b"), Item("c"))
        XCTAssertEqual(queue.admit(a, limit: nil), .run)
        XCTAssertEqual(queue.admit(b, limit: nil), .queued(position: 1))
        XCTAssertEqual(queue.admit(c, limit: nil), .queued(position: 2))
        XCTAssertNil(queue.finish(b), "only the running item's end starts the next")
        XCTAssertTrue(queue.finish(a) === b)
        XCTAssertTrue(queue.running === b)
        XCTAssertTrue(queue.finish(b) === c)
        XCTAssertNil(queue.finish(c))
        XCTAssertTrue(queue.isIdle)
    }

    func testTheLimitBoundsTheWaitingOnlyForItemsGivenOne() {
        var queue = CallQueue<Item>()
        XCTAssertEqual(queue.admit(Item("running"), limit: 1), .run)
        XCTAssertEqual(queue.admit(Item("first"), limit: 1), .queued(position: 1))
        XCTAssertEqual(queue.admit(Item("refused"), limit: 1), .full)
        XCTAssertEqual(queue.admit(Item("unbounded"), limit: nil), .queued(position: 2))
        XCTAssertEqual(queue.waiting.map(\.name), ["first", "unbounded"])
    }

    func testRemovingWaitingItemsKeepsTheOthersInOrder() {
        var queue = CallQueue<Item>()
        _ = queue.admit(Item("running"), limit: nil)
        for name in ["x1", "y1", "x2", "y2"] { _ = queue.admit(Item(name), limit: nil) }
        XCTAssertEqual(queue.removeWaiting { $0.name.hasPrefix("x") }.map(\.name), ["x1", "x2"])
        XCTAssertEqual(queue.waiting.map(\.name), ["y1", "y2"])
        XCTAssertEqual(queue.running?.name, "running", "the running one is not removed")
    }
}
