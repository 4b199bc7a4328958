import Foundation

/// A value a template reads: text, a flag, a list of contexts, or a context.
public indirect enum TemplateValue: Sendable {
    case text(String)
    case flag(Bool)
    case list([TemplateValue])
    case context([String: TemplateValue])
}

public struct TemplateError: Error, CustomStringConvertible {
    public var description: String
}

/// A small mustache-like renderer: `{{name}}` inserts text, `{{#name}}...{{/name}}` repeats for a
/// list or shows for a true flag / non-empty text, `{{^name}}...{{/name}}` shows when not,
/// `{{! comment}}` is dropped. A tag alone on its line takes the whole line with it. Names are
/// looked up from the innermost context outwards; an unknown name is an error, not empty text.
public struct Template: Sendable {
    private indirect enum Node: Sendable {
        case text(String)
        case variable(String)
        case section(String, inverted: Bool, [Node])
    }

    private let nodes: [Node]
    public let name: String

    public init(_ source: String, name: String) throws {
        self.name = name
        var stack: [(name: String, inverted: Bool, nodes: [Node])] = [("", false, [])]
        let text = Self.standaloneAdjusted(source)
        var index = text.startIndex
        while index < text.endIndex {
            guard let open = text.range(of: "{{", range: index..<text.endIndex) else {
                stack[stack.count - 1].nodes.append(.text(String(text[index...])))
                break
            }
            if open.lowerBound > index {
                stack[stack.count - 1].nodes.append(.text(String(text[index..<open.lowerBound])))
            }
            guard let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) else {
                throw TemplateError(description: "\(name): unclosed '{{'")
            }
            let tag = text[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            index = close.upperBound
            switch tag.first {
            case "!": continue
            case "#", "^":
                stack.append((String(tag.dropFirst()).trimmingCharacters(in: .whitespaces), tag.first == "^", []))
            case "/":
                let closing = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces)
                guard stack.count > 1, let top = stack.popLast(), top.name == closing else {
                    throw TemplateError(description: "\(name): '{{/\(closing)}}' closes nothing open")
                }
                stack[stack.count - 1].nodes.append(.section(top.name, inverted: top.inverted, top.nodes))
            default:
                stack[stack.count - 1].nodes.append(.variable(tag))
            }
        }
        guard stack.count == 1 else {
            throw TemplateError(description: "\(name): '{{#\(stack.last!.name)}}' is not closed")
        }
        nodes = stack[0].nodes
    }

    /// Removes lines that hold only a section tag or comment (with their newline), as mustache does.
    private static func standaloneAdjusted(_ source: String) -> String {
        var out: [Substring] = []
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let isStandalone =
                trimmed.hasPrefix("{{") && trimmed.hasSuffix("}}")
                && trimmed.dropFirst(2).first.map { "#^/!".contains($0) } == true
                && trimmed.components(separatedBy: "{{").count == 2
            if isStandalone {
                // Keep the tag, drop the line: join it to the next line's start.
                out.append(Substring(trimmed) + (i == lines.count - 1 ? "" : "\u{0}"))
            } else {
                out.append(line)
            }
        }
        return out.joined(separator: "\n").replacingOccurrences(of: "\u{0}\n", with: "")
    }

    public func render(_ context: [String: TemplateValue]) throws -> String {
        var out = ""
        try render(nodes, stack: [context], into: &out)
        return out
    }

    private func lookup(_ key: String, _ stack: [[String: TemplateValue]]) throws -> TemplateValue {
        for context in stack.reversed() { if let v = context[key] { return v } }
        throw TemplateError(description: "\(name): no value for '\(key)'")
    }

    private func render(_ nodes: [Node], stack: [[String: TemplateValue]], into out: inout String) throws {
        for node in nodes {
            switch node {
            case .text(let t): out += t
            case .variable(let key):
                switch try lookup(key, stack) {
                case .text(let t): out += t
                case .flag(let b): out += b ? "true" : "false"
                default: throw TemplateError(description: "\(name): '\(key)' is not text")
                }
            case .section(let key, let inverted, let children):
                let value = try lookup(key, stack)
                let truthy: Bool
                switch value {
                case .text(let t): truthy = !t.isEmpty
                case .flag(let b): truthy = b
                case .list(let items): truthy = !items.isEmpty
                case .context: truthy = true
                }
                if inverted {
                    if !truthy { try render(children, stack: stack, into: &out) }
                } else if case .list(let items) = value {
                    for item in items {
                        guard case .context(let c) = item else {
                            throw TemplateError(description: "\(name): items of '\(key)' must be contexts")
                        }
                        try render(children, stack: stack + [c], into: &out)
                    }
                } else if truthy {
                    if case .context(let c) = value {
                        try render(children, stack: stack + [c], into: &out)
                    } else {
                        try render(children, stack: stack, into: &out)
                    }
                }
            }
        }
    }
}
