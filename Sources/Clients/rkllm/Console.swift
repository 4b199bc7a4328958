import Foundation

/// Where the command writes: its results on standard output, as they come (an answer piece by
/// piece); notes, progress and errors on standard error.
enum Console {
    static func out(_ text: String) { FileHandle.standardOutput.write(Data(text.utf8)) }
    static func line(_ text: String = "") { out(text + "\n") }
    static func note(_ text: String) { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    static var errorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }
    static var inputIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    /// Rows as columns padded to their widest cell, the last left as it is.
    static func table(_ rows: [[String]]) {
        guard let count = rows.map(\.count).max() else { return }
        let widths = (0..<count).map { column in rows.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
        for row in rows {
            let cells = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            line(cells.joined(separator: "  "))
        }
    }
}
