import XCTest

@testable import RuntimeHost

/// The device's cores: at most their number of calls at once, the others in arrival order.
final class DeviceCoresTests: XCTestCase {
    func testCallsBeyondTheCoresWaitAndTakeAFreedCoreInArrivalOrder() {
        var cores = DeviceCores(width: 2)
        var started: [Int] = []
        for call in 1...4 where cores.admit({ started.append(call) }) { started.append(call) }
        XCTAssertEqual(started, [1, 2])
        XCTAssertEqual(cores.waitingCount, 2)
        cores.release()?()
        XCTAssertEqual(started, [1, 2, 3], "a freed core goes to the first that waits")
        XCTAssertEqual(cores.busy, 2, "and stays taken")
        cores.release()?()
        XCTAssertNil(cores.release())
        XCTAssertEqual(started, [1, 2, 3, 4])
        XCTAssertEqual(cores.busy, 1)
        XCTAssertNil(cores.release())
        XCTAssertEqual(cores.busy, 0)
        XCTAssertNil(cores.release(), "never below none")
        XCTAssertEqual(cores.busy, 0)
    }
}
