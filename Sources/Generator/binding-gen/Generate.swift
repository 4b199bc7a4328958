import APIModel
import Foundation
import SwiftEmitter

/// `binding-gen generate`: renders the bindings (formatted with `swift-format` when given) and
/// writes only the files whose bytes change, so an unchanged header does not recompile the
/// generated module. Warnings go to stderr in the
/// `file:line: warning:` form SwiftPM shows inline.
func generate(_ options: Options) throws -> Int32 {
    guard let output = options.values["output"], let templates = options.values["templates"],
        let module = options.values["module"]
    else { throw UsageError("generate needs --output, --templates and --module") }
    let plan = try loadPlan(options)
    let headers = URL(fileURLWithPath: try options.positional(1, "HEADERS_DIR"))
    for diagnostic in plan.model.diagnostics + plan.warnings {
        var located = diagnostic
        if let location = diagnostic.location, !location.file.hasPrefix("/") {
            located.location = SourceLocation(
                file: headers.appendingPathComponent(location.file).path, line: location.line)
        }
        writeError(located.description)
    }
    for f in plan.functions where !f.bound {
        let location = SourceLocation(
            file: headers.appendingPathComponent(f.function.location.file).path, line: f.function.location.line)
        writeError(Diagnostic(.warning, "\(f.function.name) is not bound: \(f.reason ?? "")", at: location).description)
    }
    var files = try Emitter(plan: plan, cModule: module, templatesDirectory: URL(fileURLWithPath: templates)).render()
    if let executable = options.values["swift-format"] {
        let formatter = Formatter(executable: executable, configuration: options.values["format-configuration"])
        for (name, text) in files { files[name] = try formatter.format(text, name: name) }
    }
    let directory = URL(fileURLWithPath: output)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    for (name, text) in files {
        let url = directory.appendingPathComponent(name)
        let data = Data(text.utf8)
        if (try? Data(contentsOf: url)) != data { try data.write(to: url, options: .atomic) }
    }
    return 0
}
