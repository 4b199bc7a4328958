/// Bytes written through a pointer into memory the caller holds (a stack buffer): short JSON text
/// is composed there and appended to an array at once, where appending piece by piece costs a
/// uniqueness and capacity check per piece. Every put checks the room left and writes nothing
/// when the text does not fit.
public struct ByteCursor {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    @usableFromInline var used = 0

    @inlinable
    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    /// What was written so far.
    @inlinable
    public var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: used) }

    @discardableResult @inlinable
    public mutating func put(_ text: StaticString) -> Bool {
        put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @discardableResult @inlinable
    public mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard capacity - used >= bytes.count else { return false }
        if let source = bytes.baseAddress { (base + used).update(from: source, count: bytes.count) }
        used += bytes.count
        return true
    }

    @discardableResult @inlinable
    public mutating func put(byte: UInt8) -> Bool {
        guard used < capacity else { return false }
        base[used] = byte
        used += 1
        return true
    }

    /// The decimal digits of `value`.
    @discardableResult @inlinable
    public mutating func put(unsigned value: UInt64) -> Bool {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        guard capacity - used >= digits else { return false }
        // Right to left (a plain loop: a stride costs generic calls per number).
        rest = value
        var i = used + digits
        repeat {
            i -= 1
            base[i] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        } while rest > 0
        used += digits
        return true
    }

    @discardableResult @inlinable
    public mutating func put(integer value: Int64) -> Bool {
        let start = used
        guard value >= 0 else {
            guard put(byte: UInt8(ascii: "-")), put(unsigned: value.magnitude) else { return rollBack(to: start) }
            return true
        }
        return put(unsigned: UInt64(value))
    }

    /// A value whose text is short by nature (null, a boolean, an integer) or a string of plain
    /// ASCII text; false for anything else (numbers with a fraction, arrays, objects, strings to
    /// escape), or when it does not fit.
    @inlinable
    public mutating func put(scalar value: JSONValue) -> Bool {
        switch value {
        case .null: return put("null")
        case .bool(let flag): return flag ? put("true") : put("false")
        case .int(let number): return put(integer: number)
        case .uint(let number): return put(unsigned: number)
        case .string(let text):
            // Copied and checked in one pass; the first byte to escape ends it.
            let written = text.utf8.withContiguousStorageIfAvailable { bytes in
                guard capacity - used >= bytes.count + 2 else { return false }
                let quoted = base + used + 1
                for i in 0..<bytes.count {
                    let byte = bytes[i]
                    guard JSONScan.isPlain(byte) else { return false }
                    quoted[i] = byte
                }
                base[used] = UInt8(ascii: "\"")
                quoted[bytes.count] = UInt8(ascii: "\"")
                used += bytes.count + 2
                return true
            }
            return written == true
        case .double, .array, .object: return false
        }
    }

    @usableFromInline
    mutating func rollBack(to start: Int) -> Bool {
        used = start
        return false
    }
}
