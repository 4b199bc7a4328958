import Foundation

/// The classic spare descriptor for a process out of file descriptors: when `accept` fails with
/// EMFILE or ENFILE, the spare is closed so the waiting connection can be taken, told why and
/// closed, then the spare is opened again. Without it the listening socket stays readable, nothing
/// can take the connection, and the loop spins on it.
struct DescriptorReserve {
    private var fd = DescriptorReserve.openSpare()

    private static func openSpare() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    /// Runs `body` with the spare freed, then takes the spare back; nil when there was none to free.
    mutating func spend<Result>(_ body: () -> Result) -> Result? {
        if fd < 0 { fd = Self.openSpare() }
        guard fd >= 0 else { return nil }
        close(fd)
        let result = body()
        fd = Self.openSpare()
        return result
    }

    mutating func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}
