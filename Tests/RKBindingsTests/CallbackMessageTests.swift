import CRKLLM_1_2_3
import Foundation
import RKLLMBindings_1_2_3
import XCTest

@testable import BindingRuntime

/// The generated LLMResultCallback trampoline, driven as a runtime would: one message per call,
/// the result's non-empty fields, `_callback_state` by number, the final states flagged, and text
/// split inside a UTF-8 character delivered whole.
final class CallbackMessageTests: XCTestCase {
    private final class Received: @unchecked Sendable {
        var messages: [(JSONObject, Bool)] = []
    }

    private func send(
        _ bytes: [UInt8]?, token: Int32, state: LLMCallState, perf: RKLLMPerfStat = RKLLMPerfStat(),
        to sink: CallbackSink
    ) -> Int32 {
        var result = RKLLMResult()
        result.token_id = token
        result.perf = perf
        guard let bytes else { return Callbacks.LLMResultCallback(&result, sink.userdata, state) }
        return (bytes + [0]).withUnsafeBufferPointer { text in
            text.withMemoryRebound(to: CChar.self) {
                result.text = $0.baseAddress
                return Callbacks.LLMResultCallback(&result, sink.userdata, state)
            }
        }
    }

    func testMessagesCarryTheFilledFieldsTheStateAndWholeCharacters() {
        let received = Received()
        let sink = CallbackSink { message, final in
            received.messages.append((message, final))
            return 0
        }
        let snowman = Array("☃".utf8)  // three bytes, split 2 + 1 across tokens
        XCTAssertEqual(send(Array("Hi".utf8), token: 7, state: RKLLM_RUN_NORMAL, to: sink), 0)
        _ = send(Array(snowman[0..<2]), token: 8, state: RKLLM_RUN_WAITING, to: sink)
        _ = send([snowman[2]] + Array("!".utf8), token: 9, state: RKLLM_RUN_NORMAL, to: sink)
        _ = send(
            nil, token: -1, state: RKLLM_RUN_FINISH,
            perf: RKLLMPerfStat(
                prefill_time_ms: 1.5, prefill_tokens: 3, generate_time_ms: 2, generate_tokens: 3, memory_usage_mb: 0),
            to: sink)

        let messages = received.messages
        XCTAssertEqual(messages.count, 4)
        XCTAssertEqual(
            messages[0].0, ["text": "Hi", "token_id": 7, StreamMember.callbackState: 0],
            "no empty hidden layer, logits or perf")
        XCTAssertEqual(messages[1].0["text"], .string(""), "the incomplete character is held back")
        XCTAssertEqual(messages[1].0[StreamMember.callbackState], .int(1))
        XCTAssertEqual(messages[2].0["text"], .string("☃!"))
        XCTAssertEqual(messages.map(\.1), [false, false, false, true], "only FINISH ends the stream")
        XCTAssertNil(messages[3].0["text"], "a NULL text is left out")
        XCTAssertEqual(messages[3].0["perf"]?["prefill_tokens"], .int(3))
        XCTAssertEqual(messages[3].0[StreamMember.callbackState], .int(2))
    }

    func testTheSinksAnswerIsTheCallbacksReturnValue() {
        let sink = CallbackSink { _, _ in 1 }
        XCTAssertEqual(send(Array("x".utf8), token: 1, state: RKLLM_RUN_NORMAL, to: sink), 1)
        XCTAssertEqual(Callbacks.LLMResultCallback(nil, nil, RKLLM_RUN_NORMAL), 0, "no sink: continue")
    }

    func testUTF8StreamHoldsOnlyAnIncompleteTail() {
        XCTAssertEqual(UTF8Stream.incompleteTail([0x41]), 0)
        XCTAssertEqual(UTF8Stream.incompleteTail([0xE2, 0x98]), 2)
        XCTAssertEqual(UTF8Stream.incompleteTail([0xE2, 0x98, 0x83]), 0)
        XCTAssertEqual(UTF8Stream.incompleteTail([0xF0, 0x9F, 0x98]), 3)
        XCTAssertEqual(
            UTF8Stream.incompleteTail([0x80]), 0, "a stray continuation byte is not held (it becomes U+FFFD)")
        XCTAssertEqual(UTF8Stream.incompleteTail([]), 0, "nothing")
    }

    func testTheVendorsWaitingCallbackWithAnEmptyTextShowsNothing() {
        // The vendor's runtime: WAITING with an empty text, then the whole character with NORMAL.
        let received = Received()
        let sink = CallbackSink { message, final in
            received.messages.append((message, final))
            return 0
        }
        _ = send([], token: 8, state: RKLLM_RUN_WAITING, to: sink)
        _ = send(Array("☃".utf8), token: 9, state: RKLLM_RUN_NORMAL, to: sink)
        XCTAssertEqual(received.messages.map { $0.0["text"] }, [.string(""), .string("☃")])
    }
}
