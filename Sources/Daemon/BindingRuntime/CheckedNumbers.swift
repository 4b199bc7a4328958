/// The one place a number from outside the daemon (JSON-RPC params, HTTP bodies, headers, settings)
/// becomes a Swift number: a value outside the target's range is an `OutOfRange` naming the field
/// and the range, never a trap. `scripts/check-traps.py` fails the build on a conversion of a
/// floating value written anywhere else.
public enum CheckedNumbers {
    /// The longest duration a client or a setting may give: 100 years of 365 days. Its nanoseconds
    /// fit a timer's deadline with room to spare; a longer one is refused, and where a duration may
    /// mean "forever" a negative value says so (Ollama's `keep_alive: -1`).
    public static let maxDurationSeconds: Double = 100 * 365 * 86_400

    /// A value of the wrong kind or outside its range: the field and what it must be.
    public struct OutOfRange: Error, Equatable, CustomStringConvertible {
        public let field: String
        public let expected: String
        public var description: String { "'\(field)' must be \(expected)" }
    }

    /// `json` as an integer of `T` when it is one exactly (an integral double included), else nil.
    public static func exactInteger<T: FixedWidthInteger>(_ json: JSONValue, as type: T.Type = T.self) -> T? {
        switch json {
        case .int(let i): return T(exactly: i)
        case .uint(let u): return T(exactly: u)
        // `T(exactly:)` is nil for a fraction, an infinity, NaN and any value past T's range.
        case .double(let d): return T(exactly: d)
        default: return nil
        }
    }

    /// An optional field's whole number within `range`: nil when absent or null.
    public static func integer<T: FixedWidthInteger>(
        _ value: JSONValue?, _ field: String, in range: ClosedRange<T>
    ) throws(OutOfRange) -> T? {
        guard let value, value != .null else { return nil }
        guard let n = exactInteger(value, as: T.self), range.contains(n) else {
            throw OutOfRange(field: field, expected: "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// An optional field's finite number within `range`: nil when absent or null.
    public static func real(_ value: JSONValue?, _ field: String, in range: ClosedRange<Double>) throws(OutOfRange)
        -> Double?
    {
        let number: Double
        switch value {
        case nil, .null?: return nil
        case .int(let i)?: number = Double(i)
        case .uint(let u)?: number = Double(u)
        case .double(let d)?: number = d
        default: throw OutOfRange(field: field, expected: "a number in \(range.lowerBound)...\(range.upperBound)")
        }
        guard number.isFinite, range.contains(number) else {
            throw OutOfRange(field: field, expected: "a number in \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    /// A duration in seconds from JSON: 0...`maxDurationSeconds`, or any negative value (forever)
    /// when `negativeMeansForever`.
    public static func seconds(_ value: JSONValue?, _ field: String, negativeMeansForever: Bool) throws(OutOfRange)
        -> Double?
    {
        let lower = negativeMeansForever ? -maxDurationSeconds : 0
        let seconds: Double?
        do {
            seconds = try real(value, field, in: lower...maxDurationSeconds)
        } catch {
            let most = "a number of seconds up to \(Int64(maxDurationSeconds)) (100 years)"
            throw OutOfRange(field: field, expected: most + (negativeMeansForever ? ", or negative: forever" : ""))
        }
        guard let seconds else { return nil }
        return negativeMeansForever && seconds < 0 ? -1 : seconds
    }

    /// A duration in seconds from text (a setting, a header): a number in 0...`maxDurationSeconds`.
    public static func seconds(text: String, _ field: String) throws(OutOfRange) -> Double {
        guard let number = Double(text), number.isFinite, (0...maxDurationSeconds).contains(number) else {
            throw OutOfRange(field: field, expected: "a number of seconds in 0...\(Int64(maxDurationSeconds))")
        }
        return number
    }

    /// A whole number from text (a setting, a header) within `range`.
    public static func integer<T: FixedWidthInteger>(text: String, _ field: String, in range: ClosedRange<T>)
        throws(OutOfRange) -> T
    {
        guard let n = T(text), range.contains(n) else {
            throw OutOfRange(field: field, expected: "a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    /// A timer's delay in nanoseconds: saturating, so a duration the daemon computed (never a
    /// client's unchecked one) cannot trap: NaN and negatives are 0, anything past the maximum
    /// duration is the maximum.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        guard seconds > 0 else { return 0 }
        return UInt64(min(seconds, maxDurationSeconds) * 1e9)
    }

    /// The whole part of a number the daemon made (elapsed seconds, a fraction's digits), saturating.
    public static func wholePart(_ value: Double) -> Int {
        guard value.isFinite else { return value > 0 ? Int.max : (value < 0 ? Int.min : 0) }
        return Int(exactly: value.rounded(.towardZero)) ?? (value > 0 ? Int.max : Int.min)
    }
}
