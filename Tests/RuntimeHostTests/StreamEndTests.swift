import BindingRuntime
import XCTest

@testable import RuntimeHost

/// The one place that decides when a streaming call ends and what its answer is.
final class StreamEndTests: XCTestCase {
    private func callback(_ text: String, final: Bool = false, userdata: JSONValue? = nil) -> JSONValue {
        var params: JSONObject = ["id": 1, "message": ["text": .string(text)]]
        if final { params["final"] = true }
        if let userdata { params["userdata"] = userdata }
        return .object(params)
    }

    func testMessagesGoToTheClientWithItsUserdataAndTheFinalOneIsTheAnswer() throws {
        var end = StreamEnd(outlivesCall: false)
        XCTAssertEqual(end.message(callback("one", userdata: ["k": 1])), ["text": "one", "userdata": ["k": 1]])
        XCTAssertNil(end.message(callback("", final: true)))
        let answer = try XCTUnwrap(end.callReturned(.success(.object([:])), fds: []))
        XCTAssertEqual(try answer.0.get(), ["text": "", "_ended": "finished"])
    }

    func testARuntimeErrorAfterTheFinalMessageJoinsItAsCode() throws {
        var end = StreamEnd(outlivesCall: false)
        _ = end.message(callback("", final: true))
        let failed = RPCError.runtimeError(
            function: "rkllm_run", status: -7, statuses: StatusNames([(-7, nil, "the prompt does not fit")]))
        let answer = try XCTUnwrap(end.callReturned(.failure(failed), fds: []))
        XCTAssertEqual(
            try answer.0.get(), ["text": "", "code": -7, "meaning": "the prompt does not fit", "_ended": "error"])
    }

    func testACallWithoutAFinalMessageAnswersWhatItReturned() throws {
        var end = StreamEnd(outlivesCall: false)
        let answer = try XCTUnwrap(end.callReturned(.success(["return": 0]), fds: []))
        XCTAssertEqual(try answer.0.get(), ["return": 0])
    }

    func testACallThatOutlivesItsReturnEndsAtTheLaterOfTheTwo() throws {
        var early = StreamEnd(outlivesCall: true)
        XCTAssertNil(early.callReturned(.success(["return": 0]), fds: []), "returned first: the stream goes on")
        XCTAssertNil(early.answerAfterFinal, "no final message yet")
        XCTAssertEqual(early.message(callback("a")), ["text": "a"])
        XCTAssertNil(early.message(callback("", final: true)))
        XCTAssertEqual(try XCTUnwrap(early.answerAfterFinal).0.get(), ["text": "", "_ended": "finished"])

        var late = StreamEnd(outlivesCall: true)
        _ = late.message(callback("", final: true))
        XCTAssertNil(late.answerAfterFinal, "the final message first: the answer waits for the return")
        XCTAssertEqual(
            try XCTUnwrap(late.callReturned(.success(["return": 0]), fds: [])).0.get(),
            ["text": "", "_ended": "finished"])

        var failing = StreamEnd(outlivesCall: true)
        let refused = RPCError(code: -32602, message: "bad")
        XCTAssertNotNil(failing.callReturned(.failure(refused), fds: []), "a failed call has no stream to wait for")
    }

    func testARunTheHostSaysPausedEndsPaused() throws {
        var end = StreamEnd(outlivesCall: false)
        XCTAssertNotNil(end.message(callback("one")))
        XCTAssertNil(end.message(["id": 1, "message": [:], "final": true, "ended": "paused"]))
        let answer = try XCTUnwrap(end.callReturned(.success(.object([:])), fds: []))
        XCTAssertEqual(try answer.0.get(), ["_ended": "paused"])
    }
}
