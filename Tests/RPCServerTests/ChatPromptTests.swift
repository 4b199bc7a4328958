import BindingRuntime
import XCTest

@testable import HTTPFront

/// A chat's messages as the one prompt the runtime takes: the last message is the turn, the system
/// messages and earlier turns come before it as text.
final class ChatPromptTests: XCTestCase {
    func testTheLastMessageIsTheTurnAndTheRestComesBefore() throws {
        XCTAssertEqual(try ChatPrompt.compose([["role": "user", "content": "hi"]]).prompt, "hi")
        let conversation: JSONValue = [
            ["role": "system", "content": "Be brief."], ["role": "user", "content": "hello"],
            ["role": "assistant", "content": [["type": "text", "text": "Hi there."]]],
            ["role": "user", "content": "and goodbye"],
        ]
        let composed = try ChatPrompt.compose(conversation)
        XCTAssertEqual(composed.prompt, "Be brief.\n\nUser: hello\nAssistant: Hi there.\nUser: and goodbye")
        XCTAssertEqual(composed.role, "user")
        let toolResult = try ChatPrompt.compose([
            ["role": "user", "content": "weather?"], ["role": "tool", "content": "sunny"],
        ])
        XCTAssertEqual(toolResult.role, "tool")
        XCTAssertEqual(toolResult.prompt, "User: weather?\nsunny")
    }

    func testWhatIsNoChat() {
        for messages: JSONValue in [
            [], ["role": "user"], [["role": "user", "content": "x"], ["role": "assistant", "content": "y"]],
            [["role": "wizard", "content": "x"]], [["role": "user", "content": 3]],
        ] {
            XCTAssertThrowsError(try ChatPrompt.compose(messages), "\(messages)")
        }
    }
}
