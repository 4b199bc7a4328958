import CClang

/// Small Swift conveniences over libclang's cursor and type API.
extension CXString {
    /// Takes ownership: the CXString is disposed.
    func consume() -> String {
        defer { clang_disposeString(self) }
        guard let c = clang_getCString(self) else { return "" }
        return String(cString: c)
    }
}

extension CXCursor {
    var kind: CXCursorKind { clang_getCursorKind(self) }
    var spelling: String { clang_getCursorSpelling(self).consume() }
    var type: CXType { clang_getCursorType(self) }
    var usr: String { clang_getCursorUSR(self).consume() }
    var isDefinition: Bool { clang_isCursorDefinition(self) != 0 }
    var isFromMainFile: Bool { clang_Location_isFromMainFile(clang_getCursorLocation(self)) != 0 }

    /// The direct children, in source order.
    var children: [CXCursor] {
        final class Box { var items: [CXCursor] = [] }
        let box = Box()
        withExtendedLifetime(box) {
            _ = clang_visitChildren(
                self,
                { child, _, data in
                    Unmanaged<Box>.fromOpaque(data!).takeUnretainedValue().items.append(child)
                    return CXChildVisit_Continue
                }, Unmanaged.passUnretained(box).toOpaque())
        }
        return box.items
    }

    /// File name (last path component) and line of the cursor's spelling location.
    var location: (file: String, line: Int) {
        var file: CXFile?
        var line: UInt32 = 0
        clang_getSpellingLocation(clang_getCursorLocation(self), &file, &line, nil, nil)
        let path = file.map { clang_getFileName($0).consume() } ?? "<unknown>"
        return (path.split(separator: "/").last.map(String.init) ?? path, Int(line))
    }
}

extension CXType {
    var sizeInBytes: Int { Int(clang_Type_getSizeOf(self)) }
    var alignment: Int { Int(clang_Type_getAlignOf(self)) }
    var canonical: CXType { clang_getCanonicalType(self) }
    var declaration: CXCursor { clang_getTypeDeclaration(self) }
    var isConstQualified: Bool { clang_isConstQualifiedType(self) != 0 }
    var spellingForDiagnostics: String { clang_getTypeSpelling(self).consume() }
}
