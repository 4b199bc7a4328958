import BindingRuntime
import Foundation

/// Where the runtimes may read and write files clients name: each path kind of the annotations
/// (`model`, `cache`) maps to the directories the daemon gives its runtime hosts (HostSettings).
/// A relative path names the first of the kind's directories that has it (the first directory
/// when none has: a file to be made); symbolic links, dangling ones included, are resolved before
/// the check, so none leads out (not even for a file the runtime would create). A bare name
/// (no `/`) that no directory has names the file with one of the kind's extensions (`demo` ->
/// `demo.rkllm`), the first found.
public struct PathPolicy: Sendable {
    let directories: [String: [String]]
    let extensions: [String: [String]]

    init(directories: [String: [String]], extensions: [String: [String]] = [:]) {
        self.directories = directories.mapValues { $0.map { Self.resolved($0) ?? $0 } }
        self.extensions = extensions
    }

    func confine(_ value: String, kind: String, param: String) throws -> String {
        let allowed = directories[kind] ?? []
        guard let first = allowed.first else {
            throw RPCError(
                code: RPCError.Code.notPermitted, message: "\(param): no \(kind) directories are configured",
                data: .object(["param": .string(param), "kind": .string(kind)]))
        }
        let resolved: String?
        if value.hasPrefix("/") {
            resolved = Self.resolved(value)
        } else {
            let names = [value] + (value.contains("/") ? [] : (extensions[kind] ?? []).map { value + $0 })
            let inEach = names.flatMap { name in allowed.compactMap { Self.resolved($0 + "/" + name) } }
            resolved = inEach.first { FileManager.default.fileExists(atPath: $0) } ?? Self.resolved(first + "/" + value)
        }
        guard let candidate = resolved,
            allowed.contains(where: { candidate == $0 || candidate.hasPrefix($0 == "/" ? "/" : $0 + "/") })
        else {
            throw RPCError(
                code: RPCError.Code.notPermitted, message: "\(param): '\(value)' is outside the \(kind) directories",
                data: .object([
                    "param": .string(param), "kind": .string(kind),
                    "directories": .array(allowed.map { .string($0) }),
                ]))
        }
        return candidate
    }

    /// The real path; for a file that does not exist yet, its directory's real path and its name;
    /// for a dangling symbolic link, where it points (a file made through it lands there). `..` is
    /// removed lexically first; the runtime gets this path, the one that was checked. nil for links
    /// that do not end (a loop).
    static func resolved(_ path: String, links: Int = 0) -> String? {
        let standard = URL(fileURLWithPath: path).standardized.path
        if let real = realpath(standard, nil) {
            defer { free(real) }
            return String(cString: real)
        }
        let url = URL(fileURLWithPath: standard)
        let parent = url.deletingLastPathComponent().path
        guard parent != standard else { return standard }
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: standard) {
            guard links < 40 else { return nil }  // the kernel's own limit (ELOOP)
            return resolved(target.hasPrefix("/") ? target : parent + "/" + target, links: links + 1)
        }
        guard let base = resolved(parent, links: links) else { return nil }
        return (base == "/" ? "" : base) + "/" + url.lastPathComponent
    }
}
