import CLinux

/// How the C allocator treats the buffers of a large message (a base64 frame: megabytes for its
/// line, its string, its copy to a runtime host, each freed once relayed). Left to glibc, each
/// comes from a fresh mmap and goes back at once, so every frame pays page faults and the zeroing
/// of new pages: about 60% of the daemon's CPU per frame (rkllm-bench frames: 6.3 ms, 2.4 ms with
/// these settings). Buffers up to 16 MiB come from the heap instead, and up to 16 MiB of freed heap
/// stays with the process for the next message: a bounded retention, far below the limits on a
/// message (`--max-message-bytes`) and on buffered bytes.
public enum LargeBuffers {
    public static let retained: Int32 = 16 << 20

    /// Process-wide, before threads start: the daemon and every runtime host.
    public static func keepForReuse() {
        _ = mallopt(M_MMAP_THRESHOLD, retained)
        _ = mallopt(M_TRIM_THRESHOLD, retained)
    }
}
