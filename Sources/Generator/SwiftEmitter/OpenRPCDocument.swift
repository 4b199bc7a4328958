import APIModel
import BindingPlan
import Foundation

/// OpenRPC method objects for the bound functions, with JSON Schemas derived from the C types.
struct OpenRPCDocument {
    let plan: BindingPlan
    let dispatch: DispatchCode
    /// Namespaces with a generated `<namespace>.get_constants`.
    let constantNamespaces: [String]

    func json() throws -> String {
        var schemas: [String: Any] = [:]
        for r in plan.records where !r.record.isAnonymousMember {
            schemas[r.record.name] = recordSchema(r)
        }
        for e in plan.model.enums {
            schemas[e.name] = [
                "oneOf": [["enum": e.constants.map(\.name)], ["type": "integer"]],
                "description": "C enum \(e.name): a constant's name or its number",
            ]
        }
        let methods: [[String: Any]] = plan.functions.filter(\.bound).map { f in
            var method: [String: Any] = [
                "name": f.method,
                "summary": f.function.signature,
                // The C function the method calls: a client tells what a runtime's library resolved.
                "x-function": f.function.name,
                "paramStructure": "either",
                "params": f.jsonParams.map { p in
                    var param: [String: Any] = ["name": p.jsonName, "schema": paramSchema(p)]
                    var description: [String] = []
                    // A handle the caller has one of may be null or left out: the host fills it in.
                    switch p.role {
                    case .handle(let type), .handleIn(let type):
                        param["required"] = false
                        param["x-handle"] = type
                        description.append("a \(type) handle; null or left out: your one \(type)")
                    default:
                        param["required"] = p.isRequired
                        if let value = p.defaultValue { description.append("default \(value)") }
                    }
                    for alias in p.aliases {
                        description.append(
                            "by name also '\(alias.name)'" + (alias.member.map { ": its \($0)" } ?? ""))
                    }
                    if !description.isEmpty { param["description"] = description.joined(separator: "; ") }
                    return param
                } + (f.composite.map(compositeParams) ?? []),
                "result": [
                    "name": "result", "schema": f.composite.map { compositeResult($0, of: f) } ?? resultSchema(f),
                ],
            ]
            // A streaming call: each callback message comes before the answer, the last one is it.
            if let message = streamMessageSchema(f) {
                method["x-stream-message"] = message
                method["result"] = [
                    "name": "result",
                    "schema": message.merging(["description": "the stream's last message"]) { $1 },
                ]
            }
            // What only the header's comments say, and what the binding leaves out.
            let remarks =
                (f.meaning.map { ["Result: \($0)."] } ?? []) + f.notes.map { "\($0)." }
                + (f.composite.map { [compositeRemark($0)] } ?? [])
            if !remarks.isEmpty { method["description"] = remarks.joined(separator: " ") }
            return method
        }
        let constantMethods: [[String: Any]] = constantNamespaces.map { ns in
            [
                "name": "\(ns).get_constants",
                "summary": "Every enum constant and integer or string macro of the headers, by name",
                "paramStructure": "either",
                "params": [] as [Any],
                "result": [
                    "name": "result",
                    "schema": [
                        "type": "object",
                        "additionalProperties": ["type": ["integer", "string"]],
                    ],
                ],
            ]
        }
        let document: [String: Any] = ["methods": methods + constantMethods, "components": ["schemas": schemas]]
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    func schema(_ type: CType) -> [String: Any] {
        switch type.resolved {
        case .bool: return ["type": "boolean"]
        case .char: return ["type": "integer", "minimum": -128, "maximum": 127]
        case .integer(_, let bytes, let signed):
            if bytes >= 8 { return ["type": "integer"] }
            let bits = bytes * 8
            return signed
                ? ["type": "integer", "minimum": -(1 << (bits - 1)), "maximum": (1 << (bits - 1)) - 1]
                : ["type": "integer", "minimum": 0, "maximum": (1 << bits) - 1]
        case .floating: return ["type": "number"]
        case .enumeration(let name), .record(let name): return ["$ref": "#/components/schemas/\(name)"]
        case .pointer(let to, _):
            if case .char = to.resolved { return ["type": ["string", "null"]] }
            if case .record(let r) = to.resolved {
                return ["oneOf": [["$ref": "#/components/schemas/\(r)"], ["type": "null"]]]
            }
            return ["type": "null"]
        case .array(let of, _): return ["type": "array", "items": schema(of)]
        default: return [:]
        }
    }

    private let handleSchema: [String: Any] = ["description": "a handle id issued by the server"]
    private let base64Schema: [String: Any] = ["type": "string", "contentEncoding": "base64"]

    private func stringSchema(_ pathKind: String?) -> [String: Any] {
        guard let pathKind else { return ["type": ["string", "null"]] }
        return [
            "type": ["string", "null"],
            "description": "a path in the server's \(pathKind) directories (relative paths start at the first)",
        ]
    }

    private func paramSchema(_ p: ParamPlan) -> [String: Any] {
        switch p.role {
        case .value(let t): return schema(t)
        case .string(let kind): return stringSchema(kind)
        case .handle, .handleIn: return handleSchema
        case .record(let r, _): return ["oneOf": [["$ref": "#/components/schemas/\(r)"], ["type": "null"]]]
        case .array(_, .out, _): return ["type": "integer", "minimum": 1]
        case .array(let e, _, _): return ["type": ["array", "null"], "items": schema(e)]
        case .buffer(_, true, _):
            return [
                "oneOf": [
                    ["type": "object", "properties": ["path": ["type": "string"]], "required": ["path"]],
                    ["type": "object", "properties": ["base64": base64Schema], "required": ["base64"]],
                ]
            ]
        case .buffer: return base64Schema
        case .selected(_, let cases, _):
            return ["oneOf": Set(cases.map(\.record)).sorted().map { ["$ref": "#/components/schemas/\($0)"] }]
        case .callbackContext: return ["description": "any JSON value, echoed back with every callback message"]
        case .fd:
            return ["type": "integer", "description": "index of a file descriptor sent with the message (SCM_RIGHTS)"]
        case .plugins(_, _, let library, _):
            let member = library.drop { $0 != "{" }.dropFirst().prefix { $0 != "}" }
            return [
                "type": "array",
                "description": "server-side plugins, each named by its \(member) (the library \(library))",
                "items": [
                    "type": "object", "properties": [String(member): ["type": "string"]], "required": [String(member)],
                ],
            ]
        default: return [:]
        }
    }

    /// The members of a streaming call's messages: its callback's message struct's fields (those
    /// the runtime filled in), its state by number (`_callback_state`, as the host's trampolines
    /// send it), its other parameters by name, and the call's userdata echoed back.
    private func streamMessageSchema(_ f: FunctionPlan) -> [String: Any]? {
        guard let typedef = f.callbackContextTypedef, let c = plan.callbacks.first(where: { $0.typedef == typedef })
        else { return nil }
        var properties: [String: Any] = ["userdata": ["description": "the call's userdata, echoed back"]]
        for (name, type) in zip(c.parameterNames, c.function.parameters) where name != c.userdata {
            if name == c.message, case .pointer(let to, _) = type.resolved, case .record(let record) = to.resolved,
                let r = plan.records.first(where: { $0.record.name == record }),
                let fields = recordSchema(r)["properties"] as? [String: Any]
            {
                properties.merge(fields) { $1 }
            } else if name == c.state {
                properties["_callback_state"] = ["type": "integer", "description": "the callback's \(name), by number"]
            } else {
                properties[name] = schema(type)
            }
        }
        return ["type": "object", "properties": properties]
    }

    /// A composite form's own parameters: optional, by name only.
    private func compositeParams(_ c: CompositePlan) -> [[String: Any]] {
        c.params.map { p in
            var schema: [String: Any]
            switch p.like {
            case .param(let like): schema = paramSchema(like)
            case .field(_, let field): schema = fieldSchema(field) ?? [:]
            }
            var description =
                p.doc + " (by name only: with it, the call runs "
                + c.steps.map(\.function).joined(separator: ", ") + ")"
            if let value = p.defaultValue, let text = try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)
            {
                description += "; default \(text)"
            }
            return ["name": p.name, "schema": schema, "required": false, "description": description]
        }
    }

