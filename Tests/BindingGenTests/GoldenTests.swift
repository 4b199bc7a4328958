import APIModel
import BindingPlan
import ClangImport
import CoverageReport
import Foundation
import SwiftEmitter
import XCTest

/// The rendered Swift and the coverage report of `Tests/Fixtures/calltest`, compared byte for byte
/// with `Tests/Fixtures/calltest/golden/`. After an intended change to the generator or the templates,
/// regenerate with `UPDATE_GOLDEN=1 swift test --filter GoldenTests` and review the diff.
final class GoldenTests: XCTestCase {
    private let fixture = Paths.fixture("calltest")
    private var golden: URL { fixture.appendingPathComponent("golden") }
    private var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" }

    /// A fixed target, so the goldens do not depend on the machine that runs the test.
    private func plan() throws -> BindingPlan {
        let model = try HeaderImporter(headersDirectory: fixture, target: "x86_64-unknown-linux-gnu").run()
        let annotations = try Annotations.load(fixture.appendingPathComponent("annotations.json"))
        return Planner(model: model, annotations: annotations).plan()
    }

    private func compare(_ name: String, _ rendered: String) throws {
        let url = golden.appendingPathComponent(name + ".golden")
        if updating {
            try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
            try rendered.write(to: url, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        guard expected != rendered else { return }
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let b = rendered.split(separator: "\n", omittingEmptySubsequences: false)
        let line = (0..<min(a.count, b.count)).first { a[$0] != b[$0] } ?? min(a.count, b.count)
        XCTFail(
            """
            \(name) differs from its golden at line \(line + 1):
              golden:   \(line < a.count ? String(a[line]) : "<end>")
              rendered: \(line < b.count ? String(b[line]) : "<end>")
            If the change is intended: UPDATE_GOLDEN=1 swift test --filter GoldenTests, and review the diff.
            """)
    }

    func testTheTemplatesAreExactlyTheFilesWritten() throws {
        // The build-tool plugin lists its outputs from the templates: a template more or less is an error.
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("templates-\(getpid())")
        try? FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: Paths.templates, to: copy)
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.removeItem(at: copy.appendingPathComponent("bindings/Layout.swift.tmpl"))
        try "".write(to: copy.appendingPathComponent("bindings/Extra.swift.tmpl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try emitter(templates: copy).render(.bindings)) {
            XCTAssertTrue("\($0)".contains("the generator writes"), "\($0)")
        }
    }

    private func emitter(templates: URL = Paths.templates) throws -> Emitter {
        Emitter(
            plan: try plan(), cModule: "CCallTestHeaders", descriptionModule: "CallTestDescription",
            templatesDirectory: templates)
    }

    func testRenderedSwiftMatchesTheGoldens() throws {
        for part in Emitter.Part.allCases {
            let files = try emitter().render(part)
            XCTAssertEqual(files.keys.sorted(), part.files.sorted())
            for name in part.files {
                try compare(name, try XCTUnwrap(files[name]))
            }
        }
    }

    func testCoverageReportMatchesItsGolden() throws {
        let report = Report(plan: try plan())
        try compare("COVERAGE.md", report.markdown)
        try compare("coverage.json", try SortedJSON.text(report))
    }

    func testNoGoldenIsLeftOver() throws {
        let expected = Set(
            (Emitter.Part.allCases.flatMap(\.files) + ["COVERAGE.md", "coverage.json"]).map { $0 + ".golden" })
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: golden.path))
        XCTAssertEqual(present, expected)
    }
}
