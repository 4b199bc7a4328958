import BindingRuntime
import CallTestBindings
import Foundation
import RuntimeHost

/// The fixture's runtime host: what rkllm-server is with `--runtime-host`, for the fixture's generated
/// table and manifest (the router tests start it).
let runtimes = [HostedRuntimes.ct]
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: runtimes) ?? 2)
