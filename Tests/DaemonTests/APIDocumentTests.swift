import Foundation
import XCTest

/// docs/API.md is what `scripts/api-doc.py` makes of the daemon's rpc.discover (the newest RKLLM
/// ABI's table): a change to a method, its parameters or its answer without `scripts/api-doc.sh`
/// fails here.
final class APIDocumentTests: XCTestCase {
    func testTheAPIDocumentIsTheDaemonsOwnDescription() throws {
        let repository = URL(fileURLWithPath: Built.models).deletingLastPathComponent()
        let daemon = try Daemon(environment: [
            "RKLLM_RUNTIME_LIB": Built.path("librkllmrt_sim-1.3.so"),
            "RKNN_RUNTIME_LIB": Built.path("librknnrt_sim.so"),
        ])
        defer { daemon.assertStopsCleanly() }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        python.arguments = [repository.appending(path: "scripts/api-doc.py").path, daemon.socket]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        let rendered = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        let committed = try String(contentsOf: repository.appending(path: "docs/API.md"), encoding: .utf8)
        XCTAssertTrue(rendered == committed, "docs/API.md is stale: run scripts/api-doc.sh")
    }

    /// The tree in docs/ARCHITECTURE.md names every file and folder of docs/, and nothing else.
    func testTheArchitecturesTreeOfDocsIsCurrent() throws {
        let repository = URL(fileURLWithPath: Built.models).deletingLastPathComponent()
        let architecture = try String(contentsOf: repository.appending(path: "docs/ARCHITECTURE.md"), encoding: .utf8)
        let lines = architecture.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("docs/ ") })
        let entry = lines[start...].prefix { $0.hasPrefix("docs/ ") || $0.hasPrefix("                         ") }
            .joined(separator: " ")
        let named = Set(
            entry.split(whereSeparator: { " ,()".contains($0) }).map(String.init)
                .filter { $0.hasSuffix(".md") || ($0.hasSuffix("/") && $0 != "docs/") }
                .map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 })
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: repository.appending(path: "docs").path))
        XCTAssertEqual(named, present, "docs/ARCHITECTURE.md's tree of docs/ is stale")
    }
}
