import BindingRuntime
import RPCServer
import Wire

/// A fuzz target over what a client controls: line framing, the JSON reader, the JSON-RPC envelope
/// (a request reads the same alone and in a batch), the writer (a parsed value must write and
/// re-read to itself), the splice of a large request's params, and the HTTP front's request parser
/// (HTTPRequests.swift).
///
/// libFuzzer (CI, `scripts/fuzz.sh`): built with `-sanitize=fuzzer,address -D FUZZING`,
/// `LLVMFuzzerRunDriver` calls `LLVMFuzzerTestOneInput`. A plain build's `@main` runs the
/// same function over pseudo-random inputs, so the target always compiles and runs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    fuzzHTTPRequests(bytes)
    fuzzDialectBodies(bytes)
    var framer = LineFramer(maxLineBytes: 4096)
    // Two reads split where the first byte says, as a socket might deliver them.
    let split = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    for chunk in [
        UnsafeRawBufferPointer(rebasing: bytes[0..<split]), UnsafeRawBufferPointer(rebasing: bytes[split...]),
    ] {
        framer.feed(chunk) { event in
            guard case .line(let line) = event else { return }
            precondition(line.count <= 4096, "framer let an over-long line through")
            // The request reader agrees with the JSON parser on what is JSON, and reads a request
            // in a batch as it reads it alone.
            let message = try? JSONRPC.message(bytes: line, knownMethod: "server.ping")
            // The plain reader (tried first, comparing bytes with the known method) reads what the
            // general reader reads.
            let generally = try? JSONRPC.message(bytes: line, plainFirst: false)
            switch (message, generally) {
            case (.single(.success(let a))?, .single(.success(let b))?):
                precondition(a.id == b.id && a.method == b.method && a.params == b.params, "the two readers differ")
            case (nil, nil), (.single(.failure)?, .single(.failure)?), (.batch?, .batch?): break
            default: preconditionFailure("the plain and the general reader disagree")
            }
            checkLastRequest(line)
            guard let value = try? JSONParser.parse(line) else {
                precondition(message == nil, "the request reader accepted invalid JSON")
                return
            }
            guard let message else { preconditionFailure("the request reader refused valid JSON") }
            if case .single(let alone) = message {
                let inBatch = Array("[".utf8) + Array(line) + Array("]".utf8)
                let wrapped = inBatch.withUnsafeBytes { bytes in
                    Result { () throws(JSONParser.Error) in try JSONRPC.message(bytes: bytes) }
                }
                // One level deeper than alone: may pass the nesting bound.
                if case .failure(let error) = wrapped, error.message.hasPrefix("nesting") { return }
                guard case .success(.batch(let items)) = wrapped, items.count == 1 else {
                    preconditionFailure("a request alone reads but not in a batch")
                }
                switch (alone, items[0]) {
                case (.success(let a), .success(let b)):
                    precondition(
                        a.method == b.method && a.id == b.id && a.params == b.params, "alone and in a batch differ")
                case (.failure(let a), .failure(let b)):
                    precondition(a.error.code == b.error.code && a.id == b.id, "alone and in a batch differ")
                default: preconditionFailure("alone and in a batch disagree")
                }
            }
            var written: [UInt8] = []
            value.write(into: &written)
            guard let again = try? JSONParser.parse(written) else {
                preconditionFailure("written JSON does not parse: \(value)")
            }
            precondition(again.jsonText == value.jsonText, "write/read is not stable")
            checkSplice(Array(line), value)
        }
    }
    return 0
}

/// A value replaced in the text as it came (what the daemon forwards of a large request) reads as
/// the text read with that value set.
func checkSplice(_ text: [UInt8], _ value: JSONValue) {
    let marker: JSONValue = ["spliced": [1, "x"]]
    func check(_ splice: JSONSplice, reads expected: JSONValue) {
        var spliced: [UInt8] = []
        splice.write(into: &spliced)
        precondition((try? JSONParser.parse(spliced)) == expected, "the splice changed more than its value")
    }
    switch value {
    case .array(var items) where !items.isEmpty:
        guard let splice = JSONSplice(text, replacing: [(.position(0), marker)]) else {
            preconditionFailure("an array's first value could not be replaced")
        }
        items[0] = marker
        check(splice, reads: .array(items))
    case .object(var object):
        guard let name = object.pairs.first?.key, let splice = JSONSplice(text, replacing: [(.member(name), marker)])
        else { return }  // a name given twice is refused
        object[name] = marker
        check(splice, reads: .object(object))
    case .array: return
    default:
        precondition(JSONSplice(text, replacing: []) == nil, "a splice into what is not an object or array")
    }
}

/// The line as the last request: the same bytes with another id in place of its own read as the
/// general reader reads them, or are left to it.
func checkLastRequest(_ line: UnsafeRawBufferPointer) {
    var last = PlainRequest.Last()
    var idBytes: Range<Int>?
    _ = PlainRequest.read(line, knownMethod: "server.ping") { request, at in
        idBytes = at
        if let at { last.remember(line, idBytes: at, of: request) }
    }
    guard let idBytes else { return }
    for id in ["7", "-12", "123456789012345678", "1234567890123456789", #""x""#, "null", "01", "1e2", "7 ", ""] {
        let variant = Array(line[..<idBytes.lowerBound]) + Array(id.utf8) + Array(line[idBytes.upperBound...])
        var read: Request?
        _ = variant.withUnsafeBytes { bytes in last.repeated(bytes) { read = $0 } }
        guard let read else { continue }
        guard case .single(.success(let general))? = try? variant.withUnsafeBytes({ try JSONRPC.message(bytes: $0) })
        else { preconditionFailure("the last request's reader took what the general reader refuses") }
        precondition(
            read.id == general.id && read.method == general.method && read.params == general.params,
            "the last request's reader and the general reader differ")
    }
}

#if FUZZING
    /// SwiftPM links an executable's entry as `<module>_main`; under libFuzzer it starts the fuzzer.
    @_silgen_name("LLVMFuzzerRunDriver")
    func runFuzzerDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
    ) -> CInt

    @_cdecl("rkllm_fuzz_main")
    func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var argc = argc
        var argv = argv
        return runFuzzerDriver(&argc, &argv) { data, size in fuzzOne(data, size) }
    }
#else
    /// Without libFuzzer: a few thousand pseudo-random inputs built from JSON fragments.
    @main
    struct RandomInputs {
        static func main() {
            var generator = SystemRandomNumberGenerator()
            let fragments = [
                #"{"jsonrpc":"2.0","id":1,"method":"m","params":["#, "]}", "[", "]", "{", "}", "\"", "\\u00e9",
                "\\ud800",
                "1e999", "-0", "123456789012345678901234567890", "\n", "\r\n", "null", "true", ",", ":", "\u{FF}",
            ]
            for _ in 0..<5000 {
                var input: [UInt8] = []
                for _ in 0..<Int.random(in: 0..<40, using: &generator) {
                    if Bool.random(using: &generator) {
                        input += Array(fragments.randomElement(using: &generator)!.utf8)
                    } else {
                        input.append(UInt8.random(in: 0...255, using: &generator))
                    }
                }
                input.append(0)  // never empty: a valid base address
                _ = input.withUnsafeBufferPointer { fuzzOne($0.baseAddress!, $0.count - 1) }
            }
            print("rkllm-fuzz: 5000 random inputs, no failure")
        }
    }
#endif
