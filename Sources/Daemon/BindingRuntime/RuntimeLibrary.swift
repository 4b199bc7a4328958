import Foundation

/// A vendor runtime loaded with dlopen, and the generated table's symbols resolved in it. A missing
/// symbol disables only its entry ("not present in this runtime version").
///
/// Thread safety: the handle and the resolved addresses are written once in `init` and only read
/// afterwards; `dlsym` itself is thread-safe.
public final class RuntimeLibrary: @unchecked Sendable {
    public let path: String
    private let handle: UnsafeMutableRawPointer
    public let symbols: [String: UnsafeRawPointer]
    public let missing: [String]

    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(path: String, entries: [MethodEntry]) throws {
        // Global, as if linked: plugins the runtime loads (custom operators) call back into it.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            throw LoadError(description: String(cString: dlerror()))
        }
        self.path = path
        self.handle = handle
        var symbols: [String: UnsafeRawPointer] = [:]
        var missing: [String] = []
        let names = Set(entries.compactMap(\.symbol) + entries.flatMap(\.needs))
        for name in names.sorted() {
            if let address = dlsym(handle, name) {
                symbols[name] = UnsafeRawPointer(address)
            } else {
                missing.append(name)
            }
        }
        self.symbols = symbols
        self.missing = missing
    }

    deinit { dlclose(handle) }

    /// Runs an entry with this library's symbols.
    public func call(_ entry: MethodEntry, params: JSONValue?, host: CallHost) throws -> JSONValue {
        try entry.call(params: params, host: host) { [symbols] in symbols[$0] }
    }
}
