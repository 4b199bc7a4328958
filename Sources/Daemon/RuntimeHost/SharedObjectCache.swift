/// Objects clients share (a handle type the annotations mark `shared`), by their creating call's
/// canonical parameters: live ones (used or keeping alive), and loading ones with the callers
/// that will join them; with the values of each runtime's instance field that live objects use.
/// Bookkeeping only; the router loads and destroys. Loop thread only.
struct SharedObjectCache<Object: AnyObject, Joiner> {
    private(set) var objects: [String: Object] = [:]
    private var loading: [String: [Joiner]] = [:]
    private var instanceValues: [String: Set<Int64>] = [:]

    enum Join {
        /// A live object made by the same call.
        case joined(Object)
        /// The same call is loading one: the joiner gets it when the load ends.
        case waiting
        /// None: the caller loads it, then tells `loaded`.
        case load
    }

    /// What a creating call with `key` gets; `usable` tells a live object from a dead one.
    mutating func join(_ key: String, _ joiner: Joiner, usable: (Object) -> Bool) -> Join {
        if let object = objects[key], usable(object) { return .joined(object) }
        if loading[key] != nil {
            loading[key]!.append(joiner)
            return .waiting
        }
        loading[key] = []
        return .load
    }

    /// The load of `key` ended with `object` (nil: it failed), which goes in the cache; the joiners
    /// that waited for it.
    /// The joiners waiting for the load of `key`, or nil when it is not loading.
    func waiting(for key: String) -> [Joiner]? { loading[key] }

    mutating func loaded(_ key: String, _ object: Object?) -> [Joiner] {
        if let object { objects[key] = object }
        return loading.removeValue(forKey: key) ?? []
    }

    /// Takes `object` out of the cache (nobody joins it any more) when it is the one under `key`.
    mutating func remove(_ object: Object, key: String?) {
        if let key, objects[key] === object { objects[key] = nil }
    }

    mutating func removeAll() { objects.removeAll() }

    /// The lowest value of `namespace`'s instance field no live object uses, now used.
    mutating func takeInstanceValue(in namespace: String) -> Int64 {
        let used = instanceValues[namespace, default: []]
        let value = (Int64(0)...).first { !used.contains($0) }!
        instanceValues[namespace, default: []].insert(value)
        return value
    }

    /// An instance-field value no object uses any more.
    mutating func returnInstanceValue(_ value: Int64?, in namespace: String) {
        if let value { instanceValues[namespace]?.remove(value) }
    }
}
