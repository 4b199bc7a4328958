import Wire
import XCTest

@testable import RPCServer

final class FramingTests: XCTestCase {
    /// Feeds the chunks and returns what came out: lines as text, over-long lines as "<overlong N>".
    private func frame(_ chunks: [String], max: Int = 16) -> [String] {
        var framer = LineFramer(maxLineBytes: max)
        var out: [String] = []
        for chunk in chunks {
            Array(chunk.utf8).withUnsafeBytes { raw in
                framer.feed(raw) { event in
                    switch event {
                    case .line(let line): out.append(String(decoding: line, as: UTF8.self))
                    case .overlong(let n): out.append("<overlong \(n)>")
                    }
                }
            }
        }
        return out
    }

    func testLinesSplitAnywhereAndCRLF() {
        XCTAssertEqual(frame(["a\nbb\r\nc", "cc\n", "\n  \n", "d"]), ["a", "bb", "ccc"])
        XCTAssertEqual(frame(["x", "y", "z\n"]), ["xyz"])
    }

    func testAnOverlongLineIsReportedOnceAndTheNextLineIsServed() {
        XCTAssertEqual(frame([String(repeating: "x", count: 40) + "\nok\n"]), ["<overlong 40>", "ok"])
        // Across reads: reported as soon as it is too long, skipped until its newline.
        XCTAssertEqual(
            frame([
                String(repeating: "x", count: 10), String(repeating: "x", count: 10), String(repeating: "x", count: 30),
                "x\nok\n",
            ]),
            ["<overlong 20>", "ok"])
        XCTAssertEqual(
            frame([String(repeating: "y", count: 10), String(repeating: "y", count: 7) + "\nnext\n"]),
            ["<overlong 17>", "next"])
    }

    func testAMaximalLineWithCRPasses() {
        let line = String(repeating: "z", count: 16)
        XCTAssertEqual(frame([line + "\r\n"]), [line])
        XCTAssertEqual(frame([String(line.prefix(8)), String(line.dropFirst(8)) + "\r\n"]), [line])
    }

    func testOutputQueueIsBounded() {
        var queue = OutputQueue(limit: 10)
        let six = { (out: inout [UInt8]) in out += [UInt8](repeating: 1, count: 6) }
        XCTAssertEqual(queue.append(six), .queued)
        XCTAssertEqual(
            queue.append { $0 += [UInt8](repeating: 2, count: 11) }, .tooLarge(bytes: 11), "one message over the bound")
        XCTAssertEqual(queue.pendingBytes, 6, "refused whole")
        XCTAssertEqual(queue.append(six), .full, "unread bytes over the bound")
        XCTAssertEqual(queue.pendingBytes, 12)
    }
}
