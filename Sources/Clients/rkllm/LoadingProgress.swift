import BindingRuntime
import Foundation
import RKClient

/// The daemon's word on a model load, shown while it lasts: on a terminal one line rewritten in
/// place, elsewhere a line per report (every second).
final class LoadingProgress: @unchecked Sendable {
    let model: String
    private let terminal = Console.errorIsTerminal
    private let shown = NSLock()
    private var showing = false  // under `shown`

    init(model: String) { self.model = model }

    /// For `RKClient.call(..., loading:)`.
    var report: @Sendable (JSONValue) -> Void { { [self] in show($0) } }

    private func show(_ message: JSONValue) {
        let loading = message[StreamMember.loading]
        var line = "loading \(model): \(String(format: "%.0f", loading?["elapsed_s"]?.doubleValue ?? 0)) s"
        if let behind = loading?["behind"]?.intValue { line += ", after \(behind) other load(s)" }
        if loading?["joining"] != nil || message["joining"] != nil { line += " (another client's load)" }
        shown.withLock {
            showing = true
            if terminal {
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
            } else {
                Console.note(line)
            }
        }
    }

    /// Clears the line on a terminal once the load is over.
    func finish() {
        shown.withLock {
            if showing && terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
