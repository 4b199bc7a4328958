/// Finds where a member lands inside a C struct when Swift offers no stored property for it
/// (members of anonymous unions and structs are computed properties in Swift): write a byte
/// pattern through the setter into a zeroed value and look for it.
public enum LayoutProbe {
    public static func offset<Parent, Member>(of keyPath: WritableKeyPath<Parent, Member>) -> Int? {
        let size = MemoryLayout<Member>.size
        guard size > 0 else { return nil }
        let pattern = [UInt8](repeating: 0xA5, count: size)
        var parent = [UInt8](repeating: 0, count: MemoryLayout<Parent>.size).withUnsafeBytes {
            $0.loadUnaligned(as: Parent.self)
        }
        parent[keyPath: keyPath] = pattern.withUnsafeBytes { $0.loadUnaligned(as: Member.self) }
        return withUnsafeBytes(of: parent) { bytes -> Int? in
            guard bytes.count >= size else { return nil }
            for start in 0...(bytes.count - size) where bytes[start] == 0xA5 {
                if (start..<start + size).allSatisfy({ bytes[$0] == 0xA5 }) { return start }
            }
            return nil
        }
    }
}
