import BindingRuntime
import Glibc

/// The request shape clients send nearly always, read in one pass over its bytes with no value
/// made but the ones the request keeps: an object of `"jsonrpc":"2.0"`, an integer or plain string
/// `id`, a plain string `method` and array or object `params`, each once, names and strings in
/// ASCII without escapes or control characters. Anything else (another member, an escape, a duplicate, a
/// batch, whatever needs an error) is nil here and read by the general reader, which makes the
/// same request of whatever this reads: the fuzz target checks that on every input.
public enum PlainRequest {
    /// `knownMethod`: the method clients are likely to name, given back when named (no new String);
    /// plain text (no quote, backslash or control character), or empty.
    public static func read(_ line: UnsafeRawBufferPointer, knownMethod: String) -> Request? {
        var request: Request?
        _ = read(line, knownMethod: knownMethod) { read, _ in request = read }
        return request
    }

    /// Reads the line and hands its request to `handle` with where its id's bytes are in the line;
    /// false (nothing handed) when the line is not of the plain shape. (Handing it on spares the
    /// server an optional request to destroy.)
    public static func read(
        _ line: UnsafeRawBufferPointer, knownMethod: String, _ handle: (Request, _ idBytes: Range<Int>?) -> Void
    ) -> Bool {
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var reader = Reader(base: base, end: line.count)
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return false }
        var version = false
        var id: RequestID?
        var idBytes: Range<Int>?
        var method: String?
        var params: JSONValue?
        var paramsText: [UInt8]?
        repeat {
            reader.skipSpace()
            guard let name = reader.memberName() else { return false }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return false }
            reader.skipSpace()
            switch name {
            case .jsonrpc where !version:
                guard reader.quoted(Names.version, count: 3) else { return false }
                version = true
            case .id where id == nil:
                let start = reader.position
                guard let value = reader.id() else { return false }
                id = value
                idBytes = start..<reader.position
            case .method where method == nil:
                guard let text = reader.methodName(known: knownMethod) else { return false }
                method = text
            case .params where params == nil:
                guard reader.next == UInt8(ascii: "[") || reader.next == UInt8(ascii: "{") else { return false }
                // Read as the general reader reads it: inside the request object.
                var parser = JSONParser(line, at: reader.position, depth: 1)
                guard let value = try? parser.value() else { return false }
                params = value
                if parser.offset - reader.position >= Request.keptParamsBytes {
                    paramsText = Array(UnsafeRawBufferPointer(rebasing: line[reader.position..<parser.offset]))
                }
                reader.position = parser.offset
            default:
                return false
            }
            reader.skipSpace()
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "}")), version, let method else { return false }
        reader.skipSpace()
        guard reader.position == reader.end else { return false }
        handle(Request(id: id, method: method, params: params, paramsText: paramsText), idBytes)
        return true
    }

    /// The last plain request with an id, as its bytes and what they were read as. Clients repeat
    /// a call with a new id each time (polling, pings, the same run again): a line that is the
    /// same bytes around an id of its own is that request with that id, read by comparing bytes
    /// instead of reading members. (The plain reader's outcome depends on nothing but the bytes,
    /// and an id's bytes end where its reader stops.)
    public struct Last {
        /// Longer lines are not kept: comparing them would cost more than it saves.
        static let maxBytes = 512
        private var bytes: [UInt8] = []
        private var idBytes = 0..<0
        private var method = ""
        private var params: JSONValue?

        public init() {}

        /// A plain line: the last request with another id, or else read by the plain reader and
        /// kept as the last. False (nothing handed) when the line is for the general reader.
        public mutating func read(_ line: UnsafeRawBufferPointer, knownMethod: String, _ handle: (Request) -> Void)
            -> Bool
        {
            if repeated(line, handle) { return true }
            return PlainRequest.read(line, knownMethod: knownMethod) { request, idBytes in
                if let idBytes { remember(line, idBytes: idBytes, of: request) }
                handle(request)
            }
        }

        /// Hands `line`'s request to `handle` when it is the last request with another id.
        /// (Mutating so that the server reads its own in place: a struct property of a class read
        /// by a non-mutating call is copied, its bytes and values retained and released.)
        public mutating func repeated(_ line: UnsafeRawBufferPointer, _ handle: (Request) -> Void) -> Bool {
            let suffixCount = bytes.count - idBytes.upperBound
            let idEnd = line.count - suffixCount
            guard !bytes.isEmpty, idEnd > idBytes.lowerBound, let base = line.baseAddress else { return false }
            let same = bytes.withUnsafeBytes { last in
                memcmp(base, last.baseAddress!, idBytes.lowerBound) == 0
                    && memcmp(base + idEnd, last.baseAddress! + idBytes.upperBound, suffixCount) == 0
            }
            guard same else { return false }
            var reader = Reader(base: base.assumingMemoryBound(to: UInt8.self), end: idEnd)
            reader.position = idBytes.lowerBound
            guard let id = reader.id(), reader.position == idEnd else { return false }
            handle(Request(id: id, method: method, params: params))
            return true
        }

        public mutating func remember(_ line: UnsafeRawBufferPointer, idBytes: Range<Int>, of request: Request) {
            guard line.count <= Self.maxBytes else { return }
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: line)
            self.idBytes = idBytes
            method = request.method
            params = request.params
        }
    }

    private enum Member { case jsonrpc, id, method, params }

    /// The member names with their closing quote and the version, as `Reader.word` loads them
    /// (bytes little-endian): one integer compare each, no search for the quote.
    private enum Names {
        static let jsonrpc: UInt64 = 0x2263_7072_6E6F_736A  // jsonrpc"
        static let id: UInt64 = 0x22_6469  // id"
        static let method: UInt64 = 0x22_646F_6874_656D  // method"
        static let params: UInt64 = 0x22_736D_6172_6170  // params"
        static let version: UInt64 = 0x22_302E_32  // 2.0"
    }

    /// A cursor over the line's bytes.
    private struct Reader {
        let base: UnsafePointer<UInt8>
        let end: Int
        var position = 0

        var next: UInt8? { position < end ? base[position] : nil }

        mutating func skipSpace() {
            while position < end {
                switch base[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < end, base[position] == byte else { return false }
            position += 1
            return true
        }

        /// A string of ASCII text without escapes, at its opening quote: where its bytes are in
        /// the line, consumed.
        mutating func plainString() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            position = JSONScan.firstSpecial(base, from: position, to: end)
            guard position < end, base[position] == UInt8(ascii: "\"") else { return nil }
            position += 1
            return start..<(position - 1)
        }

        /// The next `count` bytes (at most 8) in one integer, the first in the low byte; nil when
        /// the line ends first.
        @inline(__always) func word(at start: Int, count: Int) -> UInt64? {
            guard end - start >= count else { return nil }
            guard end - start >= 8 else {
                var word: UInt64 = 0
                for i in (start..<start + count).reversed() { word = word << 8 | UInt64(base[i]) }
                return word
            }
            let loaded = UInt64(littleEndian: UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self))
            return count == 8 ? loaded : loaded & (1 << (8 * UInt64(count)) - 1)
        }

        /// A member name among the four a request has, with its quotes, consumed: the bytes after
        /// the opening quote compared with each name and its closing quote.
        @inline(__always) mutating func memberName() -> Member? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let (member, name, count): (Member, UInt64, Int)
            switch next {
            case UInt8(ascii: "j"): (member, name, count) = (.jsonrpc, Names.jsonrpc, 8)
            case UInt8(ascii: "i"): (member, name, count) = (.id, Names.id, 3)
            case UInt8(ascii: "m"): (member, name, count) = (.method, Names.method, 7)
            case UInt8(ascii: "p"): (member, name, count) = (.params, Names.params, 7)
            default: return nil
            }
            guard word(at: position, count: count) == name else { return nil }
            position += count
            return member
        }

        /// A string of exactly the `count` bytes of `text` (its closing quote included), consumed.
        @inline(__always) mutating func quoted(_ text: UInt64, count: Int) -> Bool {
            guard take(UInt8(ascii: "\"")), word(at: position, count: count + 1) == text else { return false }
            position += count + 1
            return true
        }

        /// The method's name: `known` itself when the line names it (no new String made; `known`
        /// is plain text, so its bytes and a closing quote are that very string), else a plain string.
        mutating func methodName(known: String) -> String? {
            let count = known.utf8.count
            if next == UInt8(ascii: "\""), end - position > count + 1, base[position + 1 + count] == UInt8(ascii: "\""),
                known.utf8.withContiguousStorageIfAvailable({ name in
                    name.baseAddress.map { memcmp($0, base + position + 1, count) == 0 } ?? name.isEmpty
                }) == true
            {
                position += count + 2
                return known
            }
            return plainString().map {
                String(decoding: UnsafeBufferPointer(start: base + $0.lowerBound, count: $0.count), as: UTF8.self)
            }
        }

        /// An id as it is written back unchanged: an integer of at most 18 digits (no leading zero,
        /// no `-0`, no fraction or exponent), a plain string, or null.
        mutating func id() -> RequestID? {
            switch next {
            case UInt8(ascii: "\""):
                return plainString().map {
                    .value(
                        .string(
                            String(
                                decoding: UnsafeBufferPointer(start: base + $0.lowerBound, count: $0.count),
                                as: UTF8.self)))
                }
            case UInt8(ascii: "n"):
                guard end - position >= 4, base[position + 1] == UInt8(ascii: "u"),
                    base[position + 2] == UInt8(ascii: "l"),
                    base[position + 3] == UInt8(ascii: "l")
                else { return nil }
                position += 4
                return RequestID.null
            default:
                let negative = take(UInt8(ascii: "-"))
                let start = position
                var magnitude: Int64 = 0
                while position < end, position - start < 18 {
                    let digit = base[position] &- UInt8(ascii: "0")
                    guard digit < 10 else { break }
                    magnitude = magnitude * 10 + Int64(digit)
                    position += 1
                }
                let digits = position - start
                guard digits > 0, digits == 1 || base[start] != UInt8(ascii: "0"), !(negative && magnitude == 0)
                else { return nil }
                switch next ?? 0 {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                    return nil
                default: return .int(negative ? -magnitude : magnitude)
                }
            }
        }
    }
}
