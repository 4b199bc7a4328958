import Glibc

/// Splits a byte stream into lines (`\n`, a preceding `\r` dropped) of at most `maxLineBytes`.
/// A complete line inside one chunk is handed out without a copy; only a line split across reads
/// is buffered. An over-long line is reported once and skipped up to its newline, so the
/// connection goes on with the next line.
public struct LineFramer {
    public enum Event {
        case line(UnsafeRawBufferPointer)
        case overlong(bytes: Int)
    }

    public let maxLineBytes: Int
    private var partial: [UInt8] = []
    /// Skipping the rest of an over-long line, already reported.
    private var skipping = false

    public init(maxLineBytes: Int) { self.maxLineBytes = maxLineBytes }

    /// Bytes held for an incomplete line.
    public var bufferedBytes: Int { partial.count }

    /// Gives up the incomplete line (the daemon's memory for lines is spent): what is held is
    /// dropped and the rest of the line skipped. How many bytes were dropped.
    public mutating func abandonLine() -> Int {
        let dropped = partial.count
        partial = []
        skipping = true
        return dropped
    }

    public mutating func feed(_ chunk: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        var start = 0
        while start < chunk.count {
            guard let found = memchr(chunk.baseAddress! + start, 0x0A, chunk.count - start) else {
                keep(UnsafeRawBufferPointer(rebasing: chunk[start...]), handle)
                return
            }
            let newline = UnsafeRawPointer(found) - chunk.baseAddress!
            let segment = UnsafeRawBufferPointer(rebasing: chunk[start..<newline])
            start = newline + 1
            if skipping {
                skipping = false
                continue
            }
            if partial.isEmpty {
                emit(segment, handle)
            } else if partial.count + segment.count > maxLineBytes + 1 {
                handle(.overlong(bytes: partial.count + segment.count))
                partial = []
            } else {
                partial.append(contentsOf: segment)
                let line = partial
                partial = []
                line.withUnsafeBytes { emit($0, handle) }
            }
        }
    }

    private mutating func keep(_ rest: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        if skipping { return }
        if partial.count + rest.count > maxLineBytes + 1 {
            // Too long already: say so now, drop what is held, skip to the newline.
            handle(.overlong(bytes: partial.count + rest.count))
            skipping = true
            partial = []
        } else {
            partial.append(contentsOf: rest)
        }
    }

    private func emit(_ segment: UnsafeRawBufferPointer, _ handle: (Event) -> Void) {
        var line = segment
        if line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        if line.count > maxLineBytes {
            handle(.overlong(bytes: line.count))
        } else if line.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
            handle(.line(line))
        }
    }
}