    /// The answer of either form: the function's own, or the composite's answering step's.
    private func compositeResult(_ c: CompositePlan, of f: FunctionPlan) -> [String: Any] {
        let answering = c.steps[c.answer].function
        guard answering != f.function.name, let step = plan.functions.first(where: { $0.function.name == answering })
        else { return resultSchema(f) }
        return ["oneOf": [resultSchema(f), resultSchema(step)]]
    }

    private func compositeRemark(_ c: CompositePlan) -> String {
        "Given " + c.params.map { "'\($0.name)'" }.joined(separator: " or ") + " (by name), the call runs "
            + c.steps.map { $0.function + ($0.condition.map { " (when '\($0)' is given)" } ?? "") }
            .joined(separator: ", ") + " and answers with " + c.steps[c.answer].function + "'s result."
    }

    private func resultSchema(_ f: FunctionPlan) -> [String: Any] {
        var properties: [String: Any] = [:]
        for p in f.params where p.role.isInResult {
            switch p.role {
            case .handleOut: properties[p.name] = handleSchema
            case .outBuffer: properties[p.name] = base64Schema
            case .scalarOut(let t): properties[p.name] = schema(t)
            case .record(let r, _): properties[p.name] = ["$ref": "#/components/schemas/\(r)"]
            case .array(let e, _, _): properties[p.name] = ["type": "array", "items": schema(e)]
            case .selected(_, let cases, _):
                properties[p.name] = [
                    "oneOf": Set(cases.map(\.record)).sorted().map { ["$ref": "#/components/schemas/\($0)"] }
                ]
            default: break
            }
        }
        switch f.returns {
        case .value(let t): properties["return"] = schema(t)
        case .record(let r): properties["return"] = ["$ref": "#/components/schemas/\(r)"]
        case .handle(let h):
            properties["return"] = handleSchema
            properties["pointee"] = ["$ref": "#/components/schemas/\(h)"]
        default: break
        }
        return ["type": "object", "properties": properties]
    }

