import Foundation
import PackagePlugin

/// Runs `binding-gen generate` for a target that holds a `binding-gen.json`:
/// `{"headers": "<dir>", "part": "description" or "bindings", "module": "<C module>",
/// "description_module": "<module>", "templates": "<dir>", "annotations": "<file>", "prelude": "<dir>"}`,
/// paths relative to the target directory; the two modules are needed by the bindings part only. Inputs are the headers, their
/// prelude, the annotations (and the files they include) and the templates, so any change to them
/// regenerates; outputs are the generated Swift files.
@main
struct BindingGenPlugin: BuildToolPlugin {
    struct Config: Decodable {
        var headers: String
        var part: String
        var module: String?
        var descriptionModule: String?
        var templates: String
        var annotations: String?
        var prelude: String?
    }

    /// An annotations file and the files it includes (`"include"`, relative to it), for the inputs.
    static func annotationFiles(_ url: URL) -> [URL] {
        guard let data = try? Data(contentsOf: url),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [url] }
        let included = (object["include"] as? [String] ?? []).map {
            url.deletingLastPathComponent().appending(path: $0).standardized
        }
        return [url] + included.flatMap(annotationFiles)
    }

    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let configURL = target.directoryURL.appending(path: "binding-gen.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let config = try decoder.decode(Config.self, from: Data(contentsOf: configURL))
        let headers = target.directoryURL.appending(path: config.headers).standardized
        let templates = target.directoryURL.appending(path: config.templates).standardized
        let annotations =
            config.annotations.map { target.directoryURL.appending(path: $0).standardized }
            ?? headers.appending(path: "annotations.json")
        let tool = try context.tool(named: "binding-gen")
        let output = context.pluginWorkDirectoryURL.appending(path: "generated")

        let files = FileManager.default
        let headerFiles = try files.contentsOfDirectory(at: headers, includingPropertiesForKeys: nil).filter {
            $0.pathExtension == "h"
        }
        let partTemplates = templates.appending(path: config.part)
        let templateFiles = try files.contentsOfDirectory(at: partTemplates, includingPropertiesForKeys: nil).filter {
            $0.pathExtension == "tmpl"
        }
        // What the headers need and do not include (HeaderImporter reads every file there).
        let prelude =
            config.prelude.map { target.directoryURL.appending(path: $0).standardized }
            ?? headers.appending(path: "prelude")
        let preludeFiles = (try? files.contentsOfDirectory(at: prelude, includingPropertiesForKeys: nil)) ?? []
        var inputs = headerFiles + preludeFiles + templateFiles + [configURL]
        if files.fileExists(atPath: annotations.path) { inputs += Self.annotationFiles(annotations) }

        var arguments = [
            "generate", headers.path, "--output", output.path, "--templates", templates.path,
            "--part", config.part, "--annotations", annotations.path, "--prelude", prelude.path,
        ]
        if let module = config.module { arguments += ["--module", module] }
        if let module = config.descriptionModule { arguments += ["--description-module", module] }
        // The tool is built in .build/<triple>/<configuration>/: the build's target triple (the API
        // does not give it). Without it, binding-gen lays structs out for the machine it runs on.
        let triple = tool.url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent
        if triple.split(separator: "-").count >= 3 {
            arguments += ["--target", triple]
        } else {
            Diagnostics.warning(
                "binding-gen: no target triple in the tool's path \(tool.url.path); laying out for the host")
        }
        // Generated code is formatted like the hand-written: the toolchain's swift-format with the
        // repository's configuration.
        if let formatter = try? context.tool(named: "swift-format") {
            arguments += ["--swift-format", formatter.url.path]
            let configuration = context.package.directoryURL.appending(path: ".swift-format")
            if files.fileExists(atPath: configuration.path) {
                arguments += ["--format-configuration", configuration.path]
                inputs.append(configuration)
            }
        } else {
            Diagnostics.warning("binding-gen: no swift-format in the toolchain; the generated code is left unformatted")
        }
        // One output per template: binding-gen refuses a templates directory that differs from what it writes.
        let outputs = templateFiles.map { output.appending(path: $0.deletingPathExtension().lastPathComponent) }

        return [
            .buildCommand(
                displayName: "binding-gen: \(target.name) (\(config.part)) from \(headers.lastPathComponent)/",
                executable: tool.url,
                arguments: arguments,
                inputFiles: inputs,
                outputFiles: outputs
            )
        ]
    }
}
