/// Writes `JSONValue` as compact JSON bytes (no spaces), appending to a buffer so that replies go
/// straight into a connection's output without intermediate strings.
extension JSONValue {
    public func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
        case .bool(let b):
            b
                ? out.append(contentsOf: [0x74, 0x72, 0x75, 0x65])
                : out.append(contentsOf: [0x66, 0x61, 0x6C, 0x73, 0x65])
        case .int(let i): JSONValue.writeInteger(i, into: &out)
        case .uint(let u): JSONValue.writeUnsigned(u, into: &out)
        case .double(let d):
            if d.isFinite {
                if abs(d) < 1e15, let whole = Int64(exactly: d) {
                    JSONValue.writeInteger(whole, into: &out)
                    out.append(contentsOf: [0x2E, 0x30])  // ".0": still a float to a typed reader
                } else {
                    out.append(contentsOf: d.description.utf8)
                }
            } else {
                out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C])
            }
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, pair) in object.pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(pair.key, into: &out)
                out.append(UInt8(ascii: ":"))
                pair.value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The compact JSON text.
    public var jsonText: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func writeUnsigned(_ value: UInt64, into out: inout [UInt8]) {
        if value < 10 { return out.append(UInt8(ascii: "0") + UInt8(value)) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var digits = ByteCursor(buffer)
            digits.put(unsigned: value)
            out.append(contentsOf: digits.written)
        }
    }

    static func writeInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 {
            out.append(UInt8(ascii: "-"))
            writeUnsigned(value.magnitude, into: &out)
        } else {
            writeUnsigned(UInt64(value), into: &out)
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        // Native strings (nearly all) are read where they are; others are made contiguous first.
        if s.utf8.withContiguousStorageIfAvailable({ writeQuoted($0, into: &out) }) == nil {
            var s = s
            s.withUTF8 { writeQuoted($0, into: &out) }
        }
    }

    private static func writeQuoted(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        guard let base = bytes.baseAddress else { return out.append(UInt8(ascii: "\"")) }
        var runStart = 0
        var i = JSONScan.firstSpecial(base, from: 0, to: bytes.count)
        while i < bytes.count {
            let byte = bytes[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                i = JSONScan.firstSpecial(base, from: i + 1, to: bytes.count)  // UTF-8 goes as it is
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
            runStart = i + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [
                    UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)],
                    hex[Int(byte & 0xF)],
                ])
            }
            i = JSONScan.firstSpecial(base, from: i + 1, to: bytes.count)
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }
}
