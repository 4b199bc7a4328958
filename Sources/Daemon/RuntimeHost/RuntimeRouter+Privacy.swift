import BindingRuntime
import Glibc
import RPCServer

/// Privacy on shared objects: a call that changes what an object's users see (its
/// settings, its conversation; the annotations' `reads_only` and `state_kept_when` say which)
/// makes the object its caller's own. When no other client holds it, it only leaves the sharing
/// index: nobody joins it any more, and it is destroyed when its client lets go. When others hold
/// it, the caller first gets an object of its own, made by the same creating call (a model load,
/// once), and its handles move there; the others never see the change. Loop thread only.
extension RuntimeRouter {
    /// Whether `entry` called with `params` changes what the users of a shared object see.
    static func changesSharedState(_ entry: MethodSpec, params: JSONValue?) -> Bool {
        switch entry.sharedState {
        case .none: return false
        case .changes: return true
        case .changesWhen(let path):
            switch member(path, of: params, entry: entry) {
            case nil, .null?, .bool(false)?, .int(0)?, .uint(0)?, .double(0)?: return false
            default: return true
            }
        }
    }

    /// Before `call` changes the state of the shared `object`: true when the call may go on now;
    /// false when it was answered or will be routed again (with `fds`) once the caller has an
    /// object of its own.
    func makeOwn(_ object: RuntimeObject, for call: Call, entry: MethodSpec, fds: [Int32]) -> Bool {
        let connection = call.connection
        guard handles.isHeld(object, byOtherThan: connection) else {
            object.isPrivate = true
            sharedObjects.remove(object, key: object.shareKey)
            return true
        }
        let busy =
            object.calls.running?.belongs(to: connection) == true
            || object.calls.waiting.contains { $0.belongs(to: connection) }
        let separation = "\(connection) \(ObjectIdentifier(object))"
        guard !busy, !separating.contains(separation), let creation = object.creation, let key = object.shareKey else {
            fds.forEach { close($0) }
            call.respond(
                .failure(
                    RPCError(
                        code: RPCError.Code.handleBusy,
                        message:
                            "\(entry.method) changes what the other users of this \(object.type) see: it needs one of "
                            + "your own, and your calls on it must end first")))
            return false
        }
        separating.insert(separation)
        logger.info(
            "\(object.type) \(object.hostID.jsonText): \(entry.method) by a client that shares it; loading one of its own"
        )
        load(creation.entry, params: creation.params, namespace: object.host.namespace, key: key) {
            [unowned self] outcome in
            separating.remove(separation)
            switch outcome {
            case .failure(let error):
                fds.forEach { close($0) }
                call.respond(.failure(error))
            case .success(let own):
                own.isPrivate = true
                guard isConnected(connection) else {
                    fds.forEach { close($0) }
                    return destroy(own)
                }
                let moved = handles.move(of: connection, from: object, to: own)
                object.references -= moved
                own.references += moved
                if own.references == 0 {  // the caller let go of its handle meanwhile
                    fds.forEach { close($0) }
                    destroy(own)
                    return call.respond(
                        .failure(RPCError(code: RPCError.Code.unknownHandle, message: "the handle was released")))
                }
                route(call, entry: entry, taken: fds)
            }
        }
        return false
    }
}
