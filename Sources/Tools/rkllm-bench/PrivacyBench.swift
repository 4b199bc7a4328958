import BindingRuntime
import Foundation

/// `rkllm-bench privacy`: what privacy on shared model instances costs. Two clients share the demo
/// model (loaded in the simulated runtime's `load_ms`, RKLLM_SIM_LOAD_MS, default the model's); one
/// sets a chat template: it first gets an instance of its own (a load). Then the same call again,
/// and the first change of a client alone on its instance (no load), for comparison.
func privacy(_ options: Options) throws {
    for (name, value) in [
        "RKLLM_RUNTIME_LIB": besideBench("librkllmrt_sim.so"), "RKLLM_MODEL_DIRS": repositoryModels,
        "RKLLM_KEEP_ALIVE": "0",
    ] {
        setenv(name, value, 1)
    }
    let target = try Target(socket: nil, maxConnections: 4)
    defer { target.stop() }
    let model: JSONValue = [["model_path": "demo.rkllm"]]
    func timed(_ client: BenchClient, _ method: String, _ params: JSONValue) throws -> Double {
        let started = now()
        _ = try client.call(method, params)
        return Double(now() - started) / 1e6
    }
    let first = try BenchClient(target.socket)
    let second = try BenchClient(target.socket)
    let load = try timed(first, "rkllm.init", model)
    _ = try second.call("rkllm.init", model)  // joins
    let template: (JSONValue) -> JSONValue = { [$0, "You are terse.", "<user>", "</user>"] }
    let separate = try timed(second, "rkllm.set_chat_template", template(nil))
    let again = try timed(second, "rkllm.set_chat_template", template(nil))
    let alone = try timed(first, "rkllm.set_chat_template", template(nil))
    let hosts = try first.call("server.stats", .array([]))["runtimes"]?["rkllm"]?["hosts_running"] ?? .null
    print(
        String(
            format:
                "model load %.1f ms; a change to a shared instance %.1f ms (an instance of its own); the same change again %.2f ms; "
                + "a change by a client alone on its instance %.2f ms; %@ hosts",
            load, separate, again, alone, hosts.jsonText))
}
