/// The report for people: totals per header, then every function, struct, enum and macro.
extension Report {
    public var markdown: String {
        var out = "# API coverage\n\n"
        out += "Target `\(target)`. \(boundCount) of \(functions.count) functions bound.\n\n"
        out += "| header | functions | bound | structs | enums | macros |\n|---|---|---|---|---|---|\n"
        for (header, t) in totals.sorted(by: { $0.key < $1.key }) {
            out += "| \(header) | \(t.functions) | \(t.bound) | \(t.structs) | \(t.enums) | \(t.macros) |\n"
        }
        out += "\n## Functions\n\n| function | method | JSON params | status |\n|---|---|---|---|\n"
        for f in functions {
            var status = f.bound ? "bound" : "**unbound**: \(escape(f.reason ?? ""))"
            if let meaning = f.meaning { status += "; result: \(escape(meaning))" }
            for note in f.notes ?? [] { status += "; \(escape(note))" }
            if let members = f.perRun { status += "; per run: " + members.map { "`\($0)`" }.joined(separator: ", ") }
            if let aliases = f.aliases {
                status += "; by name also " + aliases.map { "`\($0)`" }.joined(separator: ", ")
            }
            if let form = f.composite {
                status +=
                    "; composite form: " + form.params.map { "`\($0)`" }.joined(separator: ", ") + " run "
                    + form.steps.joined(separator: ", ")
            }
            let params = f.params.map { $0.map { "`\($0)`" }.joined(separator: ", ") } ?? ""
            out += "| `\(f.name)` | \(f.method.map { "`\($0)`" } ?? "") | \(params) | \(status) |\n"
        }
        if !inlineHelpers.isEmpty {
            out +=
                "\nStatic inline helpers (not library symbols, not bound): "
                + inlineHelpers.map { "`\($0)`" }.joined(separator: ", ") + "\n"
        }
        if !callbacks.isEmpty {
            out += "\n## Callback types\n\n| typedef | signature | host-supplied |\n|---|---|---|\n"
            for c in callbacks { out += "| `\(c.name)` | `\(c.signature)` | \(c.hostSupplied ? "yes" : "no") |\n" }
        }
        out += "\n## Structs and unions\n\n"
        for s in structs {
            out += "### \(s.name) (\(s.kind), \(s.size) bytes, \(s.header))\n\n"
            if let opaque = s.opaque { out += "Opaque: \(escape(opaque))\n\n" }
            out += "| field | type | offset | size | JSON |\n|---|---|---|---|---|\n"
            for f in s.fields {
                let name = f.name.isEmpty ? "(anonymous member)" : "`\(f.name)`"
                out +=
                    "| \(name) | `\(f.type)` | \(f.offset) | \(f.size) | \(f.omitted.map { "omitted: \(escape($0))" } ?? "yes") |\n"
            }
            out += "\n"
        }
        out += "## Enums\n\n"
        for e in enums {
            out +=
                "- `\(e.name)` (\(e.header)): " + e.values.map { "`\($0.name)` = \($0.value)" }.joined(separator: ", ")
                + "\n"
        }
        out += "\n## Macros\n\n| macro | value | header |\n|---|---|---|\n"
        for m in macros { out += "| `\(m.name)` | `\(m.value)` | \(m.header) |\n" }
        if !warnings.isEmpty {
            out += "\n## Warnings\n\n" + warnings.map { "- \(escape($0))\n" }.joined()
        }
        return out
    }

    private func escape(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
