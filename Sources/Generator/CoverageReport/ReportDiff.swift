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

    /// Matches two lists by name: each entry only in `new`, each only in `old`, then each pair
    /// present in both (in `new`'s order).
    private static func match<T: Named>(
        _ old: [T], _ new: [T], added: (T) -> Void, removed: (T) -> Void,
        kept: (_ was: T, _ now: T) -> Void
    ) {
        let before = byName(old)
        let after = byName(new)
        for item in new where before[item.name] == nil { added(item) }
        for item in old where after[item.name] == nil { removed(item) }
        for item in new {
            if let was = before[item.name] { kept(was, item) }
        }
    }

    private mutating func diffFunctions(_ old: Report, _ new: Report) {
        Self.match(
            old.functions, new.functions, added: { add(false, "function added", "`\($0.signature)`") },
            removed: { add(true, "function removed", "`\($0.signature)`") },
            kept: { was, f in
                if was.signature != f.signature {
                    add(true, "signature changed", "`\(was.signature)` -> `\(f.signature)`")
                }
                if was.bound != f.bound {
                    add(
                        was.bound, f.bound ? "now bound" : "no longer bound",
                        "`\(f.name)`" + (f.reason.map { ": \($0)" } ?? ""))
                }
                // A meaning only a comment gives (the annotations carry it): same type, other result.
                if was.meaning != f.meaning {
                    add(true, "meaning changed", "`\(f.name)`: \(was.meaning ?? "(none)") -> \(f.meaning ?? "(none)")")
                }
                for note in f.notes ?? [] where !(was.notes ?? []).contains(note) {
                    add(false, "left out", "`\(f.name)`: \(note)")
                }
                if was.composite != f.composite || was.aliases != f.aliases {
                    add(
                        false, "request forms changed",
                        "`\(f.name)`: " + (f.aliases.map { "aliases " + $0.joined(separator: ", ") + "; " } ?? "")
                            + (f.composite.map {
                                "composite " + $0.params.joined(separator: ", ") + " -> "
                                    + $0.steps.joined(separator: ", ")
                            } ?? "no composite form"))
                }
                if was.perRun != f.perRun {
                    let members = (f.perRun ?? []).map { "`\($0)`" }.joined(separator: ", ")
                    add(
                        false, "given per run",
                        "`\(f.name)`: " + (members.isEmpty ? "nothing" : members)
                            + " (clients whose calls differ only there share one object)")
                }
            })
    }

    private mutating func diffStructs(_ old: Report, _ new: Report) {
        Self.match(
            old.structs, new.structs, added: { add(false, "struct added", "`\($0.name)` (\($0.size) bytes)") },
            removed: { add(true, "struct removed", "`\($0.name)`") },
            kept: { was, s in
                if was.size != s.size {
                    add(true, "struct size changed", "`\(s.name)`: \(was.size) -> \(s.size) bytes")
                }
                Self.match(
                    was.fields, s.fields,
                    added: { add(true, "field added", "`\(s.name).\($0.name)` (`\($0.type)` at \($0.offset))") },
                    removed: { add(true, "field removed", "`\(s.name).\($0.name)`") },
                    kept: { w, f in
                        if w.offset != f.offset {
                            add(true, "field moved", "`\(s.name).\(f.name)`: offset \(w.offset) -> \(f.offset)")
                        }
                        if w.size != f.size {
                            add(true, "field resized", "`\(s.name).\(f.name)`: \(w.size) -> \(f.size) bytes")
                        }
                        if w.type != f.type {
                            add(true, "field type changed", "`\(s.name).\(f.name)`: `\(w.type)` -> `\(f.type)`")
                        }
                    })
            })
    }

    private mutating func diffEnums(_ old: Report, _ new: Report) {
        Self.match(
            old.enums, new.enums, added: { add(false, "enum added", "`\($0.name)`") },
            removed: { add(true, "enum removed", "`\($0.name)`") },
            kept: { was, e in
                Self.match(
                    was.values, e.values,
                    added: { add(false, "enum value added", "`\(e.name).\($0.name)` = \($0.value)") },
                    removed: { add(true, "enum value removed", "`\(e.name).\($0.name)`") },
                    kept: { w, v in
                        if w.value != v.value {
                            add(true, "enum value renumbered", "`\(e.name).\(v.name)`: \(w.value) -> \(v.value)")
                        }
                    })
            })
    }

    private mutating func diffCallbacks(_ old: Report, _ new: Report) {
        let before = Self.byName(old.callbacks)
        for c in new.callbacks {
            if let was = before[c.name], was.signature != c.signature {
                add(true, "callback type changed", "`\(c.name)`: `\(was.signature)` -> `\(c.signature)`")
            }
            if let was = before[c.name], was.meaning != c.meaning {
                add(
                    true, "meaning changed",
                    "`\(c.name)` returns: \(was.meaning ?? "(none)") -> \(c.meaning ?? "(none)")")
            }
        }
        let after = Set(new.callbacks.map(\.name))
        for c in old.callbacks where !after.contains(c.name) { add(true, "callback type removed", "`\(c.name)`") }
        for c in new.callbacks where before[c.name] == nil { add(false, "callback type added", "`\(c.signature)`") }
    }

    /// Entries by name; a repeated name keeps its first entry.
    private static func byName<T>(_ items: [T]) -> [String: T] where T: Named {
        Dictionary(items.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Fit to paste into a pull request.
    public var markdown: String {
        guard !changes.isEmpty else { return "# API diff\n\nNo changes.\n" }
        var out = "# API diff\n\n"
        out +=
            isBreaking ? "**Breaking changes: \(changes.filter(\.breaking).count).**\n\n" : "No breaking changes.\n\n"
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
