import XCTest

@testable import RuntimeHost

/// Equal creating calls share one object; calls arriving while it loads wait for that load.
final class SharedObjectCacheTests: XCTestCase {
    private final class Object {
        var dead = false
    }

    func testCallsJoinALoadUnderWayThenTheLoadedObject() {
        var cache = SharedObjectCache<Object, String>()
        guard case .load = cache.join("k", "first", usable: { !$0.dead }) else { return XCTFail("nothing to join") }
        guard case .waiting = cache.join("k", "second", usable: { !$0.dead }) else { return XCTFail("loading") }
        guard case .load = cache.join("other", "third", usable: { !$0.dead }) else { return XCTFail("other call") }
        let object = Object()
        XCTAssertEqual(cache.loaded("k", object), ["second"])
        guard case .joined(let joined) = cache.join("k", "fourth", usable: { !$0.dead }) else { return XCTFail() }
        XCTAssertTrue(joined === object)
        object.dead = true
        guard case .load = cache.join("k", "fifth", usable: { !$0.dead }) else {
            return XCTFail("a dead one is not joined")
        }
    }

    func testAFailedLoadHandsBackItsJoinersAndCachesNothing() {
        var cache = SharedObjectCache<Object, Int>()
        _ = cache.join("k", 1, usable: { _ in true })
        _ = cache.join("k", 2, usable: { _ in true })
        XCTAssertEqual(cache.loaded("k", nil), [2])
        XCTAssertTrue(cache.objects.isEmpty)
    }

    func testOnlyTheCachedObjectIsRemovedUnderItsKey() {
        var cache = SharedObjectCache<Object, Int>()
        let (cached, stranger) = (Object(), Object())
        _ = cache.join("k", 1, usable: { _ in true })
        _ = cache.loaded("k", cached)
        cache.remove(stranger, key: "k")
        XCTAssertTrue(cache.objects["k"] === cached)
        cache.remove(cached, key: "k")
        XCTAssertNil(cache.objects["k"])
    }

    func testInstanceValuesAreTheLowestFreeOnesPerNamespace() {
        var cache = SharedObjectCache<Object, Int>()
        XCTAssertEqual(cache.takeInstanceValue(in: "a"), 0)
        XCTAssertEqual(cache.takeInstanceValue(in: "a"), 1)
        XCTAssertEqual(cache.takeInstanceValue(in: "b"), 0)
        cache.returnInstanceValue(0, in: "a")
        XCTAssertEqual(cache.takeInstanceValue(in: "a"), 0)
        XCTAssertEqual(cache.takeInstanceValue(in: "a"), 2)
    }
}
