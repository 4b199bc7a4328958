import Foundation

/// redis-server on a Unix socket of its own, the anchor of the ping benchmark: a mature
/// single-threaded event-loop server answering PING. Nil when redis-server is not installed.
final class RedisServer {
    let socket: String
    private let process: Process

    init?() throws {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        guard
            let binary = (paths + ["/usr/sbin", "/usr/bin"]).map({ "\($0)/redis-server" })
                .first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return nil }
        socket = "/tmp/rkllm-bench-redis-\(getpid()).sock"
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--port", "0", "--unixsocket", socket, "--save", "", "--appendonly", "no", "--maxclients", "20000",
            "--logfile", "/dev/null",
        ]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let fd = try? connect(socket) {
                close(fd)
                return
            }
            usleep(20_000)
        }
        stop()
        throw BenchError("redis-server did not start on \(socket)")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        unlink(socket)
    }
}
