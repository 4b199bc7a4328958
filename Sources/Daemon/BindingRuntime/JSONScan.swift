/// The search every JSON string read and write starts with: the first byte that is not plain
/// ASCII text (a quote, a backslash, a control character, or a byte above 0x7F), eight bytes at a
/// time. Base64 frames of megabytes are strings with none: the search is their whole cost.
public enum JSONScan {
    /// The index in `start..<end` of `bytes` of the first such byte; `end` when there is none.
    /// Inlinable: the request reader calls it for every short name and value.
    @inlinable
    public static func firstSpecial(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        while end - index >= 8 {
            let word = UInt64(littleEndian: UnsafeRawPointer(bytes + index).loadUnaligned(as: UInt64.self))
            let stops = specials(word)
            if stops != 0 { return index + stops.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < end {
            if !isPlain(bytes[index]) { return index }
            index += 1
        }
        return end
    }

    /// Whether `byte` is plain ASCII text: not a quote, a backslash, a control character, or above 0x7F.
    @inlinable
    public static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x80 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    /// Whether `text` is plain ASCII text: nothing to escape, nothing above 0x7F.
    public static func isPlain(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            bytes.isEmpty || firstSpecial(bytes.baseAddress!, from: 0, to: bytes.count) == bytes.count
        }
    }

    /// The high bit of each byte of `word` that is special (exact up to the first one: the
    /// subtractions borrow only into the bytes after it, which are not read).
    @usableFromInline
    static func specials(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        return zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C)) | control | (word & highs)
    }
}
