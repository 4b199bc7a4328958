import APIModel
import CClang
import Foundation

public struct ImportError: Error, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Parses a directory of C headers with libclang into an `APIModel`.
///
/// Each header is parsed as its own translation unit, as C11; only declarations written in that
/// header are taken from it. What a set of headers needs and does not include (vendor headers use
/// `bool` and `size_t` without their headers, some include the C++ `<cstdint>`) lives beside them
/// in a prelude directory (`prelude/` beside them unless given): every `.h` there is included
/// first, and the directory is searched for includes (the same files the headers' module map
/// lists, so Swift and the generator read one thing).
public final class HeaderImporter {
    public let headersDirectory: URL
    /// What the headers use without including (see above); default: `prelude/` beside them.
    public let preludeDirectory: URL
    public let target: String?
    private let converter = TypeConverter()
    private var model: APIModel
    private var seenFunctions: Set<String> = []
    private var seenRecords: Set<String> = []
    private var seenEnums: Set<String> = []
    private var macroValues: [String: Macro.Value] = [:]

    public init(headersDirectory: URL, preludeDirectory: URL? = nil, target: String? = nil) {
        self.headersDirectory = headersDirectory
        self.preludeDirectory = preludeDirectory ?? headersDirectory.appendingPathComponent("prelude")
        self.target = target
        self.model = APIModel(target: target ?? "")
    }