    /// A field's schema; nil for one the JSON form leaves out (or an anonymous member's, whose
    /// fields are the record's own).
    private func fieldSchema(_ f: FieldPlan) -> [String: Any]? {
        switch f.role {
        case .value(let t): return schema(t)
        case .string(let kind): return stringSchema(kind)
        case .charArray(let n): return ["type": "string", "maxLength": n - 1]
        case .fixedArray(let e, let n): return ["type": "array", "items": schema(e), "maxItems": n]
        case .record(let name): return ["$ref": "#/components/schemas/\(name)"]
        case .optionalRecord(let name): return ["oneOf": [["$ref": "#/components/schemas/\(name)"], ["type": "null"]]]
        case .pointerArray(let e, _, let base64, _):
            return base64
                ? ["oneOf": [base64Schema, ["type": "array", "items": schema(e)]]]
                : ["type": "array", "items": schema(e)]
        case .buffer: return base64Schema
        case .anonymousMember, .omitted: return nil
        }
    }

    private func recordSchema(_ r: RecordPlan) -> [String: Any] {
        if r.opaqueReason != nil { return ["type": "object", "properties": ["bytes": base64Schema]] }
        var properties: [String: Any] = [:]
        func add(_ plan: RecordPlan) {
            for f in plan.fields {
                if case .anonymousMember(let inner) = f.role {
                    if let innerPlan = self.plan.records.first(where: { $0.record.name == inner }) { add(innerPlan) }
                } else if let schema = fieldSchema(f) {
                    properties[f.field.name] = schema
                }
            }
        }
        add(r)
        return [
            "type": "object", "properties": properties, "additionalProperties": false,
            "description": "C \(r.record.kind.rawValue) \(r.record.name), \(r.record.size) bytes",
        ]
    }
}
