import BindingRuntime
import XCTest

@testable import RuntimeHost

/// The daemon-host protocol: what one side writes, the other reads back, and a callback's message
/// travels as the text the host wrote.
final class HostMessageTests: XCTestCase {
    private func line(_ message: HostMessage) -> [UInt8] {
        var out: [UInt8] = []
        message.write(into: &out)
        return out
    }

    private func roundTrip(_ message: HostMessage) throws -> HostMessage {
        let bytes = line(message)
        XCTAssertEqual(bytes.last, 0x0A, "one line")
        XCTAssertEqual(bytes.filter { $0 == 0x0A }.count, 1)
        return try XCTUnwrap(bytes.dropLast().withUnsafeBytes(HostMessage.read))
    }

    func testEveryMessageReadsBackAsWritten() throws {
        guard case .ready(let ready) = try roundTrip(.ready(["library": "/x.so", "protocol": 1])) else {
            return XCTFail("ready")
        }
        XCTAssertEqual(ready, ["library": "/x.so", "protocol": 1])
        guard
            case .call(7, "rkllm.run", .value(let params), 2) = try roundTrip(
                .call(id: 7, method: "rkllm.run", params: .value(["handle": 1]), fds: 2))
        else { return XCTFail("call") }
        XCTAssertEqual(params, ["handle": 1])
        guard
            case .call(8, "rkllm.get_constants", .value(nil), 0) = try roundTrip(
                .call(id: 8, method: "rkllm.get_constants", params: .value(nil), fds: 0))
        else { return XCTFail("call without params") }
        guard case .pause(9) = try roundTrip(.pause(id: 9)) else { return XCTFail("pause") }
        guard
            case .result(10, let value, 1, true) = try roundTrip(
                .result(id: 10, value: ["return": 0], fds: 1, paused: true))
        else { return XCTFail("result") }
        XCTAssertEqual(value, ["return": 0])
        let error = RPCError(code: -32003, message: "rkllm_run failed", data: ["code": -7])
        guard case .failure(11, let read) = try roundTrip(.failure(id: 11, error: error)) else {
            return XCTFail("error")
        }
        XCTAssertEqual(read.code, error.code)
        XCTAssertEqual(read.message, error.message)
        XCTAssertEqual(read.data, error.data)
    }

    func testACallbacksMessageTravelsAsTheTextTheHostWrote() throws {
        let text = JSONText(["text": "h\u{e9}", "token_id": 7, "_callback_state": 0, "userdata": ["k": [1, 2]]])
        guard case .callback(12, false, let read) = try roundTrip(.callback(id: 12, final: false, message: text)) else {
            return XCTFail("callback")
        }
        XCTAssertEqual(read, text, "byte for byte")
        guard case .callback(13, true, let last) = try roundTrip(.callback(id: 13, final: true, message: text)) else {
            return XCTFail("final callback")
        }
        XCTAssertEqual(last.value, text.value)
    }

    func testTheParamsOfAForwardedCallAreTheClientsTextWithItsHandlesRewritten() throws {
        let client = Array(#"{"handle": 5, "input": "AAAA"}"#.utf8)
        let splice = try XCTUnwrap(JSONSplice(client, replacing: [(.member("handle"), .int(1))]))
        let written = String(
            decoding: line(.call(id: 1, method: "m", params: .forwarded(splice), fds: 0)), as: UTF8.self)
        XCTAssertEqual(written, #"{"call":1,"method":"m","params":{"handle": 1, "input": "AAAA"}}"# + "\n")
    }

    func testALineThatIsNoMessageIsRefused() {
        for text in [
            "", "[]", "{}", #"{"call":"x","method":"m"}"#, #"{"call":1}"#, #"{"callback":1,"final":true}"#,
            #"{"result":1,"fds":-1,"value":0}"#, #"{"error":1,"code":1.5,"message":"x"}"#, #"{"what":1}"#,
            #"{"pause":1,"extra":true}"#, #"{"ready":[]}"#, #"{"pause":1}x"#,
        ] {
            XCTAssertNil(Array(text.utf8).withUnsafeBytes(HostMessage.read), text)
        }
    }

    func testAHostOfAnotherProtocolIsNamedAsSuch() throws {
        XCTAssertNil(HostMessage.versionMismatch(["protocol": .int(HostMessage.version)]))
        let older = try XCTUnwrap(HostMessage.versionMismatch(["protocol": 0]))
        XCTAssertTrue(older.contains("host protocol 0"), older)
        XCTAssertNotNil(HostMessage.versionMismatch([:]), "a host that says none")
    }
}

/// A host executable of another build is refused at its start, with the reason.
final class HostProtocolVersionTests: XCTestCase {
    func testTheProbeRefusesAHostThatSpeaksAnotherProtocol() throws {
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("old-host-\(getpid()).sh")
        try "#!/bin/sh\necho '{\"ready\":{\"library\":\"x\",\"protocol\":0}}' >&3\n".write(
            to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        XCTAssertEqual(chmod(script.path, 0o755), 0)
        let outcome = RuntimeProbe.run(
            executable: script.path, namespace: "rkllm", library: "x", matched: false,
            settings: HostSettings(parallelCalls: 1, memoryLimit: nil, pluginDirectory: nil))
        guard case .failure(let failure) = outcome else { return XCTFail("served: \(outcome)") }
        XCTAssertTrue(failure.description.contains("host protocol 0"), failure.description)
    }
}
