import BindingRuntime
import RPCServer
import XCTest

@testable import RuntimeHost

/// Handles are the daemon's numbers, owned by the client that got them.
final class HandleRegistryTests: XCTestCase {
    private final class Object: HandleTarget {
        let type: String
        init(_ type: String) { self.type = type }
    }

    private func code(_ body: () throws -> Int64) -> Int? {
        do {
            _ = try body()
            return nil
        } catch {
            return (error as? RPCError)?.code
        }
    }

    func testAClientResolvesOnlyItsOwnHandlesOfTheRightType() throws {
        var registry = HandleRegistry<Object>()
        let model = Object("model")
        let alice = registry.register(model, owner: 1, share: Holdings(handles: 1))
        let bob = registry.register(model, owner: 2, share: Holdings(handles: 1))
        XCTAssertNotEqual(alice, bob, "one handle per client on a shared object")
        XCTAssertEqual(try registry.resolve(.int(alice), type: "model", owner: 1, param: "h"), alice)
        XCTAssertEqual(
            code { try registry.resolve(.int(bob), type: "model", owner: 1, param: "h") }, RPCError.Code.unknownHandle)
        XCTAssertEqual(
            code { try registry.resolve(.int(alice), type: "context", owner: 1, param: "h") },
            RPCError.Code.unknownHandle)
        XCTAssertEqual(
            code { try registry.resolve("1", type: "model", owner: 1, param: "h") }, RPCError.Code.unknownHandle)
    }

    func testNullNamesTheClientsOneHandleOfThatType() throws {
        var registry = HandleRegistry<Object>()
        let first = registry.register(Object("model"), owner: 1, share: Holdings())
        _ = registry.register(Object("context"), owner: 1, share: Holdings())
        XCTAssertEqual(try registry.resolve(.null, type: "model", owner: 1, param: "h"), first)
        _ = registry.register(Object("model"), owner: 1, share: Holdings())
        XCTAssertEqual(
            code { try registry.resolve(.null, type: "model", owner: 1, param: "h") }, RPCError.Code.unknownHandle)
    }

    func testOwnedHandlesComeNewestFirstAndMoveTogether() throws {
        var registry = HandleRegistry<Object>()
        let (shared, own) = (Object("model"), Object("model"))
        let older = registry.register(shared, owner: 1, share: Holdings(bytes: 5))
        let other = registry.register(shared, owner: 2, share: Holdings())
        let newer = registry.register(shared, owner: 1, share: Holdings(bytes: 7))
        XCTAssertEqual(registry.owned(by: 1), [newer, older])
        XCTAssertTrue(registry.isHeld(shared, byOtherThan: 1))
        XCTAssertEqual(registry.move(of: 1, from: shared, to: own), 2)
        XCTAssertTrue(registry[older]?.object === own)
        XCTAssertEqual(registry[newer]?.share, Holdings(bytes: 7), "a moved handle keeps its share")
        XCTAssertTrue(registry[other]?.object === shared)
        XCTAssertFalse(registry.isHeld(shared, by: 1))
        XCTAssertNotNil(registry.remove(other))
        XCTAssertFalse(registry.isHeld(shared))
    }
}
