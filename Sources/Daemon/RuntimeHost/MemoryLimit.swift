import Foundation
import Glibc

/// The runtime host's memory limit (`--runtime-host-memory`): RLIMIT_DATA, which counts what a
/// runtime allocates (heap and private mappings, not the model files it maps), so a runaway host
/// gets allocation failures early, instead of taking the board's memory from everyone.
enum MemoryLimit {
    /// Three quarters of the machine's memory, unless the settings say otherwise.
    static var defaultBytes: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let size = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && size > 0 ? pages / 4 * 3 * size : Int.max
    }

    /// Applied in the host before it loads the runtime. A sanitizer reserves terabytes of shadow
    /// memory that RLIMIT_DATA counts: under one the limit is left off, and the log says so.
    static func apply(_ bytes: Int) -> String? {
        for symbol in ["__asan_init", "__tsan_init"] where dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol) != nil
        {
            return "memory limit not applied: built with a sanitizer (\(symbol))"
        }
        var limit = rlimit(rlim_cur: rlim_t(bytes), rlim_max: rlim_t(bytes))
        guard setrlimit(__rlimit_resource_t(RLIMIT_DATA.rawValue), &limit) == 0 else {
            return "memory limit not applied: setrlimit: \(String(cString: strerror(errno)))"
        }
        return nil
    }
}
