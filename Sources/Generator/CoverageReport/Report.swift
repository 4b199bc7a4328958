import APIModel
import BindingPlan

/// The API coverage report: every function, struct, enum and macro of a header directory, bound
/// or not and why. Its JSON form is what `binding-gen diff` compares.
public struct Report: Codable, Equatable, Sendable {
    public struct FunctionEntry: Codable, Equatable, Sendable {
        public var name: String
        public var header: String
        public var signature: String
        public var bound: Bool
        public var method: String?
        public var reason: String?
        /// JSON parameters in positional order.
        public var params: [String]?
        /// What its result means (the annotations'), and what the binding leaves out.
        public var meaning: String?
        public var notes: [String]?
        /// For a shared creating function: the members of its parameters the object's calls give
        /// per run (clients differing only there share the object).
        public var perRun: [String]?
        /// Other names of its parameters (`model_path` for `model`), as `alias: param`.
        public var aliases: [String]?
        /// Its method's composite form: the parameters of its own, and the functions it runs.
        public var composite: CompositeEntry?
    }
    public struct CompositeEntry: Codable, Equatable, Sendable {
        public var params: [String]
        public var steps: [String]
    }
    public struct FieldEntry: Codable, Equatable, Sendable {
        public var name: String
        public var type: String
        public var offset: Int
        public var size: Int
        /// Why the field is not part of the JSON form, when it is not.
        public var omitted: String?
    }
    public struct StructEntry: Codable, Equatable, Sendable {
        public var name: String
        public var kind: String
        public var header: String
        public var size: Int
        public var fields: [FieldEntry]
        public var opaque: String?
    }
    public struct EnumValue: Codable, Equatable, Sendable {
        public var name: String
        public var value: Int64
    }
    public struct EnumEntry: Codable, Equatable, Sendable {
        public var name: String
        public var header: String
        public var values: [EnumValue]
    }
    public struct MacroEntry: Codable, Equatable, Sendable {
        public var name: String
        public var header: String
        public var value: String
    }
    public struct CallbackEntry: Codable, Equatable, Sendable {
        public var name: String
        public var header: String
        public var signature: String
        public var hostSupplied: Bool
        /// What its return value means (the annotations').
        public var meaning: String?
    }
    public struct Totals: Codable, Equatable, Sendable {
        public var functions: Int
        public var bound: Int
        public var structs: Int
        public var enums: Int
        public var macros: Int
    }

    public var target: String
    public var functions: [FunctionEntry]
    /// `static inline` helpers in the headers: not library symbols, never bound.
    public var inlineHelpers: [String]
    public var structs: [StructEntry]
    public var enums: [EnumEntry]
    public var macros: [MacroEntry]
    public var callbacks: [CallbackEntry]
    public var warnings: [String]
    public var totals: [String: Totals]

    enum CodingKeys: String, CodingKey {
        case target, functions, structs, enums, macros, callbacks, warnings, totals
        case inlineHelpers = "inline_helpers"
    }

    private static func nonEmpty(_ items: [String]) -> [String]? { items.isEmpty ? nil : items }

    public init(plan: BindingPlan) {
        let model = plan.model
        target = model.target
        functions = plan.functions.map { f in
            FunctionEntry(
                name: f.function.name, header: f.function.header, signature: f.function.signature,
                bound: f.bound, method: f.bound ? f.method : nil, reason: f.reason,
                params: f.bound ? f.jsonParams.map(\.jsonName) : nil, meaning: f.meaning,
                notes: f.notes.isEmpty ? nil : f.notes,
                perRun: f.perRun.map { perRun in
                    perRun.fields.keys.sorted().map { perRun.from + "." + $0 }
                },
                aliases: Self.nonEmpty(
                    f.jsonParams.flatMap { p in
                        p.aliases.map { "\($0.name): \(p.jsonName)" + ($0.member.map { ".\($0)" } ?? "") }
                    }),
                composite: f.composite.map { c in
                    CompositeEntry(
                        params: c.params.map(\.name),
                        steps: c.steps.map { $0.function + ($0.condition.map { " (if \($0))" } ?? "") })
                })
        }
        inlineHelpers = model.inlineHelpers.map(\.name)
        structs = plan.records.map { r in
            StructEntry(
                name: r.record.name, kind: r.record.kind.rawValue, header: r.record.header, size: r.record.size,
                fields: r.fields.map { f in
                    var omitted: String?
                    if case .omitted(let reason) = f.role { omitted = reason }
                    return FieldEntry(
                        name: f.field.name, type: f.field.type.spelling, offset: f.field.offset,
                        size: f.field.size, omitted: omitted)
                }, opaque: r.opaqueReason)
        }
        enums = model.enums.map { e in
            EnumEntry(
                name: e.name, header: e.header, values: e.constants.map { EnumValue(name: $0.name, value: $0.value) })
        }
        macros = model.macros.map { m in
            let value: String
            switch m.value {
            case .integer(let v): value = String(v)
            case .string(let s): value = "\"\(s)\""
            }
            return MacroEntry(name: m.name, header: m.header, value: value)
        }
        let hostSupplied = Set(plan.callbacks.map(\.typedef))
        callbacks = model.typedefs.compactMap { t in
            guard case .pointer(let to, _) = t.underlying.resolved, case .function(let f) = to.resolved else {
                return nil
            }
            return CallbackEntry(
                name: t.name, header: t.header, signature: f.spelling(name: "(*\(t.name))"),
                hostSupplied: hostSupplied.contains(t.name),
                meaning: plan.callbacks.first { $0.typedef == t.name }?.meaning)
        }
        warnings = (model.diagnostics + plan.warnings).map(\.description)
        var totals: [String: Totals] = [:]
        for header in model.headers {
            let fs = functions.filter { $0.header == header }
            totals[header] = Totals(
                functions: fs.count, bound: fs.filter(\.bound).count,
                structs: structs.filter { $0.header == header }.count,
                enums: enums.filter { $0.header == header }.count,
                macros: macros.filter { $0.header == header }.count)
        }
        self.totals = totals
    }

    public var boundCount: Int { functions.filter(\.bound).count }
}
