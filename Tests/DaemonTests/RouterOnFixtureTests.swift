import BindingRuntime
import CLinux
import CallTestBindings
import Foundation
import RPCServer
import RuntimeHost
import Wire
import XCTest

/// The router's queueing and streaming over the fixture's generated table and manifest (no
/// vendor in sight): a server in this process, the fixture's runtime hosts (`calltest-host`)
/// started from its manifest. `ct.wait_readable` blocks its object until the test writes to a
/// pipe, so what queues behind it is known without timing.
final class RouterOnFixtureTests: XCTestCase {
    private var server: Server!
    private let stopped = DispatchSemaphore(value: 0)
    private let socket = "/tmp/rkllm-fixture-router-\(getpid()).sock"

    override func setUpWithError() throws {
        let table = RuntimeTable(RuntimeDescriptions.ct, host: Built.path("calltest-host"))
        let (configuration, _) = try Configuration.load(
            arguments: ["--socket", socket, "--ct-library", Built.path("libcalltest.so"), "--log-level", "3"],
            environment: [:], runtimeSettings: table.manifest.settings)
        let setup = try RuntimeSetup([table], configuration: configuration, executable: Built.server)
        let logger = Logger(level: .error)
        let router = RuntimeRouter(
            runtimes: [setup],
            limits: .init(
                runTimeout: 600, keepAlive: 0, maxQueue: 1, queueTimeout: 0,
                quota: Holdings(handles: 64, descriptors: 64, bytes: 1 << 30), maxHosts: 8),
            logger: logger)
        let server = try Server(
            configuration: configuration, logger: logger, version: "test",
            methods: GeneratedMethods.serving([setup], router: router).methods + router.serverMethods())
        router.attach(to: server)
        self.server = server
        let stopped = self.stopped
        Thread {
            _ = try? server.run()
            stopped.signal()
        }.start()
        let deadline = Date().addingTimeInterval(60)
        while (try? UnixSocket.connect(socket)).map({ close($0) }) == nil && Date() < deadline { usleep(5_000) }
    }

    override func tearDown() {
        server.requestShutdown(reason: "test over")
        XCTAssertEqual(stopped.wait(timeout: .now() + 60), .success)
        server = nil
    }

    /// A blocking call on `handle` that returns once the pipe's write end gets a byte.
    private func block(_ client: Client, _ handle: JSONValue, id: Int) throws -> Int32 {
        var pipe: [Int32] = [-1, -1]
        XCTAssertEqual(Glibc.pipe(&pipe), 0)
        try client.send(
            #"{"jsonrpc":"2.0","id":\#(id),"method":"ct.wait_readable","params":[\#(handle.jsonText),0]}"# + "\n",
            fds: [pipe[0]])
        close(pipe[0])
        return pipe[1]
    }

    func testCallsOnOneObjectRunOneAtATimeAndAQueuedStreamIsToldItsPlace() throws {
        let client = try Client(socket)
        let handle = try XCTUnwrap(try client.call("ct.open", [nil])["handle"])
        let release = try block(client, handle, id: 1)
        try client.start(2, "ct.emit", [handle, 2, "queued"])
        XCTAssertEqual(try client.readMessage()["result"], ["_queue_position": 1], "behind the blocking call")
        XCTAssertEqual(try client.errorCode("ct.emit", [handle, 1, "refused"]), RPCError.Code.queueFull)
        XCTAssertEqual(write(release, "x", 1), 1)
        close(release)
        let answer = try client.readMessage()
        XCTAssertEqual(answer["id"], 1)
        XCTAssertEqual(answer["result"], .object([:]))
        var events: [JSONValue] = []
        while true {
            let message = try client.readMessage()
            XCTAssertEqual(message["id"], 2)
            guard let result = message["result"], let event = result["event"] else { break }
            events.append(event["text"] ?? .null)
            XCTAssertEqual(result["userdata"], "queued")
        }
        XCTAssertEqual(events, ["event 0", "event 1"], "the stream ran once the object was free")
        _ = try client.call("ct.close", [handle])
    }

    func testAQueuedStreamCancelledByItsClientIsAnsweredAndNeverRuns() throws {
        let client = try Client(socket)
        let handle = try XCTUnwrap(try client.call("ct.open", [nil])["handle"])
        let release = try block(client, handle, id: 1)
        try client.start(2, "ct.emit", [handle, 3, nil])
        XCTAssertEqual(try client.readMessage()["result"], ["_queue_position": 1])
        try client.start(3, "$/cancelRequest", ["id": 2])
        // The cancelled request is answered first, then the cancel itself.
        let cancelled = try client.readMessage()
        XCTAssertEqual(cancelled["id"], 2)
        XCTAssertEqual(cancelled["error"]?["code"], .int(Int64(RPCError.Code.cancelled)))
        XCTAssertEqual(try client.readMessage()["result"], ["cancelled": true])
        XCTAssertEqual(write(release, "x", 1), 1)
        close(release)
        XCTAssertEqual(try client.readMessage()["id"], 1)
        XCTAssertEqual(try client.call("ct.close", [handle]), .object([:]))
    }

    /// A shared object's creating call is no one client's to hold descriptors for: those sent with
    /// it are closed in the daemon (this process) whatever the runtime answers.
    func testDescriptorsSentWithASharedCreatingCallAreClosed() throws {
        let client = try Client(socket)
        func openShared() throws -> JSONValue {
            let file = memfd_create("shared", 0)
            defer { close(file) }
            try client.send(#"{"jsonrpc":"2.0","id":1,"method":"ct.open_shared","params":[7,0]}"# + "\n", fds: [file])
            return try client.readMessage()
        }
        _ = try openShared()  // the runtime's shared host is running from now on
        let before = try openFDs(getpid())
        for _ in 0..<3 {
            XCTAssertEqual(try openShared()["error"]?["data"]?["param"], "fd", "the runtime never gets it")
        }
        XCTAssertEqual(try settled(getpid(), at: before), before)
    }

    /// Clients creating an object alike share it (one object, a handle each, counted); a client
    /// letting go leaves it to the others; another tag is another object.
    func testClientsOpeningAlikeShareOneObject() throws {
        let (alice, bob, carol) = (try Client(socket), try Client(socket), try Client(socket))
        let first = try alice.call("ct.open_tagged", [7])
        XCTAssertNil(first["joined"])
        let joined = try bob.call("ct.open_tagged", ["tag": 7])
        XCTAssertEqual(joined["joined"], true, "the same call in the other form joins it")
        XCTAssertNil(try carol.call("ct.open_tagged", [8])["joined"], "another tag: another object")
        XCTAssertEqual(try alice.call("ct.shared_tag", [first["shared"]!]), ["return": 7])
        XCTAssertEqual(try alice.call("ct.close_shared", [first["shared"]!]), .object([:]))
        XCTAssertEqual(try bob.call("ct.shared_tag", [joined["shared"]!]), ["return": 7], "still there for bob")
        XCTAssertEqual(try bob.errorCode("ct.shared_tag", [first["shared"]!]), RPCError.Code.unknownHandle)
    }
}
