import APIModel
import BindingPlan

/// Builds the template context of one dispatch entry: for each parameter role, the statements that
/// turn JSON into the C argument before the call and the out-value into JSON after it. The entry's
/// shape is in `Templates/Dispatch.swift.tmpl`.
struct DispatchCode {
    let plan: BindingPlan
    let names: SwiftNames

    private var records: RecordCode { RecordCode(plan: plan, names: names) }
    private func mirror(_ record: String) -> String { records.mirrorName(record) }
    private func cRecord(_ record: String) -> String { records.cTypeName(named: record) }

    /// The handle's raw bits as the C type of the parameter (pointer or integer).
    private func fromBits(_ type: CType, _ bits: String) -> String {
        switch type.resolved {
        case .pointer(let to, _):
            if case .record(let r) = to.resolved {
                return "UnsafeMutablePointer<\(cRecord(r))>(bitPattern: UInt(truncatingIfNeeded: \(bits)))"
            }
            return "UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: \(bits)))"
        default:
            return "\(names.imported(type))(truncatingIfNeeded: \(bits))"
        }
    }

    private func toBits(_ type: CType, _ value: String) -> String {
        switch type.resolved {
        case .pointer: return "UInt64(UInt(bitPattern: \(value)))"
        default: return "UInt64(truncatingIfNeeded: \(value))"
        }
    }

    /// A record result as JSON; its descriptor fields (annotated `fd`) go to the client beside the
    /// message, the JSON holding what the host says (the descriptor's index there).
    private func recordJSON(_ record: String, _ expr: String) -> String {
        let json = "\(mirror(record))(\(expr)).json"
        let fields = plan.records.first { $0.record.name == record }?.descriptorFields ?? []
        guard !fields.isEmpty else { return json }
        let list = fields.map { "(\"\($0)\", Int32(truncatingIfNeeded: \(expr).\(SwiftNames.identifier($0))))" }.joined(
            separator: ", ")
        return "try call.exportingDescriptors(\(json), [\(list)])"
    }

    /// A C value of `type` held in `expr`, as JSON.
    func json(_ type: CType, _ expr: String) -> String {
        switch type.resolved {
        case .enumeration(let e): return "\(mirror(e))(\(expr)).json"
        case .record(let r): return "\(mirror(r))(\(expr)).json"
        case .integer, .char:
            return "\(SwiftNames.mirrorNumber(type)!)(truncatingIfNeeded: \(expr)).json"
        case .bool, .floating: return "\(expr).json"
        case .pointer(let to, _):
            if case .record(let r) = to.resolved { return "(\(expr).map { \(mirror(r))($0.pointee).json } ?? .null)" }
            if case .char = to.resolved { return "CRead.string(\(expr)).json" }
            return ".null"
        default: return ".null"
        }
    }

    /// A number, bool or enum from JSON, as the C type.
    /// `defaultValue`: what a value the client left out is (else it must be given).
    private func valueFromJSON(_ type: CType, _ index: String, _ name: String, defaultValue: Int64? = nil) -> String {
        let read = { (swift: String, fallback: String) in
            defaultValue == nil
                ? "try call.value(\(index), \"\(name)\", as: \(swift).self)"
                : "(try call.optional(\(index), \"\(name)\", as: \(swift).self) ?? \(fallback))"
        }
        let given = defaultValue.map(String.init) ?? ""
        if case .enumeration(let e) = type.resolved {
            return read(mirror(e), "\(mirror(e))(rawValue: \(given))") + ".cValue"
        }
        let swift = SwiftNames.mirrorNumber(type)!
        switch type.resolved {
        case .integer, .char: return "\(names.imported(type))(truncatingIfNeeded: \(read(swift, given)))"
        default: return read(swift, given)
        }
    }

    /// An array parameter's elements: the imported C type, the JSON decode, and the conversion of `$0` to C.
    private func arrayElement(_ element: CType, _ i: String, _ n: String) -> (
        cType: String, decode: String, toC: String
    ) {
        switch element.resolved {
        case .record(let r):
            return (cRecord(r), "try call.records(\(i), \"\(n)\", as: \(mirror(r)).self)", "try $0.cValue(call.arena)")
        case .enumeration(let e):
            return (names.imported(element), "try call.optional(\(i), \"\(n)\", as: [\(mirror(e))].self)", "$0.cValue")
        default:
            let imported = names.imported(element)
            return (
                imported,
                "try call.optional(\(i), \"\(n)\", as: [\(SwiftNames.mirrorNumber(element) ?? "Never")].self)",
                "\(imported)(\(SwiftNames.numericConversion(element, "$0")))"
            )
        }
    }

