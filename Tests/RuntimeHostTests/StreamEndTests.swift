import BindingRuntime
import XCTest

@testable import RuntimeHost

/// The one place that decides when a call to a runtime host ends and what its answer is.
final class StreamEndTests: XCTestCase {
    func testTheFinalMessageIsTheAnswer() throws {
        var end = StreamEnd(outlivesCall: false)
        end.finalMessage(["text": "", "userdata": ["k": 1]])
        let answer = try XCTUnwrap(end.callReturned(.success(.object([:])), fds: []))
        XCTAssertEqual(try answer.outcome.get(), ["text": "", "userdata": ["k": 1], "_ended": "finished"])
    }

    func testARuntimeErrorAfterTheFinalMessageJoinsItAsCode() throws {
        var end = StreamEnd(outlivesCall: false)
        end.finalMessage(["text": ""])
        let failed = RPCError.runtimeError(
            function: "rkllm_run", status: -7, statuses: StatusNames([(-7, nil, "the prompt does not fit")]))
        let answer = try XCTUnwrap(end.callReturned(.failure(failed), fds: []))
        XCTAssertEqual(
            try answer.outcome.get(), ["text": "", "code": -7, "meaning": "the prompt does not fit", "_ended": "error"])
    }

    func testACallWithoutAFinalMessageAnswersWhatItReturned() throws {
        var end = StreamEnd(outlivesCall: false)
        let answer = try XCTUnwrap(end.callReturned(.success(["return": 0]), fds: []))
        XCTAssertEqual(try answer.outcome.get(), ["return": 0])
    }

    func testACallThatOutlivesItsReturnEndsAtTheLaterOfTheTwo() throws {
        var early = StreamEnd(outlivesCall: true)
        XCTAssertNil(early.callReturned(.success(["return": 0]), fds: []), "returned first: the stream goes on")
        XCTAssertNil(early.answerAfterFinal, "no final message yet")
        early.finalMessage(["text": ""])
        XCTAssertEqual(try XCTUnwrap(early.answerAfterFinal).outcome.get(), ["text": "", "_ended": "finished"])

        var late = StreamEnd(outlivesCall: true)
        late.finalMessage(["text": ""])
        XCTAssertNil(late.answerAfterFinal, "the final message first: the answer waits for the return")
        XCTAssertEqual(
            try XCTUnwrap(late.callReturned(.success(["return": 0]), fds: [])).outcome.get(),
            ["text": "", "_ended": "finished"])

        var failing = StreamEnd(outlivesCall: true)
        let refused = RPCError(code: -32602, message: "bad")
        XCTAssertNotNil(failing.callReturned(.failure(refused), fds: []), "a failed call has no stream to wait for")
    }

    func testARunTheHostSaysPausedEndsPaused() throws {
        var end = StreamEnd(outlivesCall: false)
        let answer = try XCTUnwrap(end.callReturned(.success(.object([:])), fds: [], paused: true))
        XCTAssertEqual(try answer.outcome.get(), ["_ended": "paused"])
    }

    func testAClientsStopEndsAFinishedStreamButNotAFailedOrPausedOne() throws {
        var aborted = StreamEnd()
        aborted.stopped(by: .aborted)
        aborted.finalMessage(["text": ""])
        XCTAssertEqual(
            try aborted.callReturned(.success([:]), fds: [])?.outcome.get(), ["text": "", "_ended": "aborted"])

        var failed = StreamEnd()
        failed.stopped(by: .cancelled)
        failed.finalMessage([:])
        let answer = failed.callReturned(.failure(RPCError(code: -32003, message: "runtime error")), fds: [])
        XCTAssertEqual(try answer?.outcome.get()["_ended"], "error")

        var paused = StreamEnd()
        paused.stopped(by: .cancelled)
        XCTAssertEqual(
            try paused.callReturned(.success([:]), fds: [], paused: true)?.outcome.get(), ["_ended": "paused"])
    }

    func testALimitMetIsTheEndingOfAFinishedStreamOnly() throws {
        let limit = StreamEnd.Limit(ending: "max_tokens", count: ["perf", "generate_tokens"], most: 3)
        var met = StreamEnd(limit: limit)
        met.finalMessage(["perf": ["generate_tokens": 3]])
        XCTAssertEqual(try met.callReturned(.success([:]), fds: [])?.outcome.get()["_ended"], "max_tokens")

        var under = StreamEnd(limit: limit)
        under.finalMessage(["perf": ["generate_tokens": 2]])
        XCTAssertEqual(try under.callReturned(.success([:]), fds: [])?.outcome.get()["_ended"], "finished")

        var stopped = StreamEnd(limit: limit)
        stopped.stopped(by: .aborted)
        stopped.finalMessage(["perf": ["generate_tokens": 3]])
        XCTAssertEqual(try stopped.callReturned(.success([:]), fds: [])?.outcome.get()["_ended"], "aborted")
    }

    func testAHostsDeathIsTheAnswerAndLetsAKeptReturnsDescriptorsGo() throws {
        var end = StreamEnd(outlivesCall: true)
        var pair: [Int32] = [-1, -1]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair), 0)
        defer { close(pair[1]) }
        XCTAssertNil(end.callReturned(.success(["return": 0]), fds: [pair[0]]))
        let crashed = RPCError(code: RPCError.Code.runtimeCrashed, message: "the rkllm runtime crashed: SIGSEGV")
        let answer = end.hostDied(crashed)
        XCTAssertThrowsError(try answer.outcome.get()) { XCTAssertEqual(($0 as? RPCError)?.code, crashed.code) }
        XCTAssertEqual(answer.fds, [])
        XCTAssertEqual(fcntl(pair[0], F_GETFD), -1, "the kept descriptor is closed")
    }

    func testEndingsAreNamedOnceForTheDaemonAndItsClients() {
        for ending in StreamEnding.common + [.paused, .limit("max_tokens")] {
            XCTAssertEqual(StreamEnding(name: ending.name), ending)
        }
    }
}
