import CallTestBindings
import Foundation
import RuntimeHost

/// The fixture's runtime host: what rknn-host is for RKNN, for the fixture's generated table and
/// manifest (the router tests start it).
exit(HostMain.runIfRuntimeHost(Array(CommandLine.arguments.dropFirst()), runtimes: [HostedRuntimes.ct]) ?? 2)
