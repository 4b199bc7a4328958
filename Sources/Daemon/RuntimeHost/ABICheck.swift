/// Which of a runtime's tables (one per header set) speaks a library's ABI: the one whose version
/// has the library's major.minor. The library's version is what its file carries; a setting says it
/// for a file that does not, and a file that says another version than the setting is refused
/// (forcing a table onto a library of another version would hand it structs it misreads: garbage
/// or a crash). A library whose version nobody says is taken for the first table's, and the log
/// says so; one whose version no table has is refused with both named, never called.
enum ABICheck {
    enum Outcome: Equatable {
        case matches(table: String, version: String)
        case assumed(table: String, note: String)
        case differs(reason: String)
    }

    /// `tables`: the tables' versions, the default first.
    static func decide(tables: [String], library: String, found: String?, said: String?, setting: String?) -> Outcome {
        let setting = setting ?? "a setting"
        if let found, let said, majorMinor(found) != majorMinor(said) {
            return .differs(
                reason: "\(library) is version \(found) as its file says, not \(said) as \(setting) says: "
                    + "their structs differ, so it is not loaded")
        }
        guard let version = found ?? said else {
            return .assumed(
                table: tables[0],
                note: "the version of \(library) is not in its file: taken for \(tables[0]), the first table's "
                    + "(\(setting) says which)")
        }
        guard let table = tables.first(where: { majorMinor($0) == majorMinor(version) }) else {
            let source = found != nil ? "as its file says" : "as \(setting) says"
            return .differs(
                reason: "\(library) is version \(version) (\(source)); this daemon's tables are for "
                    + "\(tables.joined(separator: ", ")): their structs differ, so it is not loaded")
        }
        return .matches(table: table, version: version)
    }

    private static func majorMinor(_ version: String) -> [Substring] { Array(version.split(separator: ".").prefix(2)) }
}