    /// The header files of the directory, in name order.
    public static func headerFiles(in directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "h" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The prelude directory of the headers, and the files in it to include first.
    var prelude: (directory: URL, headers: [URL])? {
        guard let headers = try? Self.headerFiles(in: preludeDirectory) else { return nil }
        return (preludeDirectory, headers)
    }

    public func run() throws -> APIModel {
        let files = try Self.headerFiles(in: headersDirectory)
        guard !files.isEmpty else {
            throw ImportError(diagnostics: [Diagnostic(.error, "no .h files in \(headersDirectory.path)")])
        }
        let index = clang_createIndex(0, 0)
        defer { clang_disposeIndex(index) }
        for file in files {
            try parse(file, index: index!)
        }
        return model
    }

    private func parse(_ file: URL, index: CXIndex) throws {
        var args = [
            "-x", "c", "-std=gnu11", "-I", headersDirectory.path, "-ffreestanding", "-fparse-all-comments",
            "-Wno-pragma-once-outside-header",
        ]
        if let prelude {
            args += ["-I", prelude.directory.path] + prelude.headers.flatMap { ["-include", $0.path] }
        }
        if let target { args += ["-target", target] }
        var unit: CXTranslationUnit?
        let options =
            CXTranslationUnit_SkipFunctionBodies.rawValue | CXTranslationUnit_DetailedPreprocessingRecord.rawValue
        let code = withCStrings(args) { argv in
            clang_parseTranslationUnit2(index, file.path, argv, Int32(args.count), nil, 0, options, &unit)
        }
        guard code == CXError_Success, let unit else {
            throw ImportError(diagnostics: [
                Diagnostic(
                    .error, "libclang could not parse (error \(code.rawValue))",
                    at: SourceLocation(file: file.path, line: 1))
            ])
        }
        defer { clang_disposeTranslationUnit(unit) }
        try checkDiagnostics(unit)
        if model.target.isEmpty {
            let info = clang_getTranslationUnitTargetInfo(unit)
            model.target = clang_TargetInfo_getTriple(info).consume()
            clang_TargetInfo_dispose(info)
        }
        let header = file.lastPathComponent
        model.headers.append(header)
        let top = clang_getTranslationUnitCursor(unit).children
        // Typedef names first (from every file of the unit), so records are known by them.
        for cursor in top where cursor.kind == CXCursor_TypedefDecl { converter.noteTypedef(cursor) }
        for cursor in top where cursor.isFromMainFile {
            switch cursor.kind {
            case CXCursor_StructDecl, CXCursor_UnionDecl:
                if cursor.isDefinition { importRecord(cursor, header: header, synthesizedName: nil, swiftPath: nil) }
            case CXCursor_EnumDecl:
                if cursor.isDefinition { importEnum(cursor, header: header) }
            case CXCursor_TypedefDecl:
                importTypedef(cursor, header: header)
            case CXCursor_FunctionDecl:
                importFunction(cursor, header: header)
            case CXCursor_MacroDefinition:
                importMacro(cursor, unit: unit, header: header)
            default:
                break
            }
        }
    }

    private func checkDiagnostics(_ unit: CXTranslationUnit) throws {
        var errors: [Diagnostic] = []
        for i in 0..<clang_getNumDiagnostics(unit) {
            let diagnostic = clang_getDiagnostic(unit, i)
            defer { clang_disposeDiagnostic(diagnostic) }
            let severity = clang_getDiagnosticSeverity(diagnostic)
            guard severity == CXDiagnostic_Error || severity == CXDiagnostic_Fatal else { continue }
            var file: CXFile?
            var line: UInt32 = 0
            clang_getSpellingLocation(clang_getDiagnosticLocation(diagnostic), &file, &line, nil, nil)
            let path = file.map { clang_getFileName($0).consume() } ?? "<command line>"
            errors.append(
                Diagnostic(
                    .error, clang_getDiagnosticSpelling(diagnostic).consume(),
                    at: SourceLocation(file: path, line: Int(line))))
        }
        if !errors.isEmpty { throw ImportError(diagnostics: errors) }
    }

    private func location(_ cursor: CXCursor) -> SourceLocation {
        let loc = cursor.location
        return SourceLocation(file: loc.file, line: loc.line)
    }

    private func warn(_ message: String, at cursor: CXCursor) {
        model.diagnostics.append(Diagnostic(.warning, message, at: location(cursor)))
    }

    // MARK: records

    @discardableResult
    private func importRecord(
        _ cursor: CXCursor, header: String, synthesizedName: String?, swiftPath: String?,
        parent: String? = nil
    ) -> String? {
        if let synthesizedName { converter.noteSynthesizedName(synthesizedName, for: cursor) }
        guard let name = converter.name(of: cursor) else {
            warn("record without a name outside another record; skipped", at: cursor)
            return nil
        }
        guard seenRecords.insert(name).inserted else { return name }
        let type = cursor.type
        var fields: [Field] = []
        var nestedIndex = 0
        let children = cursor.children
        // Fields whose type is an unnamed record declared right here (`struct {...} image;`).
        let namedFieldTypes = Set(
            children.filter { $0.kind == CXCursor_FieldDecl }.map {
                clang_getCanonicalType($0.type).declaration.usr
            })
        var fieldIndex = 0
        for child in children {
            switch child.kind {
            case CXCursor_FieldDecl:
                let fieldName = child.spelling
                let declaration = child.type.canonical.declaration
                if child.type.canonical.kind == CXType_Record, converter.name(of: declaration) == nil {
                    let kind = declaration.kind == CXCursor_UnionDecl ? "union" : "struct"
                    importRecord(
                        declaration, header: header, synthesizedName: "\(name)_\(fieldName)",
                        swiftPath: "__Unnamed_\(kind)_\(fieldName)", parent: name)
                }
                var fieldType = converter.convert(child.type)
                if clang_Cursor_isBitField(child) != 0 {
                    fieldType = .unsupported(reason: "bit-field")
                }
                fields.append(
                    Field(
                        name: fieldName, type: fieldType,
                        offset: Int(clang_Cursor_getOffsetOfField(child)) / 8,
                        size: child.type.sizeInBytes))
                fieldIndex += 1
            case CXCursor_StructDecl, CXCursor_UnionDecl:
                guard child.isDefinition else { continue }
                if clang_Cursor_isAnonymousRecordDecl(child) != 0, !namedFieldTypes.contains(child.usr) {
                    // C11 anonymous member: its fields are members of this record.
                    nestedIndex += 1
                    let nestedName = "\(name)_anon\(nestedIndex)"
                    let kind = child.kind == CXCursor_UnionDecl ? "union" : "struct"
                    importRecord(
                        child, header: header, synthesizedName: nestedName,
                        swiftPath: "__Unnamed_\(kind)___Anonymous_field\(fieldIndex)", parent: name)
                    let offset = anonymousMemberOffset(child, parent: type)
                    fields.append(
                        Field(name: "", type: .record(nestedName), offset: offset, size: child.type.sizeInBytes))
                    fieldIndex += 1
                } else if converter.name(of: child) != nil {
                    importRecord(child, header: header, synthesizedName: nil, swiftPath: nil)
                }
            default:
                break
            }
        }
        let isNested = synthesizedName != nil
        model.records.append(
            Record(
                name: name, kind: cursor.kind == CXCursor_UnionDecl ? .union : .struct,
                header: header, location: location(cursor), size: type.sizeInBytes,
                alignment: type.alignment, fields: fields, isNested: isNested,
                parent: parent, swiftPath: swiftPath))
        return name
    }

    /// The offset of an anonymous member within its parent: where its first field lands.
    private func anonymousMemberOffset(_ member: CXCursor, parent: CXType) -> Int {
        guard let first = member.children.first(where: { $0.kind == CXCursor_FieldDecl }) else { return 0 }
        let inParent = first.spelling.withCString { clang_Type_getOffsetOf(parent, $0) }
        let inMember = clang_Cursor_getOffsetOfField(first)
        return Int(inParent - inMember) / 8
    }

    // MARK: enums, typedefs, functions, macros

    private func importEnum(_ cursor: CXCursor, header: String) {
        guard let name = converter.name(of: cursor) else {
            warn("enum without a name; its constants are still read", at: cursor)
            return importAnonymousEnumConstants(cursor, header: header)
        }
        guard seenEnums.insert(name).inserted else { return }
        let constants = cursor.children.filter { $0.kind == CXCursor_EnumConstantDecl }.map {
            EnumConstant(name: $0.spelling, value: clang_getEnumConstantDeclValue($0))
        }
        for c in constants { macroValues[c.name] = .integer(c.value) }
        model.enums.append(
            EnumDecl(
                name: name, header: header, location: location(cursor),
                size: cursor.type.sizeInBytes, constants: constants))
    }

    /// `enum { A = 1 };` with no name: the constants become integer constants of the header.
    private func importAnonymousEnumConstants(_ cursor: CXCursor, header: String) {
        for child in cursor.children where child.kind == CXCursor_EnumConstantDecl {
            let value = clang_getEnumConstantDeclValue(child)
            macroValues[child.spelling] = .integer(value)
            model.macros.append(
                Macro(name: child.spelling, header: header, location: location(child), value: .integer(value)))
        }
    }

    private func importTypedef(_ cursor: CXCursor, header: String) {
        let name = cursor.spelling
        var underlying = clang_getTypedefDeclUnderlyingType(cursor)
        if underlying.kind == CXType_Elaborated { underlying = clang_Type_getNamedType(underlying) }
        // `typedef struct {...} Name;` may declare the record only through the typedef.
        if underlying.kind == CXType_Record, underlying.declaration.isDefinition,
            !seenRecords.contains(name), converter.name(of: underlying.declaration) == name
        {
            importRecord(underlying.declaration, header: header, synthesizedName: nil, swiftPath: nil)
        }
        if underlying.kind == CXType_Enum, underlying.declaration.isDefinition {
            importEnum(underlying.declaration, header: header)
        }
        let parameterNames = cursor.children.filter { $0.kind == CXCursor_ParmDecl }.map(\.spelling)
        model.typedefs.append(
            Typedef(
                name: name, header: header, location: location(cursor),
                underlying: converter.convert(underlying),
                parameterNames: parameterNames.isEmpty ? nil : parameterNames))
    }

    private func importFunction(_ cursor: CXCursor, header: String) {
        let name = cursor.spelling
        let type = cursor.type
        let count = max(0, Int(clang_Cursor_getNumArguments(cursor)))
        var parameters: [Parameter] = []
        for i in 0..<count {
            let arg = clang_Cursor_getArgument(cursor, UInt32(i))
            var argName = arg.spelling
            if argName.isEmpty {
                argName = "arg\(i + 1)"
                warn("parameter \(i + 1) of \(name) has no name; it is called '\(argName)'", at: cursor)
            }
            parameters.append(Parameter(name: argName, type: converter.convert(arg.type)))
        }
        let function = Function(
            name: name, header: header, location: location(cursor),
            result: converter.convert(clang_getResultType(type)), parameters: parameters,
            hasPrototype: type.kind == CXType_FunctionProto)
        let isInlineHelper =
            clang_Cursor_getStorageClass(cursor) == CX_SC_Static || clang_Cursor_isFunctionInlined(cursor) != 0
        if isInlineHelper {
            if !model.inlineHelpers.contains(where: { $0.name == name }) { model.inlineHelpers.append(function) }
            return
        }
        guard seenFunctions.insert(name).inserted else { return }
        if !function.hasPrototype {
            warn("\(name) is declared with K&R '()': read as taking no arguments", at: cursor)
        }
        model.functions.append(function)
    }

    private func importMacro(_ cursor: CXCursor, unit: CXTranslationUnit, header: String) {
        guard clang_Cursor_isMacroBuiltin(cursor) == 0, clang_Cursor_isMacroFunctionLike(cursor) == 0 else { return }
        var tokenPointer: UnsafeMutablePointer<CXToken>?
        var count: UInt32 = 0
        clang_tokenize(unit, clang_getCursorExtent(cursor), &tokenPointer, &count)
        defer { clang_disposeTokens(unit, tokenPointer, count) }
        guard let tokenPointer, count > 1 else { return }  // include guards and empty macros
        let tokens: [MacroEvaluator.Token] = (1..<Int(count)).map { i in
            let token = tokenPointer[i]
            let text = clang_getTokenSpelling(unit, token).consume()
            switch clang_getTokenKind(token) {
            case CXToken_Literal: return .literal(text)
            case CXToken_Identifier, CXToken_Keyword: return .identifier(text)
            default: return .punctuation(text)
            }
        }
        let name = cursor.spelling
        var evaluator = MacroEvaluator(tokens: tokens) { [macroValues] in macroValues[$0] }
        guard let value = evaluator.evaluate() else {
            warn("macro \(name) is not an integer or string constant; not exported", at: cursor)
            return
        }
        macroValues[name] = value
        model.macros.removeAll { $0.name == name }
        model.macros.append(Macro(name: name, header: header, location: location(cursor), value: value))
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { UnsafePointer(strdup($0)) }
    defer { pointers.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
