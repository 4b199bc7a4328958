import BindingRuntime
import Foundation

/// Server-side plugins (custom operators): libraries in the plugin directory that clients name and
/// never send. A plugin, once loaded, stays loaded: the runtime calls into it until the host ends.
final class PluginLibraries: @unchecked Sendable {
    private let directory: String?
    private let lock = NSLock()
    private var loaded: [String: UnsafeMutableRawPointer] = [:]

    init(directory: String?) {
        self.directory = directory.flatMap { $0.isEmpty ? nil : $0 }
    }

    func symbol(_ symbol: String, in library: String) throws -> UnsafeRawPointer {
        guard let directory else {
            throw RPCError(
                code: RPCError.Code.notPermitted, message: "no plugin directory is configured")
        }
        // A file name of the directory, nothing else.
        let allowed = library.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) } && !library.hasPrefix(".")
        guard allowed else { throw RPCError.invalidParams(library, "not a plugin name") }
        return try lock.withLock {
            let image: UnsafeMutableRawPointer
            if let known = loaded[library] {
                image = known
            } else {
                guard let opened = dlopen(directory + "/" + library, RTLD_NOW | RTLD_LOCAL) else {
                    throw RPCError(
                        code: RPCError.Code.invalidParams, message: "plugin \(library) is not in \(directory)",
                        data: .object(["library": .string(library), "reason": .string(String(cString: dlerror()))]))
                }
                loaded[library] = opened
                image = opened
            }
            guard let address = dlsym(image, symbol) else {
                throw RPCError(code: RPCError.Code.invalidParams, message: "plugin \(library) has no \(symbol)")
            }
            return UnsafeRawPointer(address)
        }
    }
}
