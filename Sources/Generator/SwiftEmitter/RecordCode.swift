import APIModel
import BindingPlan

/// The Swift pieces of one mirror property: declaration type, default, and how it reads from and
/// writes to the C value `c`. The structure around them is in `Templates/Types.swift.tmpl`.
struct PropertyCode {
    var name: String
    var swiftType: String
    var defaultValue: String
    /// An expression reading the C value `c`.
    var read: String
    /// Statements writing the property into the `var c`.
    var write: String
    /// True when `apply` updates the value in place (nested records keep their defaults).
    var appliesInPlace: Bool
    /// A statement run after every field is written (a count field that follows its array).
    var post: String = ""
    /// A statement run after every post: an array checked against the count fields it must cover.
    var check: String = ""
}

/// Builds the template context of record and enum mirrors.
struct RecordCode {
    let plan: BindingPlan
    let names: SwiftNames

    func mirrorName(_ record: String) -> String { "API.\(record)" }

    /// The imported C type of a record, by model name.
    func cTypeName(named record: String) -> String {
        plan.model.record(named: record).map(cTypeName) ?? "\(names.cModule).\(record)"
    }

    /// The imported C type of a record: nested unnamed-type fields use Swift's importer names.
    func cTypeName(_ record: Record) -> String {
        if let parent = record.parent, let path = record.swiftPath {
            let parentRecord = plan.model.record(named: parent)
            return (parentRecord.map(cTypeName) ?? "\(names.cModule).\(parent)") + "." + path
        }
        return "\(names.cModule).\(record.name)"
    }

    func context(_ r: RecordPlan) -> TemplateValue {
        let record = r.record
        let properties = r.opaqueReason == nil ? properties(of: r) : []
        let unionMembers = Set(
            r.fields.flatMap { f -> [String] in
                guard case .anonymousMember(let inner) = f.role, let innerRecord = plan.model.record(named: inner),
                    innerRecord.kind == .union
                else { return [] }
                return innerRecord.fields.map(\.name)
            })
        var cases: [TemplateValue] = []
        if let union = r.union, let tagField = record.fields.first(where: { $0.name == union.tag }),
            case .enumeration(let enumName) = tagField.type.resolved, let decl = plan.model.enumeration(named: enumName)
        {
            // In the enum's order; a value two constants share selects the first one's member.
            var seen = Set<Int64>()
            for constant in decl.constants {
                guard let member = union.cases[constant.name], seen.insert(constant.value).inserted,
                    let p = properties.first(where: { $0.name == member })
                else { continue }
                cases.append(
                    .context([
                        "value": .text(String(constant.value)), "member": .text(SwiftNames.identifier(member)),
                        "read": .text(p.read), "write": .text(indent(p.write, 20)),
                    ]))
            }
        }
        return .context([
            "name": .text(record.name),
            "cType": .text(cTypeName(record)),
            "kind": .text(record.kind.rawValue),
            "location": .text(record.location.description),
            "size": .text(String(record.size)),
            "opaque": .flag(r.opaqueReason != nil),
            "hasProperties": .flag(!properties.isEmpty),
            "knownKeys": .text(properties.map { "\"\($0.name)\"" }.joined(separator: ", ")),
            "defaultMaker": .text(r.defaultMaker ?? ""),
            "positionField": .text(r.positionField ?? ""),
            "fieldDefaults": .text(fieldDefaultsCode(r)),
            "properties": .list(
                properties.map { p in
                    .context([
                        "property": .text(SwiftNames.identifier(p.name)),
                        "key": .text(p.name),
                        "swiftType": .text(p.swiftType),
                        "defaultValue": .text(p.defaultValue),
                        "read": .text(p.read),
                        "write": .text(indent(p.write, 12)),
                        "memberWrite": .text(indent(p.write, 16)),
                        "inPlace": .flag(p.appliesInPlace),
                        "post": .text(p.post),
                        "check": .text(p.check),
                        "isUnionMember": .flag(unionMembers.contains(p.name)),
                    ])
                }),
            "isTagged": .flag(!cases.isEmpty),
            "unionTag": .text(r.union.map { SwiftNames.identifier($0.tag) } ?? ""),
            "unionCases": .list(cases),
        ])
    }

