import APIModel
import BindingPlan
import Foundation
import SwiftEmitter

/// `binding-gen generate`: renders one part of the bindings (formatted with `swift-format` when
/// given) and writes only the files whose bytes change, so an unchanged header does not recompile
/// the generated module. The description part reports the warnings (each header set has one), in
/// the `file:line: warning:` form SwiftPM shows inline.
func generate(_ options: Options) throws -> Int32 {
    guard let output = options.values["output"], let templates = options.values["templates"],
        let part = options.values["part"].flatMap(Emitter.Part.init(rawValue:))
    else { throw UsageError("generate needs --output, --templates and --part description|bindings") }
    let module = options.values["module"] ?? ""
    let descriptionModule = options.values["description-module"] ?? ""
    if part == .bindings, module.isEmpty || descriptionModule.isEmpty {
        throw UsageError("generate --part bindings needs --module and --description-module")
    }
    let plan = try loadPlan(options)
    let headers = URL(fileURLWithPath: try options.positional(1, "HEADERS_DIR"))
    if part == .description { reportWarnings(plan, headers: headers) }
    var files = try Emitter(
        plan: plan, cModule: module, descriptionModule: descriptionModule,
        templatesDirectory: URL(fileURLWithPath: templates)
    ).render(part)
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

/// Diagnostics of the headers and the plan, and every function left unbound with its reason.
private func reportWarnings(_ plan: BindingPlan, headers: URL) {
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
}