    /// Buffers shorter than the function reads are refused before the call (`ParamPlan.minBytes`).
    private func byteCheck(_ p: ParamPlan, in f: FunctionPlan) -> String? {
        guard let size = p.minBytes else { return nil }
        let elements = size.product.map { "Int64(\(ParamVariables($0).value))" }.joined(separator: ", ")
        var bits = String(size.defaultBits)
        if let (param, field) = size.bitsOf {
            var value = "\(ParamVariables(param).value).\(SwiftNames.identifier(field)).rawValue"
            if case .pointer? = f.params.first(where: { $0.name == param })?.type.resolved {
                value = "(\(ParamVariables(param).value)?.pointee.\(SwiftNames.identifier(field)).rawValue ?? 0)"
            }
            let cases = Dictionary(grouping: size.bits.keys, by: { size.bits[$0]! }).sorted { $0.key < $1.key }
                .map { "case \($0.value.sorted().map(String.init).joined(separator: ", ")): \($0.key)" }
            bits = "{ switch Int64(\(value)) { \(cases.joined(separator: "; ")); default: \(size.defaultBits) } }()"
        }
        return
            "try call.requireBytes(\(ParamVariables(p.name).byteCount), elements: [\(elements)], bits: \(bits), \"\(p.name)\")"
    }