    /// `FieldDefaults(...)` of the record's annotated defaults; empty when it has none.
    private func fieldDefaultsCode(_ r: RecordPlan) -> String {
        guard !r.fieldDefaults.isEmpty || !r.fileNameDefaults.isEmpty else { return "" }
        var arguments: [String] = []
        if !r.fieldDefaults.isEmpty {
            arguments.append(
                "values: ["
                    + r.fieldDefaults.map { "\(Emitter.swiftStringLiteral($0.field)): \(JSONLiteral.swift($0.value))" }
                    .joined(separator: ", ") + "]")
        }
        if !r.fileNameDefaults.isEmpty {
            arguments.append(
                "fileNames: ["
                    + r.fileNameDefaults.map {
                        "(\(Emitter.swiftStringLiteral($0.field)), \(Emitter.swiftStringLiteral($0.path)))"
                    }.joined(separator: ", ") + "]")
        }
        return "FieldDefaults(\(arguments.joined(separator: ", ")))"
    }

    /// Continuation lines of a multi-line statement at the template's indentation.
    private func indent(_ code: String, _ spaces: Int) -> String {
        code.replacingOccurrences(of: "\n", with: "\n" + String(repeating: " ", count: spaces))
    }

    func properties(of r: RecordPlan) -> [PropertyCode] {
        r.fields.flatMap { f -> [PropertyCode] in
            if case .anonymousMember(let inner) = f.role,
                let innerPlan = plan.records.first(where: { $0.record.name == inner })
            {
                // The members of an anonymous struct/union are members of this record, in Swift too.
                let members = properties(of: innerPlan)
                return innerPlan.record.kind == .union ? members.map(optionalMember) : members
            }
            return property(f, in: r).map { [$0] } ?? []
        }
    }

    /// A union member: present only when set (written and read only for its tag value).
    private func optionalMember(_ p: PropertyCode) -> PropertyCode {
        let base = p.swiftType.hasSuffix("?") ? String(p.swiftType.dropLast()) : p.swiftType
        return PropertyCode(
            name: p.name, swiftType: base + "?", defaultValue: "nil", read: p.read,
            write: [p.write, p.post, p.check].filter { !$0.isEmpty }.joined(separator: "\n"), appliesInPlace: false)
    }

    private func path(_ name: String) -> String { "path + \".\(name)\"" }

