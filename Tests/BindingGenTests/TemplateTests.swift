import XCTest

@testable import SwiftEmitter

final class TemplateTests: XCTestCase {
    func testSectionsInvertedSectionsAndStandaloneLines() throws {
        let t = try Template(
            """
            start
            {{#items}}
            - {{name}}{{#last}}!{{/last}}
            {{/items}}
            {{^items}}
            none
            {{/items}}
            {{! a comment line }}
            end {{title}}
            """, name: "t")
        let items: TemplateValue = .list([
            .context(["name": .text("a"), "last": .flag(false)]),
            .context(["name": .text("b"), "last": .flag(true)]),
        ])
        XCTAssertEqual(try t.render(["items": items, "title": .text("T")]), "start\n- a\n- b!\nend T")
        XCTAssertEqual(try t.render(["items": .list([]), "title": .text("T")]), "start\nnone\nend T")
    }

    func testUnknownNamesAndUnbalancedSectionsAreErrors() {
        XCTAssertThrowsError(try Template("{{missing}}", name: "t").render([:]))
        XCTAssertThrowsError(try Template("{{#a}}x", name: "t"))
        XCTAssertThrowsError(try Template("x{{/a}}", name: "t"))
    }

    func testSwiftKeywordsAreEscapedByOneRule() {
        XCTAssertEqual(SwiftNames.identifier("init"), "`init`")
        XCTAssertEqual(SwiftNames.identifier("default"), "`default`")
        XCTAssertEqual(SwiftNames.identifier("protocol"), "`protocol`")
        XCTAssertEqual(SwiftNames.identifier("Type"), "`Type`")
        XCTAssertEqual(SwiftNames.identifier("model_path"), "model_path")
    }
}
