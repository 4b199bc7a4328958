import BindingRuntime
import Foundation

/// An RKNN model on the daemon, the way an inference program uses one: loaded with `rknn.init`,
/// its tensors described once, run on inputs given as bytes, its outputs as Float values.
public final class Model: Sendable {
    /// An input or output tensor, as `rknn.query` describes it.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        /// The dimensions in use (`dims[..<n_dims]`).
        public let shape: [Int]
        /// `RKNN_TENSOR_NHWC`, ...
        public let format: String
        /// `RKNN_TENSOR_UINT8`, ...
        public let type: String
        public let byteCount: Int

        init(_ info: JSONValue) throws {
            guard let dims = info["dims"]?.arrayValue?.compactMap(\.intValue), let count = info["n_dims"]?.intValue,
                count <= dims.count, let size = info["size"]?.intValue
            else { throw RPCError(code: RPCError.Code.internalError, message: "a tensor without its shape: \(info)") }
            name = info["name"]?.stringValue ?? ""
            shape = Array(dims[..<count])
            format = info["fmt"]?.stringValue ?? ""
            type = info["type"]?.stringValue ?? ""
            byteCount = size
        }
    }

    /// One input's data: its bytes, their element type and layout (the runtime converts them to
    /// what the model takes).
    public struct Input: Sendable {
        public var bytes: [UInt8]
        public var type: String
        public var format: String

        public init(bytes: [UInt8], type: String = "RKNN_TENSOR_UINT8", format: String = "RKNN_TENSOR_NHWC") {
            (self.bytes, self.type, self.format) = (bytes, type, format)
        }
    }

    public let client: RKClient
    /// The daemon's handle of the model's context.
    public let context: JSONValue
    public let inputs: [Tensor]
    public let outputs: [Tensor]

    /// `coreMask`: the NPU cores to run on (`rknn_core_mask`; nil: the runtime's choice).
    public init(
        _ model: String, client: RKClient, coreMask: Int? = nil, loading: (@Sendable (JSONValue) -> Void)? = nil
    ) async throws {
        var params: JSONObject = ["model_path": .string(model)]
        if let coreMask { params["core_mask"] = .int(Int64(coreMask)) }
        guard let context = try await client.call("rknn.init", .object(params), loading: loading)["context"] else {
            throw RPCError(code: RPCError.Code.internalError, message: "rknn.init answered no context")
        }
        self.client = client
        self.context = context
        do {
            let counts = try await client.call("rknn.query", [context, "RKNN_QUERY_IN_OUT_NUM"])["info"]
            func tensors(_ count: String, _ query: JSONValue) async throws -> [Tensor] {
                var tensors: [Tensor] = []
                for index in 0..<(counts?[count]?.intValue ?? 0) {
                    let info = try await client.call("rknn.query", [context, query, ["index": .int(Int64(index))]])
                    tensors.append(try Tensor(info["info"] ?? .null))
                }
                return tensors
            }
            inputs = try await tensors("n_input", "RKNN_QUERY_INPUT_ATTR")
            outputs = try await tensors("n_output", "RKNN_QUERY_OUTPUT_ATTR")
        } catch {
            _ = try? await client.call("rknn.destroy", [context])
            throw error
        }
    }

    /// Runs the model once: every input set, the run, every output as Float values (dequantized by
    /// the runtime), in the order of `outputs`.
    public func run(inputs given: [Input]) async throws -> [[Float]] {
        let tensors: [JSONValue] = given.enumerated().map { index, input in
            [
                "index": .int(Int64(index)), "buf": .string(Data(input.bytes).base64EncodedString()),
                "type": .string(input.type), "fmt": .string(input.format),
            ]
        }
        _ = try await client.call("rknn.inputs_set", [context, .array(tensors)])
        _ = try await client.call("rknn.run", [context])
        let wanted = JSONValue.array(outputs.map { _ in ["want_float": 1] })
        let answer = try await client.call("rknn.outputs_get", [context, wanted])
        return try (answer["outputs"]?.arrayValue ?? []).map { output in
            guard let text = output["buf"]?.stringValue, let data = Data(base64Encoded: text) else {
                throw RPCError(code: RPCError.Code.internalError, message: "an output without its data")
            }
            return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
    }

    /// Destroys the model's context.
    public func close() async throws { _ = try await client.call("rknn.destroy", [context]) }
}