    private func property(_ f: FieldPlan, in r: RecordPlan) -> PropertyCode? {
        let name = f.field.name
        let id = SwiftNames.identifier(name)
        let cField = "c.\(id)"
        let keyPath = "\\CValue.\(id)"
        switch f.role {
        case .value(let type):
            if case .enumeration(let e) = type.resolved {
                return PropertyCode(
                    name: name, swiftType: mirrorName(e), defaultValue: ".init(rawValue: 0)",
                    read: "\(mirrorName(e))(\(cField))", write: "\(cField) = \(id).cValue",
                    appliesInPlace: false)
            }
            let swift = SwiftNames.mirrorNumber(type) ?? "Never"
            switch type.resolved {
            case .integer, .char:
                return PropertyCode(
                    name: name, swiftType: swift, defaultValue: "0",
                    read: "\(swift)(truncatingIfNeeded: \(cField))",
                    write: "\(cField) = .init(truncatingIfNeeded: \(id))", appliesInPlace: false)
            case .bool:
                return PropertyCode(
                    name: name, swiftType: "Bool", defaultValue: "false", read: cField,
                    write: "\(cField) = \(id)", appliesInPlace: false)
            default:
                return PropertyCode(
                    name: name, swiftType: swift, defaultValue: "0", read: cField,
                    write: "\(cField) = \(id)", appliesInPlace: false)
            }
        case .string(let kind):
            let isConst: Bool
            if case .pointer(_, let c) = f.field.type.resolved { isConst = c } else { isConst = false }
            let confined = kind.map { ", confinedTo: \"\($0)\"" } ?? ""
            let value = "try arena.cString(\(id), path: \(path(name))\(confined))"
            return PropertyCode(
                name: name, swiftType: "String?", defaultValue: "nil", read: "CRead.string(\(cField))",
                write: "\(cField) = " + (isConst ? "UnsafePointer(\(value))" : value), appliesInPlace: false)
        case .charArray:
            return PropertyCode(
                name: name, swiftType: "String", defaultValue: "\"\"", read: "CRead.fixedString(c, \(keyPath))",
                write: "try CWrite.fixedString(\(id), into: &c, \(keyPath), path: \(path(name)))",
                appliesInPlace: false)
        case .fixedArray(let element, let count):
            if case .record(let rec) = element {
                let cType = cTypeName(named: rec)
                return PropertyCode(
                    name: name, swiftType: "[\(mirrorName(rec))]",
                    defaultValue: "Array(repeating: .init(), count: \(count))",
                    read: "CRead.fixed(c, \(keyPath), as: \(cType).self).map(\(mirrorName(rec)).init)",
                    write:
                        "try CWrite.fixed(\(id).map { try $0.cValue(arena) }, into: &c, \(keyPath), path: \(path(name)))",
                    appliesInPlace: false)
            }
            if case .enumeration(let e) = element {
                return PropertyCode(
                    name: name, swiftType: "[\(mirrorName(e))]",
                    defaultValue: "Array(repeating: .init(rawValue: 0), count: \(count))",
                    read: "CRead.fixed(c, \(keyPath), as: \(names.cModule).\(e).self).map(\(mirrorName(e)).init)",
                    write: "try CWrite.fixed(\(id).map(\\.cValue), into: &c, \(keyPath), path: \(path(name)))",
                    appliesInPlace: false)
            }
            let swift = SwiftNames.mirrorNumber(element) ?? "Never"
            let imported = names.imported(element)
            return PropertyCode(
                name: name, swiftType: "[\(swift)]", defaultValue: "Array(repeating: 0, count: \(count))",
                read:
                    "CRead.fixed(c, \(keyPath), as: \(imported).self).map { \(swift)(\(SwiftNames.numericConversion(element, "$0"))) }",
                write:
                    "try CWrite.fixed(\(id).map { \(imported)(\(SwiftNames.numericConversion(element, "$0"))) }, into: &c, \(keyPath), path: \(path(name)))",
                appliesInPlace: false)
        case .record(let rec):
            return PropertyCode(
                name: name, swiftType: mirrorName(rec), defaultValue: ".init()",
                read: "\(mirrorName(rec))(\(cField))", write: "\(cField) = try \(id).cValue(arena)",
                appliesInPlace: true)
        case .optionalRecord(let rec):
            var isConst = false
            if case .pointer(_, let c) = f.field.type.resolved { isConst = c }
            let value = "try arena.single(\(id)?.cValue(arena))"
            return PropertyCode(
                name: name, swiftType: "\(mirrorName(rec))?", defaultValue: "nil",
                read: "\(cField).map { \(mirrorName(rec))($0.pointee) }",
                write: "\(cField) = " + (isConst ? "UnsafePointer(\(value))" : value), appliesInPlace: false)
        case .pointerArray(let element, let count, let base64, let atLeast):
            guard let swift = SwiftNames.mirrorNumber(element) else { return nil }
            var isConst = false
            if case .pointer(_, let c) = f.field.type.resolved { isConst = c }
            let type = base64 ? "PackedArray<\(swift)>" : "[\(swift)]"
            let values = base64 ? "\(id).values" : id
            let countExpr =
                count.isEmpty ? "0" : count.map { "Int(c.\(SwiftNames.identifier($0)))" }.joined(separator: " * ")
            let readValues = "CRead.array(\(cField), count: \(countExpr))"
            let write =
                "\(cField) = " + (isConst ? "UnsafePointer(try arena.array(\(values)))" : "try arena.array(\(values))")
            let post =
                count.count == 1
                ? "c.\(SwiftNames.identifier(count[0])) = .init(truncatingIfNeeded: \(values).count)" : ""
            // What the runtime reads: a product of count fields, or at least one, given by the client.
            let covered = count.count > 1 ? count : atLeast
            let counts = covered.map { "(\"\($0)\", Int(clamping: c.\(SwiftNames.identifier($0))))" }.joined(
                separator: ", ")
            let check =
                covered.isEmpty
                ? "" : "try CWrite.requireElements(\(values).count, atLeast: [\(counts)], path: \(path(name)))"
            return PropertyCode(
                name: name, swiftType: type, defaultValue: base64 ? ".init()" : "[]",
                read: base64 ? "PackedArray(\(readValues))" : readValues, write: write, appliesInPlace: false,
                post: post, check: check)
        case .buffer(let length):
            return PropertyCode(
                name: name, swiftType: "Bytes", defaultValue: ".init()",
                read: "CRead.bytes(\(cField), count: Int(c.\(SwiftNames.identifier(length))))",
                write: "\(cField) = try arena.bytes(\(id))", appliesInPlace: false,
                post: "c.\(SwiftNames.identifier(length)) = .init(truncatingIfNeeded: \(id).count)")
        case .anonymousMember, .omitted:
            return nil
        }
    }

    func enumContext(_ e: EnumDecl) -> TemplateValue {
        .context([
            "name": .text(e.name),
            "cType": .text("\(names.cModule).\(e.name)"),
            "location": .text(e.location.description),
            "constants": .list(
                e.constants.map {
                    .context(["constant": .text($0.name), "value": .text(String($0.value))])
                }),
        ])
    }
}
