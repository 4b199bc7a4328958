import APIModel
import CClang

/// Turns libclang types into `CType` values and gives every record and enum a stable model name.
final class TypeConverter {
    /// Typedef names that stand for integer types and keep their name in the model (`int32_t`, `size_t`).
    private static let integerTypedefs: Set<String> = [
        "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t", "uint32_t", "uint64_t",
        "size_t", "ssize_t", "intptr_t", "uintptr_t", "ptrdiff_t",
    ]

    /// USR of a record/enum declaration -> the name the model uses for it.
    private var names: [String: String] = [:]

    /// Registers `typedef struct _tag {...} name;` and `typedef struct {...} name;` so that the record
    /// is known by the typedef name (the name Swift imports and the vendor's users write).
    func noteTypedef(_ cursor: CXCursor) {
        var underlying = clang_getTypedefDeclUnderlyingType(cursor)
        if underlying.kind == CXType_Elaborated { underlying = clang_Type_getNamedType(underlying) }
        guard underlying.kind == CXType_Record || underlying.kind == CXType_Enum else { return }
        let usr = underlying.declaration.usr
        if names[usr] == nil { names[usr] = cursor.spelling }
    }

    /// Names a record nested without a tag: `Parent_field` or `Parent_anon_N`.
    func noteSynthesizedName(_ name: String, for cursor: CXCursor) {
        names[cursor.usr] = name
    }

    /// The model name of a record or enum declaration.
    func name(of decl: CXCursor) -> String? {
        if let known = names[decl.usr] { return known }
        if clang_Cursor_isAnonymous(decl) == 0 {
            let spelling = decl.spelling
            if !spelling.isEmpty, !spelling.contains(" ") { return spelling }
        }
        return nil
    }

    func convert(_ type: CXType) -> CType {
        switch type.kind {
        case CXType_Elaborated:
            return convert(clang_Type_getNamedType(type))
        case CXType_Typedef:
            return convertTypedef(type)
        case CXType_Void: return .void
        case CXType_Bool: return .bool
        case CXType_Char_S, CXType_Char_U: return .char
        case CXType_SChar: return .integer(name: "signed char", bytes: 1, signed: true)
        case CXType_UChar: return .integer(name: "unsigned char", bytes: 1, signed: false)
        case CXType_Short: return .integer(name: "short", bytes: type.sizeInBytes, signed: true)
        case CXType_UShort: return .integer(name: "unsigned short", bytes: type.sizeInBytes, signed: false)
        case CXType_Int: return .integer(name: "int", bytes: type.sizeInBytes, signed: true)
        case CXType_UInt: return .integer(name: "unsigned int", bytes: type.sizeInBytes, signed: false)
        case CXType_Long: return .integer(name: "long", bytes: type.sizeInBytes, signed: true)
        case CXType_ULong: return .integer(name: "unsigned long", bytes: type.sizeInBytes, signed: false)
        case CXType_LongLong: return .integer(name: "long long", bytes: type.sizeInBytes, signed: true)
        case CXType_ULongLong: return .integer(name: "unsigned long long", bytes: type.sizeInBytes, signed: false)
        case CXType_Float: return .floating(name: "float", bytes: 4)
        case CXType_Double: return .floating(name: "double", bytes: 8)
        case CXType_Pointer:
            let pointee = clang_getPointeeType(type)
            return .pointer(to: convert(pointee), isConst: pointee.isConstQualified)
        case CXType_ConstantArray:
            return .array(of: convert(clang_getArrayElementType(type)), count: Int(clang_getArraySize(type)))
        case CXType_IncompleteArray:
            return .array(of: convert(clang_getArrayElementType(type)), count: nil)
        case CXType_Record:
            guard let name = name(of: type.declaration) else { return .unsupported(reason: "unnamed record") }
            return .record(name)
        case CXType_Enum:
            guard let name = name(of: type.declaration) else { return .unsupported(reason: "unnamed enum") }
            return .enumeration(name)
        case CXType_FunctionProto, CXType_FunctionNoProto:
            let count = max(0, Int(clang_getNumArgTypes(type)))
            let params = (0..<count).map { convert(clang_getArgType(type, UInt32($0))) }
            return .function(
                FunctionType(
                    result: convert(clang_getResultType(type)), parameters: params,
                    hasPrototype: type.kind == CXType_FunctionProto))
        default:
            // Decayed/adjusted parameter types and the like: look at what they stand for.
            let canonical = type.canonical
            if canonical.kind != type.kind { return convert(canonical) }
            return .unsupported(reason: "C type '\(type.spellingForDiagnostics)'")
        }
    }

    private func convertTypedef(_ type: CXType) -> CType {
        let decl = type.declaration
        let name = decl.spelling
        var underlying = clang_getTypedefDeclUnderlyingType(decl)
        if underlying.kind == CXType_Elaborated { underlying = clang_Type_getNamedType(underlying) }
        // A plain alias of a record or enum is that record or enum.
        if underlying.kind == CXType_Record || underlying.kind == CXType_Enum { return convert(underlying) }
        if name == "bool" || name == "_Bool" { return .bool }
        if Self.integerTypedefs.contains(name) {
            let canonical = type.canonical
            let signed = [CXType_SChar, CXType_Short, CXType_Int, CXType_Long, CXType_LongLong, CXType_Char_S]
                .contains(canonical.kind)
            return .integer(name: name, bytes: canonical.sizeInBytes, signed: signed)
        }
        return .typedef(name: name, underlying: convert(underlying))
    }
}
