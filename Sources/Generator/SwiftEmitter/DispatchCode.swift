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
    private func valueFromJSON(_ type: CType, _ index: Int, _ name: String) -> String {
        if case .enumeration(let e) = type.resolved {
            return "try call.value(\(index), \"\(name)\", as: \(mirror(e)).self).cValue"
        }
        let swift = SwiftNames.mirrorNumber(type)!
        switch type.resolved {
        case .integer, .char:
            return
                "\(names.imported(type))(truncatingIfNeeded: try call.value(\(index), \"\(name)\", as: \(swift).self))"
        default:
            return "try call.value(\(index), \"\(name)\", as: \(swift).self)"
        }
    }

    /// An array parameter's elements: the imported C type, the JSON decode, and the conversion of `$0` to C.
    private func arrayElement(_ element: CType, _ i: Int, _ n: String) -> (cType: String, decode: String, toC: String) {
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
    private func byteChecks(_ f: FunctionPlan) -> [String] {
        f.params.compactMap { p in
            guard let size = p.minBytes else { return nil }
            let elements = size.product.map { "Int64(p_\($0))" }.joined(separator: ", ")
            var bits = String(size.defaultBits)
            if let (param, field) = size.bitsOf {
                var value = "p_\(param).\(SwiftNames.identifier(field)).rawValue"
                if case .pointer? = f.params.first(where: { $0.name == param })?.type.resolved {
                    value = "(p_\(param)?.pointee.\(SwiftNames.identifier(field)).rawValue ?? 0)"
                }
                let cases = Dictionary(grouping: size.bits.keys, by: { size.bits[$0]! }).sorted { $0.key < $1.key }
                    .map { "case \($0.value.sorted().map(String.init).joined(separator: ", ")): \($0.key)" }
                bits = "{ switch Int64(\(value)) { \(cases.joined(separator: "; ")); default: \(size.defaultBits) } }()"
            }
            return "try call.requireBytes(l_\(p.name), elements: [\(elements)], bits: \(bits), \"\(p.name)\")"
        }
    }

    func context(_ f: FunctionPlan) -> TemplateValue {
        let jsonIndex = Dictionary(uniqueKeysWithValues: f.jsonParams.enumerated().map { ($0.element.name, $0.offset) })
        var prepare: [String] = []
        var late: [String] = []
        var after: [String] = []
        var arguments: [String] = []
        var uses: [String] = []
        for p in f.params {
            let v = "p_\(p.name)"
            let i = jsonIndex[p.name] ?? -1
            let n = p.name
            arguments.append(v)
            switch p.role {
            case .value(let type):
                prepare.append("let \(v) = \(valueFromJSON(type, i, n))")
            case .string(let kind):
                let confined = kind.map { ", confinedTo: \"\($0)\"" } ?? ""
                prepare.append(
                    "let \(v) = try call.arena.cString(try call.optional(\(i), \"\(n)\", as: String.self), path: \"\(n)\"\(confined))"
                )
            case .handle(let h):
                uses.append(h)
                prepare.append("let \(v) = \(fromBits(p.type, "try call.handle(\(i), \"\(n)\", type: \"\(h)\")"))")
                if f.destroys == h { after.append("try call.releaseHandle(\(i), \"\(n)\", type: \"\(h)\")") }
            case .handleIn(let h):
                uses.append(h)
                guard case .pointer(let to, _) = p.type.resolved else { continue }
                prepare.append("var h_\(n) = \(fromBits(to, "try call.handle(\(i), \"\(n)\", type: \"\(h)\")"))")
                arguments[arguments.count - 1] = "&h_\(n)"
            case .handleOut(let h):
                guard case .pointer(let to, _) = p.type.resolved else { continue }
                let initial = { if case .pointer = to.resolved { return "nil" } else { return "0" } }()
                prepare.append("var h_\(n): \(names.imported(to)) = \(initial)")
                arguments[arguments.count - 1] = "&h_\(n)"
                after.append("result[\"\(n)\"] = call.host.registerHandle(\(toBits(to, "h_\(n)")), type: \"\(h)\")")
            case .record(let r, let d):
                switch d {
                case .in:
                    prepare.append(
                        "let \(v) = try call.arena.single(try call.record(\(i), \"\(n)\", as: \(mirror(r)).self)?.cValue(call.arena))"
                    )
                case .out:
                    prepare.append("let \(v) = try call.arena.allocate(\(cRecord(r)).self)")
                    after.append("result[\"\(n)\"] = \(recordJSON(r, "\(v).pointee"))")
                case .inout:
                    prepare.append(
                        "let \(v) = try call.arena.single(try (call.record(\(i), \"\(n)\", as: \(mirror(r)).self) ?? call.defaults(\(mirror(r)).self)).cValue(call.arena))!"
                    )
                    after.append("result[\"\(n)\"] = \(recordJSON(r, "\(v).pointee"))")
                }
            case .array(let element, let d, let count):
                let (imported, decode, toC) = arrayElement(element, i, n)
                if d != .out {
                    prepare.append("let j_\(n) = \(decode)")
                    prepare.append("let \(v) = try call.arena.array(j_\(n)?.map { \(toC) })")
                    if d == .inout {
                        after.append(
                            "result[\"\(n)\"] = .array((0..<(j_\(n)?.count ?? 0)).map { \(json(element, "\(v)![$0]")) })"
                        )
                    }
                } else {
                    let countExpr: String
                    switch count {
                    case .param(let c): countExpr = "Int(p_\(c))"
                    case .jsonParam(let name, let def, let max):
                        countExpr = "try call.count(\(jsonIndex[n] ?? -1), \"\(name)\", default: \(def), max: \(max))"
                    case .jsonLength: countExpr = "1"
                    }
                    late.append("let n_\(n) = \(countExpr)")
                    late.append("let \(v) = try call.arena.allocate(\(imported).self, count: n_\(n))")
                    after.append("result[\"\(n)\"] = .array((0..<n_\(n)).map { \(json(element, "\(v)[$0]")) })")
                }
            case .plugins(let record, _, let library, let symbol):
                // `librkcst_{op_type}.so`: the member `op_type` of each element names the plugin.
                guard let open = library.firstIndex(of: "{"), let close = library.firstIndex(of: "}") else { break }
                let member = String(library[library.index(after: open)..<close])
                let prefix = String(library[..<open])
                let suffix = String(library[library.index(after: close)...])
                let cType = cRecord(record)
                prepare.append("typealias Maker_\(n) = @convention(c) () -> UnsafeMutablePointer<\(cType)>?")
                prepare.append("let j_\(n) = try call.pluginNames(\(i), \"\(n)\", member: \"\(member)\")")
                prepare.append("let \(v) = try call.arena.array(try j_\(n)?.enumerated().map { k, name in")
                prepare.append(
                    "    guard let made = try call.plugin(library: \"\(prefix)\" + name + \"\(suffix)\", symbol: \"\(symbol)\", as: Maker_\(n).self)() else {"
                )
                prepare.append(
                    "        throw RPCError.invalidParams(\"\(n)[\\(k)]\", \"the plugin made no \(record)\")")
                prepare.append("    }")
                prepare.append("    return made.pointee")
                prepare.append("})")
            case .countOf(let other):
                let source = f.params.first { $0.name == other }
                var lengthExpr = "j_\(other)?.count ?? 0"
                if case .buffer? = source?.role { lengthExpr = "l_\(other)" }
                late.insert("let \(v) = \(names.imported(p.type))(truncatingIfNeeded: \(lengthExpr))", at: 0)
            case .buffer(_, let zeroLengthPath, let kind):
                if zeroLengthPath {
                    prepare.append("let j_\(n) = try call.bufferOrPath(\(i), \"\(n)\")")
                    prepare.append("let \(v): UnsafeMutableRawPointer?")
                    prepare.append("let l_\(n): Int")
                    prepare.append("switch j_\(n) {")
                    prepare.append("case .bytes(let b)?: \(v) = try call.arena.bytes(b); l_\(n) = b.count")
                    prepare.append(
                        "case .path(let s)?: \(v) = UnsafeMutableRawPointer(try call.arena.cString(s, path: \"\(n)\"\(kind.map { ", confinedTo: \"\($0)\"" } ?? ""))); l_\(n) = 0"
                    )
                    prepare.append("case nil: \(v) = nil; l_\(n) = 0")
                    prepare.append("}")
                } else {
                    prepare.append("let j_\(n) = try call.optional(\(i), \"\(n)\", as: Bytes.self) ?? Bytes()")
                    prepare.append("let \(v) = try call.arena.bytes(j_\(n))")
                    prepare.append("let l_\(n) = j_\(n).count")
                }
            case .outBuffer(let other):
                late.append(
                    "let \(v) = UnsafeMutableRawPointer(try call.arena.allocate(UInt8.self, count: l_\(other)))")
                after.append("result[\"\(n)\"] = CRead.bytes(\(v), count: l_\(other)).json")
            case .scalarOut(let type):
                prepare.append("let \(v) = try call.arena.allocate(\(names.imported(type)).self)")
                after.append("result[\"\(n)\"] = \(json(type, "\(v).pointee"))")
            case .selected(let selector, let cases, _):
                prepare.append("let \(v): UnsafeMutableRawPointer")
                prepare.append("let s_\(n): Int")
                prepare.append("let r_\(n): () -> JSONValue")
                prepare.append("switch Int64(p_\(selector).rawValue) {")
                var seen = Set<Int64>()
                for c in cases where seen.insert(c.value).inserted {
                    prepare.append("case \(c.value): // \(c.constant)")
                    prepare.append(
                        "    let value = try call.arena.single(try (call.record(\(i), \"\(n)\", as: \(mirror(c.record)).self) ?? call.defaults(\(mirror(c.record)).self)).cValue(call.arena))!"
                    )
                    prepare.append(
                        "    (\(v), s_\(n), r_\(n)) = (UnsafeMutableRawPointer(value), MemoryLayout<\(cRecord(c.record))>.size, { \(mirror(c.record))(value.pointee).json })"
                    )
                }
                prepare.append(
                    "default: throw RPCError.invalidParams(\"\(selector)\", \"no struct is known for this value\")")
                prepare.append("}")
                after.append("result[\"\(n)\"] = r_\(n)()")
            case .sizeOf(let other):
                late.insert("let \(v) = \(names.imported(p.type))(truncatingIfNeeded: s_\(other))", at: 0)
            case .callback(let typedef):
                prepare.append("let \(v): \(names.cModule).\(typedef) = Callbacks.\(typedef)")
            case .callbackContext(let typedef):
                prepare.append("let \(v) = try call.callbackContext(\(i), \"\(n)\", callback: \"\(typedef)\")")
            case .null:
                arguments[arguments.count - 1] = "nil"
            case .fd(let type, let maps):
                prepare.append(
                    "let \(v) = \(names.imported(type))(truncatingIfNeeded: try call.fileDescriptor(\(i), \"\(n)\"))")
                if !maps.isEmpty {
                    let extent = maps.map { "Int64(p_\($0))" }.joined(separator: " + ")
                    late.append("try call.checkMapped(Int32(\(v)), bytes: \(extent), \"\(n)\")")
                }
            }
        }

        late += byteChecks(f)

        var resultLines: [String] = []
        switch f.returns {
        case .void:
            break
        case .status(let rule):
            resultLines.append("try call.check(status: Int64(r), negativeIsError: \(rule == .negativeIsError))")
        case .value(let type):
            resultLines.append("result[\"return\"] = \(json(type, "r"))")
        case .record(let r):
            resultLines.append("result[\"return\"] = \(recordJSON(r, "r"))")
        case .handle(let h):
            resultLines.append("guard let r else { throw call.nullResult() }")
            resultLines.append(
                "result[\"return\"] = call.host.registerHandle(UInt64(UInt(bitPattern: r)), type: \"\(h)\")")
            resultLines.append("result[\"pointee\"] = \(recordJSON(h, "r.pointee"))")
        }

        if let release = f.releasedBy {
            // Results are copied into JSON: what the call handed out is freed at once.
            let type =
                "@convention(c) (\(release.parameters.map { names.imported($0.type) }.joined(separator: ", "))) -> \(names.imported(release.result))"
            after.append("typealias Release = \(type)")
            after.append(
                "_ = try call.function(named: \"\(release.name)\", Release.self)(\(arguments.prefix(release.parameters.count).joined(separator: ", ")))"
            )
        }
        let cParams = f.function.parameters.map { names.imported($0.type) }.joined(separator: ", ")
        let hasResult = f.returns != .void
        let spec = f.jsonParams.map { p -> TemplateValue in
            .context([
                "name": .text(jsonName(p)), "optional": .flag(!p.role.isRequired),
                "handle": .text(handleType(p.role).map { "\"\($0)\"" } ?? "nil"),
                "fd": .flag({ if case .fd = p.role { return true } else { return false } }()),
            ])
        }
        return .context([
            "cName": .text(f.function.name),
            "method": .text(f.method),
            "signature": .text(f.function.signature),
            "location": .text(f.function.location.description),
            "params": .list(spec),
            "blocking": .flag(f.blocking),
            "privileged": .flag(f.privileged),
            "shared": .flag(f.sharesCreated),
            "holdsBytes": .text(f.holdsBytes.map { "\"\($0)\"" }.joined(separator: ", ")),
            "instanceField": .text(
                f.instanceField.map { "[" + $0.map { "\"\($0)\"" }.joined(separator: ", ") + "]" } ?? "nil"),
            "creates": .text(f.creates.map { "\"\($0)\"" } ?? "nil"),
            "resultHandle": .text(resultHandleKey(f).map { "\"\($0)\"" } ?? "nil"),
            "destroys": .text(f.destroys.map { "\"\($0)\"" } ?? "nil"),
            "aborts": .text(f.aborts.map { "\"\($0)\"" } ?? "nil"),
            "sharedState": .text(sharedStateCode(f.sharedState)),
            "uses": .text(Set(uses).sorted().map { "\"\($0)\"" }.joined(separator: ", ")),
            "streams": .text(f.callbackContextTypedef.map { "\"\($0)\"" } ?? "nil"),
            "needs": .text(neededSymbols(f).map { "\"\($0)\"" }.joined(separator: ", ")),
            "cType": .text("@convention(c) (\(cParams)) -> \(names.imported(f.function.result))"),
            "prepare": lines(prepare + late),
            "call": .text((hasResult ? "let r = " : "") + "function(\(arguments.joined(separator: ", ")))"),
            "after": lines(resultLines + after),
        ])
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
    func jsonName(_ p: ParamPlan) -> String {
        if case .array(_, .out, .jsonParam(let name, _, _)) = p.role { return name }
        return p.name
    }

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
