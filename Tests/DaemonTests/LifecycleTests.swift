import BindingRuntime
import Foundation
import XCTest

/// Start, refusal, signals and the command line of the real binary.
final class LifecycleTests: XCTestCase {
    func testSIGTERMWithClientsConnectedExitsZeroAndRemovesTheSocket() throws {
        let daemon = try Daemon()
        let clients = try (0..<5).map { _ in try Client(daemon.socket) }
        for client in clients { XCTAssertEqual(try client.call("server.ping"), "pong") }
        daemon.assertStopsCleanly()
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socket))
        for client in clients { XCTAssertNil(try client.readLine(), "closed by the shutdown") }
        XCTAssertTrue(daemon.log.contains("shutting down (SIGTERM"))
    }

    func testAStaleSocketIsReplacedAndALiveOneIsRefused() throws {
        let first = try Daemon()
        // A second daemon on the live socket refuses to start, with a clear message.
        let second = Process()
        second.executableURL = URL(fileURLWithPath: Built.server)
        second.arguments = ["--socket", first.socket]
        let errors = Pipe()
        second.standardError = errors
        try second.run()
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 1)
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(message.contains("another daemon is serving"), message)
        XCTAssertEqual(try Client(first.socket).call("server.ping"), "pong", "the first one is untouched")

        // A socket file nobody listens on (a dead daemon's) is replaced.
        kill(first.process.processIdentifier, SIGKILL)
        _ = first.waitForExit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: first.socket), "SIGKILL leaves the file")
        let third = try Daemon(socket: first.socket)
        XCTAssertEqual(try Client(first.socket).call("server.ping"), "pong")
        third.assertStopsCleanly()
    }

    func testAFatalSignalRemovesTheSocketAndExitsNonZero() throws {
        let daemon = try Daemon()
        kill(daemon.process.processIdentifier, SIGSEGV)
        XCTAssertNotEqual(daemon.waitForExit(), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socket))
    }

    func testHelpVersionAndBadFlags() throws {
        func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
            try runToEnd(
                Built.server, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        }
        let help = try run(["--help"])
        XCTAssertEqual(help.0, 0)
        XCTAssertTrue(help.1.contains("--max-connections") && help.1.contains("RKLLM_UDS_PATH"))
        let version = try run(["--version"])
        XCTAssertEqual(version.0, 0)
        XCTAssertTrue(version.1.hasPrefix("rkllm-server "))
        XCTAssertEqual(try run(["--no-such-flag"]).0, 2)
        XCTAssertEqual(try run([], environment: ["RKLLM_MAX_CONNECTIONS": "many"]).0, 2)
    }

    func testTheSocketGetsTheConfiguredMode() throws {
        let daemon = try Daemon(arguments: ["--socket-mode", "0600"])
        var info = stat()
        XCTAssertEqual(stat(daemon.socket, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        daemon.assertStopsCleanly()
    }
}
