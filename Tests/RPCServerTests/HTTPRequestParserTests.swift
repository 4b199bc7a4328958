import HTTPFront
import XCTest

/// The HTTP front's request parser: requests in any pieces, pipelined, chunked, and the requests it
/// refuses with the status that says why.
final class HTTPRequestParserTests: XCTestCase {
    private func parse(_ pieces: [String], maxBody: Int = 1 << 20) -> (requests: [HTTPRequest], error: HTTPParseError?)
    {
        var parser = HTTPRequestParser(maxHeadBytes: 1024, maxHeaders: 8, maxBodyBytes: maxBody)
        var requests: [HTTPRequest] = []
        for piece in pieces {
            Array(piece.utf8).withUnsafeBytes { parser.append($0) }
            do {
                while let request = try parser.next() { requests.append(request) }
            } catch {
                return (requests, error)
            }
        }
        return (requests, nil)
    }

    func testARequestInAnyPiecesAndPipelined() {
        let text =
            "POST /v1/completions?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /api/tags HTTP/1.0\r\n\r\n"
        let whole = parse([text])
        XCTAssertNil(whole.error)
        XCTAssertEqual(whole.requests.map(\.method), ["POST", "GET"])
        XCTAssertEqual(whole.requests[0].path, "/v1/completions")
        XCTAssertEqual(whole.requests[0].header("host"), "h")
        XCTAssertEqual(whole.requests[0].body, Array("hello".utf8))
        XCTAssertTrue(whole.requests[0].keepAlive)
        XCTAssertFalse(whole.requests[1].keepAlive, "HTTP/1.0 closes unless asked to keep alive")
        XCTAssertEqual(parse(text.map(String.init)).requests, whole.requests, "a byte at a time")
        // Bare LFs end lines too; empty lines before a request are skipped.
        XCTAssertEqual(parse(["\r\nGET / HTTP/1.1\nConnection: close\n\n"]).requests.first?.keepAlive, false)
    }

    func testChunkedBodiesWithExtensionsAndTrailers() {
        let result = parse([
            "POST /api/chat HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;name=x\r\nhello\r\n",
            "6\r\n world\r\n0\r\nExpires: never\r\n\r\n",
        ])
        XCTAssertNil(result.error)
        XCTAssertEqual(result.requests.first?.body, Array("hello world".utf8))
    }

    func testWhatIsRefusedAndItsStatus() {
        let cases: [(String, Int, Int)] = [
            ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc", 400, 1 << 20),
            ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, 1 << 20),
            ("POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n", 400, 1 << 20),
            ("POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", 400, 1 << 20),
            // A sign in a chunk size (the fuzzer's find: a size below zero).
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n", 400, 1 << 20),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n", 400, 1 << 20),
            ("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", 413, 10),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", 413, 10),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, 1 << 20),
            ("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, 1 << 20),
            ("GET / HTTP/2.0\r\n\r\n", 505, 1 << 20),
            ("GET /\r\n\r\n", 400, 1 << 20),
            ("GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", 400, 1 << 20),
            ("GET / HTTP/1.1\r\n" + String(repeating: "A: b\r\n", count: 9) + "\r\n", 431, 1 << 20),
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "y", count: 2000), 431, 1 << 20),
        ]
        for (text, status, maxBody) in cases {
            XCTAssertEqual(parse([text], maxBody: maxBody).error?.status, status, text.prefix(60).debugDescription)
        }
    }

    /// Found by the fuzz target: a chunked body read a byte at a time counted the body so far as
    /// part of the chunk's closing line, and refused it.
    func testAChunkedBodyWithTrailersReadsTheSameAByteAtATime() {
        let text =
            "POST /api/chat HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n"
        let whole = parse([text])
        XCTAssertNil(whole.error)
        XCTAssertEqual(whole.requests.first?.body, Array("hello".utf8))
        let single = parse(text.map(String.init))
        XCTAssertNil(single.error)
        XCTAssertEqual(single.requests, whole.requests)
    }

    func testAnIncompleteRequestWaits() {
        var parser = HTTPRequestParser(maxBodyBytes: 100)
        Array("GET / HTTP/1.1\r\nHost:".utf8).withUnsafeBytes { parser.append($0) }
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.phase, .head, "a request has begun and is not complete")
    }
}
