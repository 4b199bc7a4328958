/// An option a subcommand takes: `--name VALUE` (or `--name=VALUE`), repeatable or not, or a flag.
struct Option {
    enum Kind { case flag, value, values }
    let name: String
    let kind: Kind
    /// What the value is, in the usage text (`TEXT`, `N`).
    let placeholder: String
    let help: String

    static func flag(_ name: String, _ help: String) -> Option {
        Option(name: name, kind: .flag, placeholder: "", help: help)
    }
    static func value(_ name: String, _ placeholder: String, _ help: String) -> Option {
        Option(name: name, kind: .value, placeholder: placeholder, help: help)
    }
    /// Repeatable: every occurrence counts.
    static func values(_ name: String, _ placeholder: String, _ help: String) -> Option {
        Option(name: name, kind: .values, placeholder: placeholder, help: help)
    }
}

/// A command line split into positional words and the options it was given.
struct Arguments {
    private(set) var positional: [String] = []
    private var given: [String: [String]] = [:]

    /// `words` after the subcommand's name; `options`: what it takes (an unknown option is a usage error).
    init(_ words: [String], options: [Option]) throws {
        var rest = words[...]
        while let word = rest.popFirst() {
            guard word.hasPrefix("--"), word.count > 2 else {
                positional.append(word)
                continue
            }
            if word == "--" {
                positional += rest
                break
            }
            let body = word.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            guard let option = options.first(where: { $0.name == name }) else {
                throw CommandFailure("unknown option --\(name)", .usage)
            }
            var value: String?
            if let equals = body.firstIndex(of: "=") {
                value = String(body[body.index(after: equals)...])
            } else if option.kind != .flag {
                value = rest.popFirst()
            }
            switch option.kind {
            case .flag:
                guard value == nil else { throw CommandFailure("--\(name) takes no value", .usage) }
                given[name] = [""]
            case .value, .values:
                guard let value else { throw CommandFailure("--\(name) needs \(option.placeholder)", .usage) }
                given[name] = (option.kind == .values ? given[name] ?? [] : []) + [value]
            }
        }
    }

    func flag(_ name: String) -> Bool { given[name] != nil }
    func value(_ name: String) -> String? { given[name]?.last }
    func values(_ name: String) -> [String] { given[name] ?? [] }

    func int(_ name: String) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text) else { throw CommandFailure("--\(name) takes a whole number: \(text)", .usage) }
        return number
    }
}
