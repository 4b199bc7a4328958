import Foundation

/// Paths inside the repository, found from this file's location.
enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let headers = root.appendingPathComponent("Headers")
    /// What the project's headers use without including it.
    static let prelude = headers.appendingPathComponent("prelude")
    /// The project's header sets: a runtime's headers of one SDK version, with their annotations.
    static let rkllm = headers.appendingPathComponent("rkllm/1.2.3")
    static let rknn = headers.appendingPathComponent("rknn")
    static let headerSets = [rkllm, rknn]
    static let templates = root.appendingPathComponent("Templates")
    static func fixture(_ name: String) -> URL {
        root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }
}
