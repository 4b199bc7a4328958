import BindingRuntime
import Foundation
import XCTest

/// Calls pipelined behind a destroy of their own handle (on the next line, or later in the same
/// batch): every one is answered, -32001, whatever the object's state; the daemon then closes the
/// connection after the client's half-close, since nothing is left unanswered. Every method that
/// takes a handle is tried, for every handle kind (an RKLLM model, an RKNN context, a MatMul
/// context, a tensor memory), from the daemon's own document.
final class AfterDestroyTests: XCTestCase {
    /// A handle kind: how one is made, and the call that destroys it.
    private struct Kind {
        let type: String
        let make: (Client) throws -> (handle: JSONValue, context: JSONValue?)
        let destroy: (JSONValue, JSONValue?) -> (method: String, params: JSONValue)
    }

    private static var kinds: [Kind] {
        [
            Kind(
                type: "LLMHandle",
                make: { (try XCTUnwrap(try $0.call("rkllm.init", [["model_path": "demo.rkllm"]])["handle"]), nil) },
                destroy: { handle, _ in ("rkllm.destroy", ["handle": handle]) }),
            Kind(
                type: "rknn_context",
                make: { (try XCTUnwrap(try $0.call("rknn.init", [["path": "demo.rknn"], 0])["context"]), nil) },
                destroy: { handle, _ in ("rknn.destroy", ["context": handle]) }),
            Kind(
                type: "rknn_context",
                make: {
                    let info: JSONValue = ["M": 4, "K": 32, "N": 32, "type": "RKNN_INT8_MM_INT8_TO_INT32"]
                    return (try XCTUnwrap(try $0.call("rknn.matmul_create", [info])["ctx"]), nil)
                },
                destroy: { handle, _ in ("rknn.matmul_destroy", ["ctx": handle]) }),
            Kind(
                type: "rknn_tensor_mem",
                make: { client in
                    let context = try XCTUnwrap(try client.call("rknn.init", [["path": "demo.rknn"], 0])["context"])
                    let mem = try XCTUnwrap(try client.call("rknn.create_mem", [context, 4096])["return"])
                    return (mem, context)
                },
                destroy: { handle, context in ("rknn.destroy_mem", ["ctx": context ?? .null, "mem": handle]) }),
        ]
    }

    /// Each method with a parameter of `type`: its name and that parameter's name.
    private static func methods(taking type: String, in document: JSONValue) -> [(method: String, param: String)] {
        guard case .array(let methods)? = document["methods"] else { return [] }
        return methods.compactMap { method in
            guard case .string(let name)? = method["name"], case .array(let params)? = method["params"],
                let param = params.first(where: { $0["x-handle"] == .string(type) }),
                case .string(let paramName)? = param["name"]
            else { return nil }
            return (name, paramName)
        }
    }

    func testEveryCallBehindADestroyOfItsHandleIsAnsweredUnknownHandle() throws {
        let daemon = try Bystander.daemon()
        let document = try Client(daemon.socket).call("rpc.discover")
        for kind in Self.kinds {
            let methods = Self.methods(taking: kind.type, in: document)
            XCTAssertGreaterThan(methods.count, 2, kind.type)
            for batched in [false, true] {
                try assertAnsweredBehindDestroy(kind, methods: methods, batched: batched, on: daemon)
            }
        }
        daemon.assertStopsCleanly()
    }

    private func assertAnsweredBehindDestroy(
        _ kind: Kind, methods: [(method: String, param: String)], batched: Bool, on daemon: Daemon
    ) throws {
        let client = try Client(daemon.socket)
        let (handle, context) = try kind.make(client)
        let destroy = kind.destroy(handle, context)
        var requests: [JSONValue] = [
            ["jsonrpc": "2.0", "id": 0, "method": .string(destroy.method), "params": destroy.params]
        ]
        for (index, target) in methods.enumerated() {
            var params: JSONObject = [target.param: handle]
            // The other handle of a two-handle method is the live context: only the destroyed one is unknown.
            if let context, target.param != "ctx" && target.param != "context" { params["ctx"] = context }
            requests.append(
                [
                    "jsonrpc": "2.0", "id": .int(Int64(index + 1)), "method": .string(target.method),
                    "params": .object(params),
                ])
        }
        let text =
            batched
            ? JSONValue.array(requests).jsonText + "\n" : requests.map { $0.jsonText + "\n" }.joined()
        try client.send(text)
        var answers: [Int64: JSONValue] = [:]
        while answers.count < requests.count {
            let message = try client.readMessage()
            let replies: [JSONValue] = if case .array(let items) = message { items } else { [message] }
            for reply in replies {
                guard case .int(let id)? = reply["id"] else { continue }  // a stream's notification
                XCTAssertNil(answers[id], "two answers to \(reply.jsonText)")
                answers[id] = reply
            }
        }
        XCTAssertNotNil(answers[0]?["result"], "\(destroy.method): \(answers[0]?.jsonText ?? "")")
        for (index, target) in methods.enumerated() {
            let reply = answers[Int64(index + 1)]
            XCTAssertEqual(
                reply?["error"]?["code"], .int(Int64(RPCError.Code.unknownHandle)),
                "\(target.method) behind \(destroy.method) (batch: \(batched)): \(reply?.jsonText.prefix(300) ?? "")")
        }
        // Nothing left unanswered: the half-close is followed by the daemon's close.
        shutdown(client.fd, Int32(SHUT_WR))
        XCTAssertNil(try client.readLine(), "the daemon must close the connection after the half-close")
    }
}
