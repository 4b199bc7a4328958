import APIModel
import BindingPlan
import Foundation

/// Renders a binding plan into Swift files through the templates of a directory, in two parts: a
/// header set's description (what its methods are; no C import, so one program can hold the
/// descriptions of several versions of a header) and its bindings (the C types and the calls, over
/// the C module and the description).
public struct Emitter {
    public enum Part: String, CaseIterable, Sendable {
        case description, bindings

        /// The files a part is, each from `<part>/<name>.tmpl`: the part's templates directory
        /// holds exactly these (the build-tool plugin lists its outputs from the templates).
        public var files: [String] {
            switch self {
            case .description: ["Methods.swift", "Constants.swift", "OpenRPC.swift", "Runtimes.swift"]
            case .bindings: ["Types.swift", "Dispatch.swift", "Callbacks.swift", "Layout.swift"]
            }
        }
    }

    public let plan: BindingPlan
    public let names: SwiftNames
    /// The module of the description part, which the bindings part imports.
    public let descriptionModule: String
    /// Holds a directory of templates per part.
    public let templatesDirectory: URL

    public init(plan: BindingPlan, cModule: String, descriptionModule: String, templatesDirectory: URL) {
        self.plan = plan
        self.names = SwiftNames(cModule: cModule)
        self.descriptionModule = descriptionModule
        self.templatesDirectory = templatesDirectory
    }

