import CLinux
import Foundation

/// The version a runtime library carries in its own file, after a marker its manifest names (the
/// vendor's RKLLM library holds `rkllm-runtime version: ` and logs the line at init). Best effort:
/// nil when the file does not hold the marker followed by a version.
enum LibraryVersion {
    /// The version in the file of the loaded object that `address` (one of its symbols) is in.
    static func read(marker: String, loadedAt address: UnsafeRawPointer) -> String? {
        guard let name = clinux_object_path(address),
            let file = FileManager.default.contents(atPath: String(cString: name))
        else { return nil }
        return find(marker: marker, in: file)
    }

    /// The digits and dots right after the first `marker` in `bytes` that has a version after it.
    static func find(marker: String, in bytes: Data) -> String? {
        let needle = Data(marker.utf8)
        var from = bytes.startIndex
        while let range = bytes.range(of: needle, in: from..<bytes.endIndex) {
            let digits = bytes[range.upperBound...].prefix { $0 == 0x2E || (0x30...0x39).contains($0) }
            let version = String(decoding: digits, as: UTF8.self).trimmingCharacters(
                in: CharacterSet(charactersIn: "."))
            if version.split(separator: ".").count >= 2 { return version }
            from = range.upperBound
        }
        return nil
    }
}
