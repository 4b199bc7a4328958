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
    static let rkllm130 = headers.appendingPathComponent("rkllm/1.3.0")
    static let headerSets = [rkllm, rknn]
    /// Every header set with the name of its coverage report (docs/coverage/<name>.md).
    static let reportedSets = [(rkllm, "rkllm-1.2.3"), (rkllm130, "rkllm-1.3.0"), (rknn, "rknn")]
    static let templates = root.appendingPathComponent("Templates")
    static func fixture(_ name: String) -> URL {
        root.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }
}