    /// File name -> Swift source, for the files of `part`.
    public func render(_ part: Part) throws -> [String: String] {
        let directory = templatesDirectory.appendingPathComponent(part.rawValue)
        let templates = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".tmpl") }.map { String($0.dropLast(".tmpl".count)) }
        guard Set(templates) == Set(part.files) else {
            throw TemplateError(
                description: "\(directory.path): the templates are \(templates.sorted()); "
                    + "the generator writes \(part.files.sorted()), one template each")
        }
        let common: [String: TemplateValue] = [
            "cModule": .text(names.cModule),
            "descriptionModule": .text(descriptionModule),
            "headers": .text(plan.model.headers.joined(separator: ", ")),
            "target": .text(plan.model.target),
        ]
        var files: [String: String] = [:]
        for name in part.files {
            let url = directory.appendingPathComponent(name + ".tmpl")
            let template = try Template(String(contentsOf: url, encoding: .utf8), name: url.lastPathComponent)
            files[name] = try template.render(common.merging(try context(of: name)) { $1 })
        }
        return files
    }

    /// What the template of the file `name` reads.
    private func context(of name: String) throws -> [String: TemplateValue] {
        let records = RecordCode(plan: plan, names: names)
        let dispatch = DispatchCode(plan: plan, names: names)
        let bound = plan.functions.filter(\.bound)
        let runtimes = { TemplateValue.list(plan.runtimes.map(runtimeContext)) }
        switch name {
        case "Methods.swift": return ["functions": .list(bound.map(dispatch.specContext))]
        case "Constants.swift":
            return [
                "namespaces": .list(
                    constantGroups().map { group in
                        .context([
                            "namespace": .text(group.namespace),
                            "constants": .list(
                                group.constants.map { .context(["name": .text($0.name), "value": .text($0.value)]) }),
                        ])
                    }),
                "statusGroups": .list(plan.statusGroups.map(statusGroupContext)),
            ]
        case "OpenRPC.swift":
            let document = OpenRPCDocument(
                plan: plan, dispatch: dispatch, constantNamespaces: constantGroups().map(\.namespace))
            return ["document": .text(try document.json())]
        case "Runtimes.swift": return ["runtimes": runtimes()]
        case "Types.swift":
            return [
                "enums": .list(plan.model.enums.map(records.enumContext)),
                "records": .list(plan.records.filter { !$0.record.isAnonymousMember }.map(records.context)),
            ]
        case "Dispatch.swift": return ["functions": .list(bound.map(dispatch.context)), "runtimes": runtimes()]
        case "Callbacks.swift": return ["callbacks": .list(plan.callbacks.map { callbackContext($0, dispatch) })]
        case "Layout.swift": return ["records": .list(plan.records.compactMap { layoutContext($0, records) })]
        default: return [:]
        }
    }

    private func callbackContext(_ c: CallbackPlan, _ dispatch: DispatchCode) -> TemplateValue {
        let params = c.parameterNames.enumerated().map { i, name in name.isEmpty ? "arg\(i + 1)" : name }
        var lines: [String] = []
        for (name, type) in zip(params, c.function.parameters) where name != c.userdata {
            let id = SwiftNames.identifier(name)
            if name == c.message {
                lines.append("CallbackSink.addMembers(of: \(dispatch.json(type, id)), to: &arguments)")
            } else if name == c.state {
                lines.append("arguments[StreamMember.callbackState] = .int(Int64(\(id).rawValue))")
            } else {
                lines.append("arguments[\"\(name)\"] = \(dispatch.json(type, id))")
            }
        }
        var final = "false"
        if let state = c.state, !c.finalValues.isEmpty {
            final =
                "[\(c.finalValues.map(String.init).joined(separator: ", "))].contains(Int64(\(SwiftNames.identifier(state)).rawValue))"
        }
        let deliver = "CallbackSink.deliver(\(SwiftNames.identifier(c.userdata)), final: \(final)) {"
        let (open, close): (String, String)
        var after: [String] = []
        switch c.function.result.resolved {
        case .void: (open, close) = ("_ = ", "")
        default:
            let result = names.imported(c.function.result)
            if let value = c.afterCopy, let message = c.message {
                // The message is copied into JSON: a buffer it carried may be released at once.
                let carried = c.buffers.map {
                    "$0.pointee.\($0.map(SwiftNames.identifier).joined(separator: ".")) != nil"
                }
                (open, close) = ("let answer = ", "")
                after = [
                    "let carriedBuffers = \(SwiftNames.identifier(message)).map { \(carried.joined(separator: " || ")) } == true",
                    "return \(result)(truncatingIfNeeded: answer == 0 && carriedBuffers ? \(value) : answer)",
                ]
            } else {
                (open, close) = ("return \(result)(truncatingIfNeeded: ", ")")
            }
        }
        return .context([
            "typedef": .text(c.typedef),
            "signature": .text(c.function.spelling(name: "(*\(c.typedef))")),
            "closureParams": .text(params.map(SwiftNames.identifier).joined(separator: ", ")),
            "lines": .list(lines.map { .context(["line": .text($0)]) }),
            "deliverOpen": .text(open + deliver),
            "deliverClose": .text("}" + close),
            "after": .list(after.map { .context(["line": .text($0)]) }),
        ])
    }

    private func statusGroupContext(_ group: StatusGroupPlan) -> TemplateValue {
        let literal = { (text: String?) in text.map(Self.swiftStringLiteral) ?? "nil" }
        return .context([
            "name": .text(SwiftNames.identifier(group.name)), "source": .text(literal(group.source)),
            "codes": .list(
                group.codes.map { code in
                    .context(["entry": .text("(\(code.code), \(literal(code.name)), \(literal(code.meaning)))")])
                }),
        ])
    }

    private func runtimeContext(_ r: RuntimePlan) -> TemplateValue {
        let literal = { (text: String?) in text.map(Self.swiftStringLiteral) ?? "nil" }
        // Up to two pairs on the line, more one per line.
        let dictionary = { (pairs: [String: String]) -> String in
            let items = pairs.sorted { $0.key < $1.key }.map { "\(literal($0.key)): \(literal($0.value))" }
            if items.isEmpty { return "[:]" }
            if items.count <= 2 { return "[" + items.joined(separator: ", ") + "]" }
            return "[\n" + items.map { "            \($0),\n" }.joined() + "        ]"
        }
        let hosting: String
        switch r.hosting {
        case .perInstance(let handle): hosting = ".perInstance(of: \(literal(handle)))"
        case .perClient(let toggle): hosting = ".perClient(oneProcessWhen: \(literal(toggle)))"
        case .oneProcess: hosting = ".oneProcess"
        }
        return .context([
            "namespace": .text(r.namespace), "library": .text(r.library),
            "simulatedLibrary": .text(literal(r.simulatedLibrary)), "librarySetting": .text(literal(r.librarySetting)),
            "hosting": .text(hosting), "paths": .text(dictionary(r.paths)),
            "extensions": .text(
                r.extensions.isEmpty
                    ? "[:]"
                    : "["
                        + r.extensions.sorted { $0.key < $1.key }.map {
                            "\(literal($0.key)): [\($0.value.map(Self.swiftStringLiteral).joined(separator: ", "))]"
                        }.joined(separator: ", ") + "]"),
            "parallelCalls": .text(literal(r.parallelCalls)), "plugins": .text(literal(r.plugins)),
            "abiVersion": .text(literal(r.abiVersion)), "versionMarker": .text(literal(r.versionMarker)),
            "abiSetting": .text(literal(r.abiSetting)),
            "abortMethods": .text(dictionary(r.abortMethods)), "destroyMethods": .text(dictionary(r.destroyMethods)),
            "generation": .text(r.generation.map(Self.generationLiteral) ?? "nil"),
            "settings": .list(
                r.settings.sorted { $0.key < $1.key }.map { name, s in
                    .context([
                        "name": .text(name), "environment": .text(s.environment), "flag": .text(s.flag),
                        "kind": .text(s.kind), "defaultValue": .text(literal(s.default)),
                        "created": .text(String(s.create ?? false)), "help": .text(literal(s.help)),
                    ])
                }),
        ])
    }

    /// A runtime's generation annotation as a `GenerationProfile` literal.
    static func generationLiteral(_ g: GenerationAnnotation) -> String {
        let literal = { (text: String?) in text.map(swiftStringLiteral) ?? "nil" }
        let step = { (s: GenerationAnnotation.Step) in
            "GenerationProfile.Step(method: \(literal(s.call)), params: \(JSONLiteral.swift(s.params)))"
        }
        return """
            GenerationProfile(
                    load: \(step(g.load)),
                    handle: \(literal(g.load.handle)),
                    run: \(step(g.run)),
                    tools: \(g.tools.map(step) ?? "nil"),
                    text: \(literal(g.text)), promptTokens: \(literal(g.promptTokens)),
                    completionTokens: \(literal(g.completionTokens)),
                    toolCallBegin: \(literal(g.toolCall?.begin)), toolCallEnd: \(literal(g.toolCall?.end)))
            """
    }

    private func layoutContext(_ r: RecordPlan, _ records: RecordCode) -> TemplateValue? {
        let record = r.record
        // An anonymous member's fields are checked through the parent.
        if record.isAnonymousMember { return nil }
        var fields: [TemplateValue] = []
        func add(_ record: Record, base: Int, probed: Bool) {
            for field in record.fields {
                if case .unsupported = field.type { continue }
                if field.isAnonymousMember, case .record(let inner) = field.type,
                    let nested = plan.model.record(named: inner)
                {
                    // Swift offers the members of an anonymous member only as computed properties.
                    add(nested, base: base + field.offset, probed: true)
                    continue
                }
                let path = SwiftNames.identifier(field.name)
                fields.append(
                    .context([
                        "name": .text(field.name), "offset": .text(String(base + field.offset)),
                        "path": .text(path), "probed": .flag(probed),
                    ]))
            }
        }
        add(record, base: 0, probed: false)
        return .context([
            "name": .text(record.name), "size": .text(String(record.size)),
            "cType": .text(records.cTypeName(record)), "fields": .list(fields),
        ])
    }

    /// Constants grouped by the namespace of their header's functions (`rkllm`, `rknn`).
    private func constantGroups() -> [(namespace: String, constants: [(name: String, value: String)])] {
        var namespaceOf: [String: String] = [:]
        for header in plan.model.headers {
            let methods = plan.functions.filter { $0.function.header == header }.map(\.method)
            let prefixes = methods.compactMap { $0.split(separator: ".").first.map(String.init) }
            let counts = Dictionary(prefixes.map { ($0, 1) }, uniquingKeysWith: +)
            if let best = counts.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key {
                namespaceOf[header] = best
            }
        }
        var grouped: [String: [(String, String)]] = [:]
        for e in plan.model.enums {
            guard let ns = namespaceOf[e.header] else { continue }
            for c in e.constants { grouped[ns, default: []].append((c.name, ".int(\(c.value))")) }
        }
        for m in plan.model.macros {
            guard let ns = namespaceOf[m.header] else { continue }
            switch m.value {
            case .integer(let v): grouped[ns, default: []].append((m.name, ".int(\(v))"))
            case .string(let s): grouped[ns, default: []].append((m.name, ".string(\(Self.swiftStringLiteral(s)))"))
            }
        }
        return grouped.keys.sorted().map { ns in (ns, grouped[ns]!.map { (name: $0.0, value: $0.1) }) }
    }

    static func swiftStringLiteral(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
