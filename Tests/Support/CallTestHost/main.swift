import BindingRuntime
import CallTestBindings
import Foundation
import RuntimeHost

/// The fixture's runtime host: what rkllm-server is with `--runtime-host`, for the fixture's generated
/// table and manifest (the router tests start it).
let runtimes = [HostedRuntime(RuntimeManifests.ct, table: DispatchTable.entries + Constants.entries)]
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: runtimes) ?? 2)
