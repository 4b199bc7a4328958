import Foundation

public enum LogLevel: Int, Sendable, Comparable {
    case debug = 0
    case info, warn, error

    var label: String { ["DEBUG", "INFO", "WARN", "ERROR"][rawValue] }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// One line per event on stderr: UTC time, level, connection id when there is one, message. Each line
/// is a single write(2), so lines from different threads never interleave.
public struct Logger: Sendable {
    public let level: LogLevel

    public init(level: LogLevel) { self.level = level }

    public func debug(_ message: @autoclosure () -> String, connection: UInt64? = nil) {
        log(.debug, message(), connection)
    }
    public func info(_ message: @autoclosure () -> String, connection: UInt64? = nil) {
        log(.info, message(), connection)
    }
    public func warn(_ message: @autoclosure () -> String, connection: UInt64? = nil) {
        log(.warn, message(), connection)
    }
    public func error(_ message: @autoclosure () -> String, connection: UInt64? = nil) {
        log(.error, message(), connection)
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, _ connection: UInt64? = nil) {
        guard level >= self.level else { return }
        var line = Self.timestamp() + " " + level.label
        if let connection { line += " conn=\(connection)" }
        line += " " + message() + "\n"
        Self.writeLine(line)
    }

    static func writeLine(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }

    /// `2026-11-25T17:40:01.123Z`
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let millis = Int(now.tv_nsec / 1_000_000)
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
