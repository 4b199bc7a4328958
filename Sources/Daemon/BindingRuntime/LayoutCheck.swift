/// One C type's layout as libclang read it from the headers, beside what Swift's importer made of
/// it. The generated `Layout.checks` holds one per struct and union; a test asserts no mismatch.
public struct LayoutCheck: Sendable {
    public let type: String
    public let expectedSize: Int
    public let actualSize: Int
    /// (field, offset from the headers, offset in Swift); nil where Swift hides the field.
    public let fields: [(name: String, expected: Int, actual: Int?)]

    public init(type: String, expectedSize: Int, actualSize: Int, fields: [(name: String, expected: Int, actual: Int?)])
    {
        self.type = type
        self.expectedSize = expectedSize
        self.actualSize = actualSize
        self.fields = fields
    }

    /// Every difference, as `type.field: offset 8 in the headers, 12 in Swift`.
    public var mismatches: [String] {
        var out: [String] = []
        if actualSize != expectedSize {
            out.append("\(type): size \(expectedSize) in the headers, \(actualSize) in Swift")
        }
        for field in fields where field.actual != field.expected {
            out.append(
                "\(type).\(field.name): offset \(field.expected) in the headers, \(field.actual.map(String.init) ?? "not found") in Swift"
            )
        }
        return out
    }
}
