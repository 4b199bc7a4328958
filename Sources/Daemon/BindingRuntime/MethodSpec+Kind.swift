extension MethodSpec {
    /// How the daemon routes a method's calls, decided from its traits when its table is made, so
    /// routing a call is one switch.
    public enum Kind: Sendable, Equatable {
        /// Creates an object that clients creating it with equal parameters share.
        case createsShared
        /// Destroys its handle's object (of a shared object: the caller's release).
        case destroys
        /// Stops its handle's running stream (the caller's own).
        case aborts
        /// Streams callback messages, one stream at a time on its object.
        case streams
        /// One call, answered.
        case plain

        init(creatingShared: Bool, destroys: String?, aborts: String?, streams: String?) {
            self =
                if creatingShared { .createsShared } else if destroys != nil { .destroys } else if aborts != nil {
                    .aborts
                } else if streams != nil { .streams } else { .plain }
        }
    }
}
