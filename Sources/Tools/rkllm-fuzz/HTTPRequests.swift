import HTTPFront

/// The HTTP request parser over what a client sends: the same bytes read whole, in two pieces (split
/// where the first byte says) and a byte at a time give the same requests and the same error, and
/// every request is within the bounds.
func fuzzHTTPRequests(_ bytes: UnsafeRawBufferPointer) {
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    let whole = requests(in: [bytes[...]])
    let halves = requests(in: [bytes[..<split], bytes[split...]])
    let single = requests(in: bytes.indices.map { bytes[$0..<($0 + 1)] })
    precondition(whole == halves && whole == single, "the pieces the bytes came in changed the requests")
    for request in whole.requests {
        precondition(request.body.count <= maxBody, "a body over the bound")
        precondition(request.headers.count <= 100, "more header fields than the bound")
    }
}

private let maxBody = 1024

private struct Outcome: Equatable {
    var requests: [HTTPRequest] = []
    var error: HTTPParseError?
}

private func requests(in pieces: [Slice<UnsafeRawBufferPointer>]) -> Outcome {
    var parser = HTTPRequestParser(maxHeadBytes: 2048, maxBodyBytes: maxBody)
    var outcome = Outcome()
    for piece in pieces {
        parser.append(UnsafeRawBufferPointer(rebasing: piece))
        do {
            while let request = try parser.next() { outcome.requests.append(request) }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}
