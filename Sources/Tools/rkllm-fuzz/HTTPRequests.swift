import BindingRuntime
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

/// The generation routes' body reading over what a client sends (the bytes as a body, a route
/// chosen by the first byte): never a trap, a refusal is a 400 that says something, and what a
/// body is read as stays within its fields' ranges.
func fuzzDialectBodies(_ bytes: UnsafeRawBufferPointer) {
    let route = bytes.isEmpty ? 0 : Int(bytes[0]) % DialectBodies.routes.count
    switch DialectBodies.read(route: route, body: Array(bytes)) {
    case .failure(let refusal):
        precondition(refusal.status == 400 && !refusal.message.isEmpty, "a refusal without a reason")
    case .success(let read):
        let count = 0...Int(Int32.max)
        precondition(read.maxTokens.map(count.contains) ?? true, "max_tokens past its range")
        precondition(read.topK.map(count.contains) ?? true, "top_k past its range")
        for value in [read.temperature, read.topP] {
            precondition(value.map { $0.isFinite && $0 >= 0 } ?? true, "a sampling value past its range")
        }
        precondition(
            read.keepAlive.map { $0 == -1 || (0...CheckedNumbers.maxDurationSeconds).contains($0) } ?? true,
            "keep_alive past its range")
    }
}
