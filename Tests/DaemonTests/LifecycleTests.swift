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

    func testAFatalSignalRemovesTheSocketAndTheDaemonDiesOfIt() throws {
        // Four times, with requests under way: the handler must not wait on a lock the thread it
        // interrupted may hold (under ThreadSanitizer it did, about one time in ten).
        let ping = #"{"jsonrpc":"2.0","id":1,"method":"server.ping"}"# + "\n"
        for _ in 0..<4 {
            let daemon = try Daemon()
            let client = try Client(daemon.socket)
            try client.send(String(repeating: ping, count: 200))
            kill(daemon.process.processIdentifier, SIGSEGV)
            XCTAssertEqual(daemon.waitForExit(timeout: 30), SIGSEGV, "died of the signal, not killed after waiting")
            XCTAssertEqual(daemon.process.terminationReason, .uncaughtSignal)
            XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socket))
            XCTAssertTrue(daemon.log.contains("rkllm-server: fatal signal; removing the socket"))
        }
    }

    func testACrashSignalFromAnotherProcessEndsTheDaemonWithSwiftsBacktracerOn() throws {
        // The backtracer returns when it is done, counting on the fault to recur: a signal sent by
        // kill(2) does not, and the daemon had lived on without its socket.
        let daemon = try Daemon(environment: ["SWIFT_BACKTRACE": "enable=yes,interactive=no"])
        kill(daemon.process.processIdentifier, SIGSEGV)
        XCTAssertEqual(daemon.waitForExit(timeout: 30), SIGSEGV, "died of the signal, not killed after waiting")
        XCTAssertEqual(daemon.process.terminationReason, .uncaughtSignal)
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