    /// What one parameter's role needs of the entry. `index`: its position among the JSON
    /// parameters (the planner gives one to every role that reads JSON).
    private func argument(_ p: ParamPlan, index: Int?, in f: FunctionPlan) -> ArgumentPlan {
        let v = ParamVariables(p.name)
        let n = p.name
        var plan = ArgumentPlan(argument: v.value)
        let i = index.map(String.init) ?? "nil"
        switch p.role {
        case .value(let type):
            plan.decode = ["let \(v.value) = \(valueFromJSON(type, i, n, defaultValue: p.defaultValue))"]
        case .string(let kind):
            let confined = kind.map { ", confinedTo: \"\($0)\"" } ?? ""
            plan.decode = [
                "let \(v.value) = try call.arena.cString(try call.optional(\(i), \"\(n)\", as: String.self), path: \"\(n)\"\(confined))"
            ]
        case .handle(let h):
            plan.decode = ["let \(v.value) = \(fromBits(p.type, "try call.handle(\(i), \"\(n)\", type: \"\(h)\")"))"]
            if f.destroys == h { plan.encode = ["try call.releaseHandle(\(i), \"\(n)\", type: \"\(h)\")"] }
        case .handleIn(let h):
            guard case .pointer(let to, _) = p.type.resolved else { break }
            plan.decode = ["var \(v.handle) = \(fromBits(to, "try call.handle(\(i), \"\(n)\", type: \"\(h)\")"))"]
            plan.argument = "&\(v.handle)"
        case .handleOut(let h):
            guard case .pointer(let to, _) = p.type.resolved else { break }
            let initial = { if case .pointer = to.resolved { return "nil" } else { return "0" } }()
            plan.decode = ["var \(v.handle): \(names.imported(to)) = \(initial)"]
            plan.argument = "&\(v.handle)"
            plan.members = [(n, "call.host.registerHandle(\(toBits(to, v.handle)), type: \"\(h)\")")]
        case .record(let r, let d):
            let read = "try call.record(\(i), \"\(n)\", as: \(mirror(r)).self)"
            switch d {
            case .in:
                plan.decode = ["let \(v.value) = try call.arena.single(\(read)?.cValue(call.arena))"]
            case .out:
                plan.decode = ["let \(v.value) = try call.arena.allocate(\(cRecord(r)).self)"]
            case .inout:
                plan.decode = [
                    "let \(v.value) = try call.arena.single(try (\(read) ?? call.defaults(\(mirror(r)).self)).cValue(call.arena))!"
                ]
            }
            if d != .in { plan.members = [(n, recordJSON(r, "\(v.value).pointee"))] }
        case .array(let element, let d, let count):
            let (imported, decode, toC) = arrayElement(element, i, n)
            if d == .out {
                let countExpr: String
                switch count {
                case .param(let c): countExpr = "Int(\(ParamVariables(c).value))"
                case .jsonParam(let name, let def, let max):
                    countExpr = "try call.count(\(i), \"\(name)\", default: \(def), max: \(max))"
                case .jsonLength: countExpr = "1"
                }
                plan.allocate = [
                    "let \(v.count) = \(countExpr)",
                    "let \(v.value) = try call.arena.allocate(\(imported).self, count: \(v.count))",
                ]
                plan.members = [(n, ".array((0..<\(v.count)).map { \(json(element, "\(v.value)[$0]")) })")]
            } else {
                plan.decode = [
                    "let \(v.decoded) = \(decode)",
                    "let \(v.value) = try call.arena.array(\(v.decoded)?.map { \(toC) })",
                ]
                if d == .inout {
                    plan.members = [
                        (n, ".array((0..<(\(v.decoded)?.count ?? 0)).map { \(json(element, "\(v.value)![$0]")) })")
                    ]
                }
            }
        case .plugins(let record, _, let library, let symbol):
            plan.decode = pluginArray(v, index: i, record: record, library: library, symbol: symbol)
        case .countOf(let other):
            let source = ParamVariables(other)
            var length = "\(source.decoded)?.count ?? 0"
            if case .buffer? = f.params.first(where: { $0.name == other })?.role { length = source.byteCount }
            plan.derive = ["let \(v.value) = \(names.imported(p.type))(truncatingIfNeeded: \(length))"]
        case .buffer(_, let zeroLengthPath, let kind):
            plan.decode =
                zeroLengthPath
                ? bufferOrPath(v, index: i, kind: kind)
                : [
                    "let \(v.decoded) = try call.optional(\(i), \"\(n)\", as: Bytes.self) ?? Bytes()",
                    "let \(v.value) = try call.arena.bytes(\(v.decoded))",
                    "let \(v.byteCount) = \(v.decoded).count",
                ]
        case .outBuffer(let other):
            let length = ParamVariables(other).byteCount
            plan.allocate = [
                "let \(v.value) = UnsafeMutableRawPointer(try call.arena.allocate(UInt8.self, count: \(length)))"
            ]
            plan.members = [(n, "CRead.bytes(\(v.value), count: \(length)).json")]
        case .scalarOut(let type):
            plan.decode = ["let \(v.value) = try call.arena.allocate(\(names.imported(type)).self)"]
            plan.members = [(n, json(type, "\(v.value).pointee"))]
        case .selected(let selector, let cases, _):
            plan.decode = selectedRecord(v, index: i, selector: selector, cases: cases)
            plan.members = [(n, "\(v.selectedReader)()")]
        case .sizeOf(let other):
            plan.derive = [
                "let \(v.value) = \(names.imported(p.type))(truncatingIfNeeded: \(ParamVariables(other).selectedSize))"
            ]
        case .callback(let typedef):
            plan.decode = ["let \(v.value): \(names.cModule).\(typedef) = Callbacks.\(typedef)"]
        case .callbackContext(let typedef):
            plan.decode = ["let \(v.value) = try call.callbackContext(\(i), \"\(n)\", callback: \"\(typedef)\")"]
        case .callbacks(let record, let fields):
            // The supplied ones get the trampolines; the rest and every userdata stay NULL (zeroed).
            plan.decode =
                ["let \(v.value) = try call.arena.allocate(\(cRecord(record)).self)"]
                + fields.compactMap { f in
                    f.typedef.map { "\(v.value).pointee.\(SwiftNames.identifier(f.field)) = Callbacks.\($0)" }
                }
        case .null:
            plan.argument = "nil"
        case .fd(let type, let maps):
            plan.decode = [
                "let \(v.value) = \(names.imported(type))(truncatingIfNeeded: try call.fileDescriptor(\(i), \"\(n)\"))"
            ]
            if !maps.isEmpty {
                let extent = maps.map { "Int64(\(ParamVariables($0).value))" }.joined(separator: " + ")
                plan.check = ["try call.checkMapped(Int32(\(v.value)), bytes: \(extent), \"\(n)\")"]
            }
        }
        if let check = byteCheck(p, in: f) { plan.check.append(check) }
        return plan
    }

