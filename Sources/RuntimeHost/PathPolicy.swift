import BindingRuntime
import Foundation

/// Where the runtimes may read and write files clients name: each path kind of the annotations
/// (`model`, `cache`) maps to directories from the environment the daemon gives its runtime
/// hosts. A relative path names the first of the kind's directories that has it (the first
/// directory when none has: a file to be made); symbolic links are resolved before the check, so
/// none leads out.
public struct PathPolicy: Sendable {
    /// The environment variable listing each kind's directories (':'-separated).
    static let variables = ["model": "RKLLM_MODEL_DIRS", "cache": "RKLLM_CACHE_DIR"]

    let directories: [String: [String]]

    init(directories: [String: [String]]) {
        self.directories = directories.mapValues { $0.map(Self.resolved) }
    }

    /// Hands each kind's directories to the runtime hosts started from now on (their environment).
    public static func publish(_ directories: [String: [String]]) {
        for (kind, name) in variables { setenv(name, (directories[kind] ?? []).joined(separator: ":"), 1) }
    }

    static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> PathPolicy {
        PathPolicy(directories: variables.mapValues { name in
            (environment[name] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
        })
    }

    func confine(_ value: String, kind: String, param: String) throws -> String {
        let allowed = directories[kind] ?? []
        guard let first = allowed.first else {
            throw RPCError(code: RPCError.notPermittedCode, message: "\(param): no \(kind) directories are configured",
                           data: .object(["param": .string(param), "kind": .string(kind)]))
        }
        let candidate: String
        if value.hasPrefix("/") {
            candidate = Self.resolved(value)
        } else {
            let inEach = allowed.map { Self.resolved($0 + "/" + value) }
            candidate = inEach.first { FileManager.default.fileExists(atPath: $0) } ?? Self.resolved(first + "/" + value)
        }
        guard allowed.contains(where: { candidate == $0 || candidate.hasPrefix($0 == "/" ? "/" : $0 + "/") }) else {
            throw RPCError(code: RPCError.notPermittedCode, message: "\(param): '\(value)' is outside the \(kind) directories",
                           data: .object(["param": .string(param), "kind": .string(kind),
                                          "directories": .array(allowed.map { .string($0) })]))
        }
        return candidate
    }

    /// The real path; for a file that does not exist yet, its directory's real path and its name.
    /// `..` is removed lexically first; the runtime gets this path, the one that was checked.
    static func resolved(_ path: String) -> String {
        let standard = URL(fileURLWithPath: path).standardized.path
        if let real = realpath(standard, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let url = URL(fileURLWithPath: standard)
        let parent = url.deletingLastPathComponent().path
        guard parent != standard else { return standard }
        let base = resolved(parent)
        return (base == "/" ? "" : base) + "/" + url.lastPathComponent
    }
}
