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
        let before = byName(old.functions)
        let after = byName(new.functions)
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
        let before = byName(old.structs)
        let after = byName(new.structs)
        for s in new.structs where before[s.name] == nil { add(false, "struct added", "`\(s.name)` (\(s.size) bytes)") }
        for s in old.structs where after[s.name] == nil { add(true, "struct removed", "`\(s.name)`") }
        for s in new.structs {
            guard let was = before[s.name] else { continue }
            if was.size != s.size { add(true, "struct size changed", "`\(s.name)`: \(was.size) -> \(s.size) bytes") }
            let oldFields = byName(was.fields)
            let newFields = byName(s.fields)
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
        let before = byName(old.enums)
        let after = byName(new.enums)
        for e in new.enums where before[e.name] == nil { add(false, "enum added", "`\(e.name)`") }
        for e in old.enums where after[e.name] == nil { add(true, "enum removed", "`\(e.name)`") }
        for e in new.enums {
            guard let was = before[e.name] else { continue }
            let oldValues = byName(was.values).mapValues(\.value)
            let newValues = byName(e.values).mapValues(\.value)
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
        let before = byName(old.callbacks)
        for c in new.callbacks {
            if let was = before[c.name], was.signature != c.signature {
                add(true, "callback type changed", "`\(c.name)`: `\(was.signature)` -> `\(c.signature)`")
            }
        }
        let after = Set(new.callbacks.map(\.name))
        for c in old.callbacks where !after.contains(c.name) { add(true, "callback type removed", "`\(c.name)`") }
        for c in new.callbacks where before[c.name] == nil { add(false, "callback type added", "`\(c.signature)`") }
    }

    /// Entries by name; a repeated name keeps its first entry.
    private func byName<T>(_ items: [T]) -> [String: T] where T: Named {
        Dictionary(items.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
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

/// Report entries are compared by name.
protocol Named { var name: String { get } }
extension Report.FunctionEntry: Named {}
extension Report.StructEntry: Named {}
extension Report.FieldEntry: Named {}
extension Report.EnumEntry: Named {}
extension Report.EnumValue: Named {}
extension Report.CallbackEntry: Named {}