    /// An array of structs made by server-side plugins: the member named in braces in `library`
    /// (`librkcst_{op_type}.so`) of each element names its plugin.
    private func pluginArray(_ v: ParamVariables, index i: String, record: String, library: String, symbol: String)
        -> [String]
    {
        guard let open = library.firstIndex(of: "{"), let close = library.firstIndex(of: "}") else { return [] }
        let member = String(library[library.index(after: open)..<close])
        let prefix = String(library[..<open])
        let suffix = String(library[library.index(after: close)...])
        let n = v.name
        return [
            "typealias Maker_\(n) = @convention(c) () -> UnsafeMutablePointer<\(cRecord(record))>?",
            "let \(v.decoded) = try call.pluginNames(\(i), \"\(n)\", member: \"\(member)\")",
            "let \(v.value) = try call.arena.array(try \(v.decoded)?.enumerated().map { k, name in",
            "    guard let made = try call.plugin(library: \"\(prefix)\" + name + \"\(suffix)\", symbol: \"\(symbol)\", as: Maker_\(n).self)() else {",
            "        throw RPCError.invalidParams(\"\(n)[\\(k)]\", \"the plugin made no \(record)\")",
            "    }",
            "    return made.pointee",
            "})",
        ]
    }

    /// A buffer that may instead be a path string (passed with length 0).
    private func bufferOrPath(_ v: ParamVariables, index i: String, kind: String?) -> [String] {
        let confined = kind.map { ", confinedTo: \"\($0)\"" } ?? ""
        return [
            "let \(v.value): UnsafeMutableRawPointer?",
            "let \(v.byteCount): Int",
            "switch try call.bufferOrPath(\(i), \"\(v.name)\") {",
            "case .bytes(let bytes)?:",
            "    \(v.value) = try call.arena.bytes(bytes)",
            "    \(v.byteCount) = bytes.count",
            "case .path(let path)?:",
            "    \(v.value) = UnsafeMutableRawPointer(try call.arena.cString(path, path: \"\(v.name)\"\(confined)))",
            "    \(v.byteCount) = 0",
            "case nil:",
            "    \(v.value) = nil",
            "    \(v.byteCount) = 0",
            "}",
        ]
    }

    /// A `void*` to the struct an enum parameter selects: one case per struct (the constants that
    /// select it together, in value order), its size and its reader back into JSON.
    private func selectedRecord(_ v: ParamVariables, index i: String, selector: String, cases: [SelectedCase])
        -> [String]
    {
        var lines = [
            "let \(v.value): UnsafeMutableRawPointer",
            "let \(v.selectedSize): Int",
            "let \(v.selectedReader): () -> JSONValue",
            "switch Int64(\(ParamVariables(selector).value).rawValue) {",
        ]
        var byRecord: [String: [SelectedCase]] = [:]
        for c in cases where byRecord[c.record]?.contains(where: { $0.value == c.value }) != true {
            byRecord[c.record, default: []].append(c)
        }
        let groups = byRecord.values.map { $0.sorted { $0.value < $1.value } }.sorted { $0[0].value < $1[0].value }
        for group in groups {
            let record = group[0].record
            lines.append("case \(group.map { String($0.value) }.joined(separator: ", ")):  // \(record)")
            lines.append(
                "    (\(v.value), \(v.selectedSize), \(v.selectedReader)) = try call.selected(\(i), \"\(v.name)\", as: \(mirror(record)).self)"
            )
        }
        lines.append("default: throw RPCError.invalidParams(\"\(selector)\", \"no struct is known for this value\")")
        lines.append("}")
        return lines
    }

    /// What the return value becomes: statements and result members.
    private func returned(_ f: FunctionPlan) -> (lines: [String], members: [(name: String, value: String)]) {
        switch f.returns {
        case .void: return ([], [])
        case .status(let rule):
            return (["try call.check(status: Int64(r), negativeIsError: \(rule == .negativeIsError))"], [])
        case .value(let type): return ([], [("return", json(type, "r"))])
        case .record(let r): return ([], [("return", recordJSON(r, "r"))])
        case .handle(let h):
            return (
                ["guard let r else { throw call.nullResult() }"],
                [
                    ("return", "call.host.registerHandle(UInt64(UInt(bitPattern: r)), type: \"\(h)\")"),
                    ("pointee", recordJSON(h, "r.pointee")),
                ]
            )
        }
    }

