import Foundation

/// The JSON text binding-gen writes for models and reports: sorted keys, indented, so that two
/// versions diff line by line.
public enum SortedJSON {
    public static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
    }
}
