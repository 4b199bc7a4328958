import BindingRuntime
import Glibc

/// The request shape clients send nearly always, read in one pass over its bytes with no value
/// made but the ones the request keeps: an object of `"jsonrpc":"2.0"`, an integer or plain string
/// `id`, a plain string `method` and array or object `params`, each once, names and strings in
/// ASCII without escapes or control characters. Anything else (another member, an escape, a duplicate, a
/// batch, whatever needs an error) is nil here and read by the general reader, which makes the
/// same request of whatever this reads: the fuzz target checks that on every input.
enum PlainRequest {
    /// `knownMethod`: the method clients are likely to name, given back when named (no new String).
    static func read(_ line: UnsafeRawBufferPointer, knownMethod: String) -> Request? {
        guard let base = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var reader = Reader(base: base, end: line.count)
        reader.skipSpace()
        guard reader.take(UInt8(ascii: "{")) else { return nil }
        var version = false
        var id: RequestID?
        var method: String?
        var params: JSONValue?
        repeat {
            reader.skipSpace()
            guard let name = reader.plainString() else { return nil }
            reader.skipSpace()
            guard reader.take(UInt8(ascii: ":")) else { return nil }
            reader.skipSpace()
            switch reader.word(name) {
            case Names.jsonrpc where !version:
                guard let value = reader.plainString(), reader.word(value) == Names.version else { return nil }
                version = true
            case Names.id where id == nil:
                guard let value = reader.idValue() else { return nil }
                id = .value(value)
            case Names.method where method == nil:
                guard let text = reader.plainString() else { return nil }
                method = reader.string(text, known: knownMethod)
            case Names.params where params == nil:
                guard reader.next == UInt8(ascii: "[") || reader.next == UInt8(ascii: "{") else { return nil }
                // Read as the general reader reads it: inside the request object.
                var parser = JSONParser(line, at: reader.position, depth: 1)
                guard let value = try? parser.value() else { return nil }
                params = value
                reader.position = parser.offset
            default:
                return nil
            }
            reader.skipSpace()
        } while reader.take(UInt8(ascii: ","))
        guard reader.take(UInt8(ascii: "}")), version, let method else { return nil }
        reader.skipSpace()
        guard reader.position == reader.end else { return nil }
        return Request(id: id, method: method, params: params)
    }

    /// The member names and the version, as `Reader.word` packs them (bytes little-endian, the
    /// length in the top byte): one integer compare each.
    private enum Names {
        static let jsonrpc: UInt64 = 0x0763_7072_6E6F_736A  // "jsonrpc"
        static let id: UInt64 = 0x0200_0000_0000_6469  // "id"
        static let method: UInt64 = 0x0600_646F_6874_656D  // "method"
        static let params: UInt64 = 0x0600_736D_6172_6170  // "params"
        static let version: UInt64 = 0x0300_0000_0030_2E32  // "2.0"
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

        /// Up to 7 bytes and their count in one integer (0 for longer text).
        func word(_ text: Range<Int>) -> UInt64 {
            guard text.count <= 7 else { return 0 }
            guard end - text.lowerBound >= 8 else {
                var word: UInt64 = 0
                for i in text.reversed() { word = word << 8 | UInt64(base[i]) }
                return word | UInt64(text.count) << 56
            }
            // Eight bytes from the line (the name's closing quote follows it), the name's kept.
            let loaded = UInt64(littleEndian: UnsafeRawPointer(base + text.lowerBound).loadUnaligned(as: UInt64.self))
            return loaded & (1 << (8 * UInt64(text.count)) - 1) | UInt64(text.count) << 56
        }

        /// The text as a String: `known` itself when spelled the same (no new String made).
        func string(_ text: Range<Int>, known: String) -> String {
            let bytes = UnsafeBufferPointer(start: base + text.lowerBound, count: text.count)
            if known.utf8.withContiguousStorageIfAvailable({
                $0.count == bytes.count && memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0
            }) == true {
                return known
            }
            return String(decoding: bytes, as: UTF8.self)
        }

        /// An id as it is written back unchanged: an integer of at most 18 digits (no leading zero,
        /// no `-0`, no fraction or exponent), a plain string, or null.
        mutating func idValue() -> JSONValue? {
            switch next {
            case UInt8(ascii: "\""):
                return plainString().map {
                    .string(
                        String(
                            decoding: UnsafeBufferPointer(start: base + $0.lowerBound, count: $0.count), as: UTF8.self))
                }
            case UInt8(ascii: "n"):
                guard end - position >= 4, base[position + 1] == UInt8(ascii: "u"),
                    base[position + 2] == UInt8(ascii: "l"),
                    base[position + 3] == UInt8(ascii: "l")
                else { return nil }
                position += 4
                return .null
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