    func context(_ f: FunctionPlan) -> TemplateValue {
        let jsonIndex = Dictionary(uniqueKeysWithValues: f.jsonParams.enumerated().map { ($0.element.name, $0.offset) })
        let arguments = f.params.map { p in
            argument(p, index: jsonIndex[p.name] ?? jsonIndex[p.jsonName], in: f)
        }
        let (returnLines, returnMembers) = returned(f)
        var members = returnMembers
        var finally: [String] = []
        for plan in arguments {
            members += plan.members
            finally += plan.encode
        }
        if let release = f.releasedBy {
            // Results are copied into JSON: what the call handed out is freed at once.
            let types = release.parameters.map { names.imported($0.type) }.joined(separator: ", ")
            let passed = arguments.prefix(release.parameters.count).map(\.argument).joined(separator: ", ")
            finally.append("typealias Release = @convention(c) (\(types)) -> \(names.imported(release.result))")
            finally.append("_ = try call.function(named: \"\(release.name)\", Release.self)(\(passed))")
        }
        let cParams = f.function.parameters.map { names.imported($0.type) }.joined(separator: ", ")
        let call = "function(\(arguments.map(\.argument).joined(separator: ", ")))"
        return .context([
            "cName": .text(f.function.name),
            "signature": .text(f.function.signature),
            "location": .text(f.function.location.description),
            "cType": .text("@convention(c) (\(cParams)) -> \(names.imported(f.function.result))"),
            "decode": lines(arguments.flatMap(\.decode)),
            "derive": lines(arguments.flatMap(\.derive)),
            "allocate": lines(arguments.flatMap(\.allocate)),
            "check": lines(arguments.flatMap(\.check)),
            "call": .text((f.returns != .void ? "let r = " : "") + call),
            "returned": lines(returnLines),
            "finally": lines(finally),
            "members": .list(members.map { .context(["name": .text($0.name), "value": .text($0.value)]) }),
            "hasMembers": .flag(!members.isEmpty),
        ])
    }

    /// What the method is apart from its call (`MethodSpec`): name, parameters, traits.
    func specContext(_ f: FunctionPlan) -> TemplateValue {
        let specTraits = traits(f)
        return .context([
            "cName": .text(f.function.name),
            "method": .text(f.method),
            "signature": .text(f.function.signature),
            "location": .text(f.function.location.description),
            "params": .list(f.jsonParams.map(paramSpec)),
            "hasParams": .flag(!f.jsonParams.isEmpty),
            "traits": .list(specTraits.map { .context(["trait": .text($0)]) }),
            "hasTraits": .flag(!specTraits.isEmpty),
        ])
    }

    /// `ParamSpec("name", ...)` with only what differs from the defaults.
    private func paramSpec(_ p: ParamPlan) -> TemplateValue {
        var arguments = ["\"\(p.jsonName)\""]
        if !p.isRequired { arguments.append("optional: true") }
        if let handle = handleType(p.role) { arguments.append("handle: \"\(handle)\"") }
        if case .fd = p.role { arguments.append("fd: true") }
        if !p.aliases.isEmpty {
            let aliases = p.aliases.map { alias in
                "ParamSpec.Alias(\(Emitter.swiftStringLiteral(alias.name))"
                    + (alias.member.map { ", member: \(Emitter.swiftStringLiteral($0))" } ?? "") + ")"
            }
            arguments.append("aliases: [\(aliases.joined(separator: ", "))]")
        }
        return .context(["spec": .text("ParamSpec(\(arguments.joined(separator: ", ")))")])
    }

