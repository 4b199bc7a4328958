import BindingRuntime
import CLinux
import Foundation
import RPCServer

/// The runtime host process: a header set's host executable (`rkllm-host-1.3.0 --runtime-host NAMESPACE
/// --library PATH --parent PID`), started by the daemon with one end of a socketpair as fd 3. It
/// dlopens the runtime, resolves the generated table's symbols and runs the entries the daemon sends
/// (JSON-RPC lines with internal ids), blocking ones on threads of their own. It never touches a
/// client socket; it dies with the daemon.
public enum HostMain {
    static let channelFD: Int32 = 3

    /// What a host the daemon starts does: serve calls, or load the library, report on it in its
    /// `ready` and exit. A probe calls nothing in the library (its version, which picks the
    /// table, is not known yet), except once the daemon has matched the library's version with
    /// this host's table: then it also reports the defaults of what the table's calls give per run.
    enum Mode: String {
        case serve = ""
        case probe = "--probe"
        case probeMatched = "--probe-matched"
    }

    /// Runs the runtime host when the command line is host mode (HostSettings has it whole),
    /// with the table of the runtime it names; nil when it is not host mode.
    public static func runIfRuntimeHost(_ arguments: [String], runtimes: [HostedRuntime]) -> Int32? {
        guard arguments.count >= 6, arguments[0] == "--runtime-host", arguments[2] == "--library",
            arguments[4] == "--parent",
            let parent = pid_t(arguments[5]), let settings = HostSettings(arguments: arguments.dropFirst(6))
        else { return nil }
        guard let runtime = runtimes.first(where: { $0.namespace == arguments[1] }) else { return 2 }
        let mode = [Mode.probe, .probeMatched].first { arguments.dropFirst(6).contains($0.rawValue) } ?? .serve
        return run(runtime, library: arguments[3], parent: parent, mode: mode, settings: settings)
    }

    /// The host's command line for `spawn`.
    static func commandLine(namespace: String, library: String, mode: Mode, settings: HostSettings) -> [String] {
        ["--runtime-host", namespace, "--library", library, "--parent", String(getpid())]
            + (mode == .serve ? [] : [mode.rawValue]) + settings.arguments
    }

    static func run(_ runtime: HostedRuntime, library path: String, parent: pid_t, mode: Mode, settings: HostSettings)
        -> Int32
    {
        // Die with the daemon; if it is already gone (we were adopted), do not start.
        clinux_die_with_parent()
        if getppid() != parent { return 1 }
        LargeBuffers.keepForReuse()
        let memoryNote = settings.memoryLimit.flatMap(MemoryLimit.apply)
        let channel = HostChannel(fd: channelFD)
        let entries = runtime.entries.filter { $0.symbol != nil }
        var ready: JSONObject = ["library": .string(path), "protocol": .int(HostMessage.version)]
        let library: RuntimeLibrary
        do {
            library = try RuntimeLibrary(path: path, entries: entries)
        } catch {
            ready["error"] = .string("\(error)")
            channel.send(.ready(ready))
            return 0
        }
        ready["resolved"] = .array(
            entries.compactMap(\.symbol).filter { library.symbols[$0] != nil }.map { .string($0) })
        ready["missing"] = .array(library.missing.map { .string($0) })
        if let memoryNote { ready["memory_limit"] = .string(memoryNote) }
        // Only the probe's answer is read for these (RuntimeProbe): a host started for a call does
        // not read the library's file again.
        if mode != .serve, let marker = runtime.manifest.versionMarker, let symbol = library.symbols.values.first,
            let version = LibraryVersion.read(marker: marker, loadedAt: symbol)
        {
            ready["library_version"] = .string(version)
        }
        if mode == .probeMatched {
            let defaults = defaults(runtime, library: library, channel: channel)
            if !defaults.pairs.isEmpty { ready["defaults"] = .object(defaults) }
        }
        channel.send(.ready(ready))
        if mode != .serve { return 0 }
        HostCalls(runtime: runtime, library: library, entries: entries, channel: channel, settings: settings).serve()
        return 0  // the daemon closed the channel
    }
}

extension HostMain {
    /// For a probe of a matched library: the defaults of shared creating calls' parameters, each
    /// `MethodSpec.defaults` method's `return` (a function of no parameters).
    static func defaults(_ runtime: HostedRuntime, library: RuntimeLibrary, channel: HostChannel) -> JSONObject {
        var defaults = JSONObject()
        for method in Set(runtime.entries.flatMap(\.defaults.values)).sorted() {
            guard let entry = runtime.entries.first(where: { $0.method == method }) else { continue }
            let host = ProcessCallHost(
                callID: 0, entry: entry, handles: HandleTable(), channel: channel, fds: [],
                paths: PathPolicy(directories: [:]), plugins: PluginLibraries(directory: nil))
            if let value = (try? library.call(entry, params: nil, host: host))?["return"] { defaults[method] = value }
        }
        return defaults
    }
}
