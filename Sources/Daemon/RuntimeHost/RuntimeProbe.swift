import BindingRuntime
import Foundation
import RPCServer

/// At start, each runtime is loaded once in a short-lived host process (`--probe`): its `ready`
/// message says whether the library loads and which symbols it resolves, so the daemon can answer
/// "runtime not available" or "not present" at once without ever loading a runtime itself.
enum RuntimeProbe {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(
        executable: String, namespace: String, library: String, matched: Bool, settings: HostSettings,
        timeout: Double = 10
    ) -> Result<
        JSONValue, Failure
    > {
        let (pid, channel): (pid_t, Int32)
        do {
            (pid, channel) = try HostProcess.start(
                executable,
                HostMain.commandLine(
                    namespace: namespace, library: library, mode: matched ? .probeMatched : .probe, settings: settings))
        } catch {
            return .failure(Failure(description: "\(error)"))
        }
        defer { close(channel) }
        defer {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == 0 {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
            }
        }
        let socket = FramedSocket(fd: channel, maxLineBytes: 1 << 20, maxOutputBytes: 0)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 16)
        defer { chunk.deallocate() }
        var line: [UInt8]?
        let deadline = Date().addingTimeInterval(timeout)
        while line == nil {
            var poller = pollfd(fd: channel, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(clamping: CheckedNumbers.wholePart(max(0, deadline.timeIntervalSinceNow) * 1000))
            guard poll(&poller, 1, remaining) > 0 else {
                return .failure(Failure(description: "the runtime host did not answer in \(timeout) s"))
            }
            let outcome = socket.read(
                into: chunk, descriptors: { fds, _ in fds.forEach { close($0) } },
                lines: { event in
                    if line == nil, case .line(let first) = event { line = Array(first) }
                })
            guard case .bytes = outcome else {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                return .failure(
                    Failure(
                        description: HostProcess.describe(status: status, namespace: namespace).message
                            + " while loading \(library)"))
            }
        }
        guard let line, case .ready(let ready)? = line.withUnsafeBytes(HostMessage.read) else {
            return .failure(Failure(description: "the runtime host sent an unreadable message"))
        }
        if let mismatch = HostMessage.versionMismatch(ready) { return .failure(Failure(description: mismatch)) }
        return .success(.object(ready))
    }
}
