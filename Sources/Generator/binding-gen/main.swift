import APIModel
import BindingPlan
import ClangImport
import CoverageReport
import Foundation

/// binding-gen: C headers -> Swift bindings, coverage reports and report diffs.
let usage = """
    usage: binding-gen generate HEADERS_DIR --output DIR --templates DIR --part description|bindings
                           [--module C_MODULE --description-module MODULE] [--annotations FILE] [--prelude DIR]
                           [--target TRIPLE] [--swift-format PATH [--format-configuration FILE]]
           binding-gen report HEADERS_DIR [--annotations FILE] [--prelude DIR] [--json FILE] [--markdown FILE] [--target TRIPLE]
           binding-gen diff OLD.json NEW.json [--markdown FILE]
           binding-gen model HEADERS_DIR [--target TRIPLE]

    generate  writes one part of the Swift bindings (only files whose bytes change): the description
              (what the methods are; imports no C) or the bindings (types and calls, over the C module)
    report    the API coverage report: every function, struct, enum, macro; Markdown on stdout by default
    diff      compares two JSON reports; exit 1 when a change breaks callers
    model     prints the parsed API model as JSON
    """

func writeError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Parses the headers and plans the bindings; diagnostics point at the header files.
func loadPlan(_ options: Options) throws -> BindingPlan {
    let headers = URL(fileURLWithPath: try options.positional(1, "HEADERS_DIR"))
    let model = try HeaderImporter(
        headersDirectory: headers, preludeDirectory: options.values["prelude"].map(URL.init(fileURLWithPath:)),
        target: options.values["target"]
    ).run()
    let annotationsURL =
        options.values["annotations"].map(URL.init(fileURLWithPath:))
        ?? headers.appendingPathComponent("annotations.json")
    let annotations =
        FileManager.default.fileExists(atPath: annotationsURL.path)
        ? try Annotations.load(annotationsURL) : Annotations()
    return Planner(model: model, annotations: annotations, annotationsFile: annotationsURL.path).plan()
}

func write(_ text: String, to path: String?) throws {
    if let path { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } else { print(text, terminator: "") }
}

func run() throws -> Int32 {
    let args = CommandLine.arguments
    guard args.count >= 2 else {
        writeError(usage)
        return 2
    }
    let command = args[1]
    let options = try Options(
        args.dropFirst(1),
        takingValues: [
            "annotations", "json", "markdown", "target", "output", "templates", "module", "swift-format", "part",
            "description-module",
            "format-configuration", "prelude",
        ])
    switch command {
    case "model":
        try write(try SortedJSON.text(try loadPlan(options).model), to: nil)
    case "report":
        let report = Report(plan: try loadPlan(options))
        if let json = options.values["json"] { try write(try SortedJSON.text(report), to: json) }
        if options.values["markdown"] != nil || options.values["json"] == nil {
            try write(report.markdown, to: options.values["markdown"])
        }
    case "diff":
        let decoder = JSONDecoder()
        let old = try decoder.decode(
            Report.self, from: Data(contentsOf: URL(fileURLWithPath: try options.positional(1, "OLD.json"))))
        let new = try decoder.decode(
            Report.self, from: Data(contentsOf: URL(fileURLWithPath: try options.positional(2, "NEW.json"))))
        let diff = ReportDiff(old: old, new: new)
        try write(diff.markdown, to: options.values["markdown"])
        if options.values["markdown"] != nil { print(diff.markdown, terminator: "") }
        return diff.isBreaking ? 1 : 0
    case "generate":
        return try generate(options)
    case "-h", "--help", "help":
        print(usage)
    default:
        writeError(usage)
        return 2
    }
    return 0
}

do {
    exit(try run())
} catch let error as ImportError {
    writeError(error.description)
    exit(1)
} catch {
    writeError("error: \(error)")
    exit(1)
}
