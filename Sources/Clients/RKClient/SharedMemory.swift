import BindingRuntime
import Glibc

/// Memory shared with a runtime: the descriptor an answer brought (`rknn.create_mem`'s), mapped
/// for reading and writing. What is written here is what the NPU reads once the memory is bound
/// (`rknn.set_io_mem`); what it writes is read here. Unmapped when it goes.
public final class SharedMemory: @unchecked Sendable {
    public let bytes: UnsafeMutableRawBufferPointer

    /// Maps `size` bytes of `fileDescriptor` and closes it (the mapping stays).
    public init(fileDescriptor: Int32, size: Int) throws {
        defer { close(fileDescriptor) }
        guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fileDescriptor, 0), base != MAP_FAILED
        else { throw RPCError(code: RPCError.Code.internalError, message: "mmap: \(String(cString: strerror(errno)))") }
        bytes = UnsafeMutableRawBufferPointer(start: base, count: size)
    }

    deinit { munmap(bytes.baseAddress, bytes.count) }
}

extension RKClient {
    /// The oldest descriptor that came with an answer, mapped (`size`: the memory's size).
    public func mapFileDescriptor(size: Int) throws -> SharedMemory? {
        guard let fd = takeFileDescriptor() else { return nil }
        return try SharedMemory(fileDescriptor: fd, size: size)
    }
}
