/// Command-line words: positional arguments and `--name value` options.
struct Options {
    var positional: [String] = []
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>, takingValues names: Set<String>) throws {
        var it = arguments.makeIterator()
        while let word = it.next() {
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2))
                guard names.contains(name) else { throw UsageError("unknown option \(word)") }
                guard let value = it.next() else { throw UsageError("\(word) needs a value") }
                values[name] = value
            } else {
                positional.append(word)
            }
        }
    }

    func positional(_ index: Int, _ what: String) throws -> String {
        guard index < positional.count else { throw UsageError("missing \(what)") }
        return positional[index]
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
