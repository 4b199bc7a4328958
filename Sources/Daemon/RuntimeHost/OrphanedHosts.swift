import Foundation

/// Runtime host processes of a daemon that is gone: one of its host executables in host mode,
/// adopted by init. They die with their daemon (PR_SET_PDEATHSIG); this catches any that did not, at start.
enum OrphanedHosts {
    static func find(executables: Set<String>) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap(pid_t.init).filter { pid in
            guard pid != getpid(), parent(of: pid) == 1, let cmdline = read("/proc/\(pid)/cmdline") else {
                return false
            }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return arguments.count > 1 && arguments[1] == "--runtime-host"
                && executablePath(of: pid).map(executables.contains) == true
        }
    }

    private static func parent(of pid: pid_t) -> pid_t? {
        guard let bytes = read("/proc/\(pid)/stat"), let close = bytes.lastIndex(of: UInt8(ascii: ")")) else {
            return nil
        }
        // "pid (comm) state ppid ...": comm may hold spaces, so read after its closing parenthesis.
        let fields = bytes[(close + 1)...].split(separator: UInt8(ascii: " "))
        return fields.count > 1 ? pid_t(String(decoding: fields[1], as: UTF8.self)) : nil
    }

    private static func executablePath(of pid: pid_t) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }

    /// A small /proc file (their size reads as 0, so read until the end).
    private static func read(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = Glibc.read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        return bytes
    }
}
