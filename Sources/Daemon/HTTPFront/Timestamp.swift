import BindingRuntime
import Glibc

/// A UTC time as RFC 3339 text (`2026-12-02T00:30:00.123Z`), as Ollama's messages carry it:
/// formatted by hand, as it is written once per streamed token.
enum Timestamp {
    static func rfc3339(secondsSince1970 seconds: Double) -> String {
        var time = time_t(CheckedNumbers.wholePart(seconds.rounded(.down)))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = CheckedNumbers.wholePart((seconds - seconds.rounded(.down)) * 1000)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    static func now(after seconds: Double = 0) -> String {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        return rfc3339(secondsSince1970: Double(clock.tv_sec) + Double(clock.tv_nsec) / 1e9 + seconds)
    }
}
