/// Whether a runtime library speaks the ABI of the table made from a header set: the library's
/// version (as a setting says it, else as its file carries it) must have the table's major.minor.
/// A library of another version is never called with the table (its structs differ: garbage or
/// a crash); one whose version nobody says is taken for the table's, and the log says so.
enum ABICheck {
    enum Outcome: Equatable {
        case matches(version: String)
        case assumed(note: String)
        case differs(reason: String)
    }

    static func decide(table: String, library: String, found: String?, said: String?, setting: String?) -> Outcome {
        guard let version = said ?? found else {
            return .assumed(
                note: "the version of \(library) is not in its file: taken for \(table), the table's"
                    + (setting.map { " (\($0) says otherwise)" } ?? ""))
        }
        guard majorMinor(version) == majorMinor(table) else {
            let source = said != nil ? "as \(setting ?? "a setting") says" : "as its file says"
            return .differs(
                reason: "\(library) is version \(version) (\(source)); this daemon's table is for \(table): "
                    + "their structs differ, so it is not loaded")
        }
        return .matches(version: version)
    }

    private static func majorMinor(_ version: String) -> [Substring] { Array(version.split(separator: ".").prefix(2)) }
}
