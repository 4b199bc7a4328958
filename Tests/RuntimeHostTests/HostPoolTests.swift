import BindingRuntime
import Foundation
import RPCServer
import XCTest

@testable import RuntimeHost

/// The host pool in-process, its hosts a stand-in process that only reads its channel: which
/// host a call gets under each hosting, and that a host that stops or dies is forgotten.
final class HostPoolTests: XCTestCase {
    private var script: URL!
    private var loop: EventLoop!
    private var ended: DispatchSemaphore!

    override func setUpWithError() throws {
        script = FileManager.default.temporaryDirectory.appendingPathComponent("pool-host-\(getpid()).sh")
        // It reads its channel until the pool's end closes: a stopped host exits at once.
        try "#!/bin/sh\nexec cat <&3 >/dev/null\n".write(to: script, atomically: true, encoding: .utf8)
        XCTAssertEqual(chmod(script.path, 0o755), 0)
        loop = try EventLoop()
        ended = DispatchSemaphore(value: 0)
        let loop = self.loop!
        let ended = self.ended!
        Thread {
            loop.run()
            ended.signal()
        }.start()
    }

    override func tearDown() {
        loop.execute { [loop] in loop?.stop() }
        XCTAssertEqual(ended.wait(timeout: .now() + 60), .success)
        try? FileManager.default.removeItem(at: script)
    }

    /// Runs `body` on the loop's thread (the pool's state is loop-owned) and waits for it.
    private func onLoop(_ body: @escaping @Sendable () throws -> Void) throws {
        final class Outcome: @unchecked Sendable { var error: Error? }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            do { try body() } catch { outcome.error = error }
            done.signal()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success)
        if let error = outcome.error { throw error }
    }

    private func pool() -> HostPool {
        let pool = HostPool(logger: Logger(level: .error))
        pool.loop = loop
        return pool
    }

    private static func start(
        _ pool: HostPool, script: URL, died: @escaping (HostProcess, RPCError) -> Void = { _, _ in }
    ) -> () throws -> HostProcess {
        let launch = HostPool.Launch(
            executable: script.path, library: "none",
            settings: HostSettings(parallelCalls: 1, memoryLimit: nil, pluginDirectory: nil))
        return { try pool.start("rt", launch, died: died) }
    }

    func testEachHostingGivesTheHostItSays() throws {
        let pool = pool()
        let script = self.script!
        try onLoop {
            let start = Self.start(pool, script: script)
            let a = try pool.find("rt", hosting: .perClient, client: 1, creating: nil, start: start)
            XCTAssertTrue(try pool.find("rt", hosting: .perClient, client: 1, creating: nil, start: start) === a)
            let b = try pool.find("rt", hosting: .perClient, client: 2, creating: nil, start: start)
            XCTAssertFalse(a === b, "each client its own")
            XCTAssertEqual(pool.client(of: a), 1)
            XCTAssertEqual(pool.hosts(of: 2).count, 1)
            let shared = try pool.find("rt", hosting: .shared, client: 1, creating: nil, start: start)
            XCTAssertTrue(try pool.find("rt", hosting: .shared, client: 2, creating: nil, start: start) === shared)
            XCTAssertTrue(pool.isShared(shared))
            let one = try pool.find(
                "rt", hosting: .perInstance(of: "model"), client: 1, creating: "model", start: start)
            let two = try pool.find(
                "rt", hosting: .perInstance(of: "model"), client: 1, creating: "model", start: start)
            XCTAssertFalse(one === two, "a host per instance")
            XCTAssertEqual(pool.count, 5)
            pool.stop(a)
            pool.stop(shared)
            XCTAssertNil(pool.client(of: a))
            XCTAssertFalse(pool.isShared(shared))
            XCTAssertEqual(pool.count, 3)
            pool.stopAll(RPCError(code: RPCError.Code.shuttingDown, message: "server shutting down"))
            XCTAssertEqual(pool.count, 0)
        }
    }

    func testAHostThatDiesIsForgottenAndSaidSo() throws {
        final class Deaths: @unchecked Sendable { var seen: [String] = [] }
        let deaths = Deaths()
        let gone = DispatchSemaphore(value: 0)
        let pool = pool()
        let script = self.script!
        final class Held: @unchecked Sendable { var pid: pid_t = 0 }
        let held = Held()
        try onLoop {
            let start = Self.start(pool, script: script) { _, error in
                deaths.seen.append(error.message)
                gone.signal()
            }
            held.pid = try pool.find("rt", hosting: .perClient, client: 7, creating: nil, start: start).pid
        }
        kill(held.pid, SIGKILL)
        XCTAssertEqual(gone.wait(timeout: .now() + 60), .success)
        try onLoop {
            XCTAssertEqual(pool.count, 0)
            XCTAssertTrue(pool.hosts(of: 7).isEmpty)
        }
        XCTAssertEqual(deaths.seen.count, 1)
        XCTAssertTrue(deaths.seen[0].contains("SIGKILL"), deaths.seen[0])
    }
}
