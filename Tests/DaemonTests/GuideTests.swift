import BindingRuntime
import Foundation
import XCTest

/// Every Python snippet of docs/GUIDE.md runs as written against a daemon on the simulated
/// runtimes: the first (the guide's `Client`) before each of the others, each in a process of its
/// own, one after another.
final class GuideTests: XCTestCase {
    static let guide = URL(fileURLWithPath: Built.models).deletingLastPathComponent().appending(path: "docs/GUIDE.md")

    /// The ```python blocks of the guide, in order.
    static func snippets() throws -> [String] {
        let text = try String(contentsOf: guide, encoding: .utf8)
        var blocks: [String] = []
        var current: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```python" {
                current = []
            } else if current != nil, line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current?.append(line)
            }
        }
        return blocks
    }

    func testEverySnippetOfTheGuideRuns() throws {
        let snippets = try Self.snippets()
        XCTAssertGreaterThan(snippets.count, 8, "the guide's snippets")
        // Tokens 20 ms apart: a snippet that stops a run mid-reply has time to.
        let daemon = try RKLLMTests.simulated([
            "RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"), "RKLLM_SIM_TOKEN_US": "20000",
        ])
        defer { daemon.assertStopsCleanly() }
        let watcher = try Client(daemon.socket)
        for (number, snippet) in snippets.enumerated().dropFirst() {
            let (status, printed) = try runToEnd(
                "/usr/bin/python3", ["-c", snippets[0] + "\n\n" + snippet],
                environment: ["RKLLM_UDS_PATH": daemon.socket, "PATH": "/usr/bin:/bin"])
            XCTAssertEqual(status, 0, "snippet \(number):\n\(snippet)\n---\n\(printed)")
            // The next snippet starts once the daemon has seen this one's connection go (and so
            // released what it held): only the watcher is left.
            while try watcher.call("server.stats")["connections"]?["open"] != 1 { usleep(1000) }
        }
    }
}
