/// What changed between two coverage reports (an SDK upgrade), and whether it breaks callers.
public struct ReportDiff: Sendable {
    public struct Change: Sendable, Equatable {
        public var breaking: Bool
        public var kind: String
        public var text: String
    }

    public var changes: [Change] = []
    public var isBreaking: Bool { changes.contains(where: \.breaking) }

    public init(old: Report, new: Report) {
        diffFunctions(old, new)
        diffStructs(old, new)
        diffEnums(old, new)
        diffCallbacks(old, new)
    }

    private mutating func add(_ breaking: Bool, _ kind: String, _ text: String) {
        changes.append(Change(breaking: breaking, kind: kind, text: text))
    }

    private mutating func diffFunctions(_ old: Report, _ new: Report) {
        let before = Dictionary(old.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.functions.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for f in new.functions where before[f.name] == nil {
            add(false, "function added", "`\(f.signature)`")
        }
        for f in old.functions where after[f.name] == nil {
            add(true, "function removed", "`\(f.signature)`")
        }
        for f in new.functions {
            guard let was = before[f.name] else { continue }
            if was.signature != f.signature {
                add(true, "signature changed", "`\(was.signature)` -> `\(f.signature)`")
            }
            if was.bound != f.bound {
                add(was.bound, f.bound ? "now bound" : "no longer bound",
                    "`\(f.name)`" + (f.reason.map { ": \($0)" } ?? ""))
            }
        }
    }

    private mutating func diffStructs(_ old: Report, _ new: Report) {
        let before = Dictionary(old.structs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.structs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for s in new.structs where before[s.name] == nil { add(false, "struct added", "`\(s.name)` (\(s.size) bytes)") }
        for s in old.structs where after[s.name] == nil { add(true, "struct removed", "`\(s.name)`") }
        for s in new.structs {
            guard let was = before[s.name] else { continue }
            if was.size != s.size { add(true, "struct size changed", "`\(s.name)`: \(was.size) -> \(s.size) bytes") }
            let oldFields = Dictionary(was.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            let newFields = Dictionary(s.fields.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            for f in s.fields where oldFields[f.name] == nil {
                add(true, "field added", "`\(s.name).\(f.name)` (`\(f.type)` at \(f.offset))")
            }
            for f in was.fields where newFields[f.name] == nil {
                add(true, "field removed", "`\(s.name).\(f.name)`")
            }
            for f in s.fields {
                guard let w = oldFields[f.name] else { continue }
                if w.offset != f.offset { add(true, "field moved", "`\(s.name).\(f.name)`: offset \(w.offset) -> \(f.offset)") }
                if w.size != f.size { add(true, "field resized", "`\(s.name).\(f.name)`: \(w.size) -> \(f.size) bytes") }
                if w.type != f.type { add(true, "field type changed", "`\(s.name).\(f.name)`: `\(w.type)` -> `\(f.type)`") }
            }
        }
    }

    private mutating func diffEnums(_ old: Report, _ new: Report) {
        let before = Dictionary(old.enums.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let after = Dictionary(new.enums.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for e in new.enums where before[e.name] == nil { add(false, "enum added", "`\(e.name)`") }
        for e in old.enums where after[e.name] == nil { add(true, "enum removed", "`\(e.name)`") }
        for e in new.enums {
            guard let was = before[e.name] else { continue }
            let oldValues = Dictionary(was.values.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            let newValues = Dictionary(e.values.map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a })
            for v in e.values where oldValues[v.name] == nil { add(false, "enum value added", "`\(e.name).\(v.name)` = \(v.value)") }
            for v in was.values where newValues[v.name] == nil { add(true, "enum value removed", "`\(e.name).\(v.name)`") }
            for v in e.values {
                if let w = oldValues[v.name], w != v.value {
                    add(true, "enum value renumbered", "`\(e.name).\(v.name)`: \(w) -> \(v.value)")
                }
            }
        }
    }

    private mutating func diffCallbacks(_ old: Report, _ new: Report) {
        let before = Dictionary(old.callbacks.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for c in new.callbacks {
            if let was = before[c.name], was.signature != c.signature {
                add(true, "callback type changed", "`\(c.name)`: `\(was.signature)` -> `\(c.signature)`")
            }
        }
        let after = Set(new.callbacks.map(\.name))
        for c in old.callbacks where !after.contains(c.name) { add(true, "callback type removed", "`\(c.name)`") }
        for c in new.callbacks where before[c.name] == nil { add(false, "callback type added", "`\(c.signature)`") }
    }

    /// Fit to paste into a pull request.
    public var markdown: String {
        guard !changes.isEmpty else { return "# API diff\n\nNo changes.\n" }
        var out = "# API diff\n\n"
        out += isBreaking ? "**Breaking changes: \(changes.filter(\.breaking).count).**\n\n" : "No breaking changes.\n\n"
        out += "| | change | what |\n|---|---|---|\n"
        for c in changes { out += "| \(c.breaking ? "breaking" : "compatible") | \(c.kind) | \(c.text) |\n" }
        return out
    }
}