    /// The method's traits (`MethodSpec.Trait`), only those that apply.
    private func traits(_ f: FunctionPlan) -> [String] {
        let quoted = { (names: [String]) in "[" + names.map { "\"\($0)\"" }.joined(separator: ", ") + "]" }
        var traits: [String] = []
        if f.blocking { traits.append(".blocking") }
        if f.privileged { traits.append(".privileged") }
        if let type = f.creates, let member = resultHandleKey(f) {
            traits.append(".creates(\"\(type)\", in: \"\(member)\")")
        }
        if f.sharesCreated {
            traits.append(".shared(instanceField: \(f.instanceField.map(quoted) ?? "nil"))")
            let paths = pathMembers(f).map { "\"\($0.path)\": \"\($0.kind)\"" }
            if !paths.isEmpty { traits.append(".paths([\(paths.joined(separator: ", "))])") }
        }
        if !f.defaults.isEmpty {
            let pairs = f.defaults.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }
            traits.append(".defaults([\(pairs.joined(separator: ", "))])")
        }
        if let perRun = f.perRun {
            let fields = perRun.fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }
            traits.append(
                ".perRun(PerRun(from: \"\(perRun.from)\", to: \"\(perRun.to)\", fields: [\(fields.joined(separator: ", "))]))"
            )
        }
        if !f.holdsBytes.isEmpty { traits.append(".holdsBytes(\(quoted(f.holdsBytes)))") }
        if let type = f.destroys { traits.append(".destroys(\"\(type)\")") }
        if let type = f.aborts { traits.append(".aborts(\"\(type)\")") }
        if f.sharedState != .none { traits.append(".sharedState(\(sharedStateCode(f.sharedState)))") }
        let uses = Set(f.params.compactMap { handleType($0.role) }).sorted()
        if !uses.isEmpty { traits.append(".uses(\(quoted(uses)))") }
        if let callback = f.callbackContextTypedef {
            traits.append(".streams(\"\(callback)\")")
            if let value = plan.callbacks.first(where: { $0.typedef == callback })?.pause {
                traits.append(".pauses(returning: \(value))")
            }
            if let limit = f.streamLimit {
                let limits = limit.limit.map { Emitter.swiftStringLiteral($0) }.joined(separator: ", ")
                traits.append(
                    ".streamLimit(StreamLimit(\(Emitter.swiftStringLiteral(limit.ending)), count: "
                        + "\(Emitter.swiftStringLiteral(limit.count)), limit: [\(limits)]))")
            }
        }
        if let group = f.statuses { traits.append(".statuses(Statuses.\(SwiftNames.identifier(group)))") }
        let needs = neededSymbols(f)
        if !needs.isEmpty { traits.append(".needs(\(quoted(needs)))") }
        if let composite = f.composite { traits.append(".composite(\(compositeCode(composite)))") }
        return traits
    }

    /// The file paths among a call's parameters (`param.model_path`) and their kinds: strings, and
    /// the string fields of struct parameters.
    private func pathMembers(_ f: FunctionPlan) -> [(path: String, kind: String)] {
        f.jsonParams.flatMap { p -> [(path: String, kind: String)] in
            switch p.role {
            case .string(let kind?): return [(p.jsonName, kind)]
            case .record(let name, .in), .record(let name, .inout):
                let fields = plan.records.first { $0.record.name == name }?.fields ?? []
                return fields.compactMap { field in
                    if case .string(let kind?) = field.role { return ("\(p.jsonName).\(field.field.name)", kind) }
                    return nil
                }
            default: return []
            }
        }
    }

    /// `Composite(...)`: the form's parameters, defaults and steps, templates as JSON literals.
    private func compositeCode(_ c: CompositePlan) -> String {
        let names = c.params.map { Emitter.swiftStringLiteral($0.name) }.joined(separator: ", ")
        let defaults = c.params.compactMap { p in
            p.defaultValue.map { "\(Emitter.swiftStringLiteral(p.name)): \(JSONLiteral.swift($0))" }
        }
        let steps = c.steps.map { step in
            "Composite.Step(\(Emitter.swiftStringLiteral(step.method)), params: \(JSONLiteral.swift(step.params))"
                + (step.condition.map { ", if: \(Emitter.swiftStringLiteral($0))" } ?? "") + ")"
        }
        return "Composite(params: [\(names)], "
            + (defaults.isEmpty ? "" : "defaults: [\(defaults.joined(separator: ", "))], ")
            + "steps: [\(steps.joined(separator: ", "))], answer: \(c.answer))"
    }

    private func sharedStateCode(_ effect: SharedStateEffect) -> String {
        switch effect {
        case .none: return ".none"
        case .changes: return ".changes"
        case .changesWhen(let path): return ".changesWhen([" + path.map { "\"\($0)\"" }.joined(separator: ", ") + "])"
        }
    }

    /// The handle type a JSON parameter carries, for hosts that route or translate handle ids.
    private func handleType(_ role: ParamRole) -> String? {
        switch role {
        case .handle(let h), .handleIn(let h): return h
        default: return nil
        }
    }

    /// The result member that holds a new handle: the out-parameter's name, or `return`.
    private func resultHandleKey(_ f: FunctionPlan) -> String? {
        if case .handle = f.returns { return "return" }
        return f.params.first { if case .handleOut = $0.role { return true } else { return false } }?.name
    }

    /// The name a parameter has in JSON: a JSON-only count takes its own name.
    private func neededSymbols(_ f: FunctionPlan) -> [String] {
        var records: [String] = []
        for p in f.params {
            switch p.role {
            case .record(let r, _): records.append(r)
            case .selected(_, let cases, _): records += cases.map(\.record)
            case .array(let e, _, _): if case .record(let r) = e.resolved { records.append(r) }
            default: break
            }
        }
        let makers = records.compactMap { r in plan.records.first { $0.record.name == r }?.defaultMaker }
        return Set(makers + (f.releasedBy.map { [$0.name] } ?? [])).sorted()
    }

    private func lines(_ code: [String]) -> TemplateValue {
        .list(code.map { .context(["line": .text($0)]) })
    }
}
