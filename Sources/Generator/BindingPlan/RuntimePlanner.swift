import APIModel

/// A runtime as the host gets it: the annotations' runtime with every name it uses checked and
/// the functions the host calls on its own (abort, destroy) made explicit, as methods.
public struct RuntimePlan: Sendable, Equatable {
    public enum Hosting: Sendable, Equatable {
        case perInstance(of: String)
        case perClient(oneProcessWhen: String?)
        case oneProcess
    }

    public var namespace: String
    public var library: String
    public var simulatedLibrary: String?
    public var librarySetting: String?
    public var hosting: Hosting
    public var paths: [String: String]
    public var extensions: [String: [String]]
    public var parallelCalls: String?
    public var plugins: String?
    /// The headers' SDK version, how the library's own is found, and the setting that says it.
    public var abiVersion: String?
    public var versionMarker: String?
    public var abiSetting: String?
    /// Handle type -> aborting method; creating method -> destroying method.
    public var abortMethods: [String: String]
    public var destroyMethods: [String: String]
    /// The settings the runtime names, by name.
    public var settings: [String: SettingAnnotation]
    /// How it generates text, its calls named by method; nil when it does not or the annotation
    /// does not check out (a warning says why).
    public var generation: GenerationAnnotation?
}

extension Planner {
    static let settingKinds: Set<String> = ["count", "toggle", "file", "directory", "directories", "version"]

    /// Every declared runtime, by namespace; what does not check out is a warning (and left out).
    func planRuntimes(warnings notes: inout [String]) -> [RuntimePlan] {
        let functionNames = Set(model.functions.map(\.name))
        for (name, setting) in annotations.settings.sorted(by: { $0.key < $1.key })
        where !Self.settingKinds.contains(setting.kind) {
            notes.append("setting '\(name)': kind '\(setting.kind)' is not one of \(Self.settingKinds.sorted())")
        }
        let namespaces = Set(model.functions.map { Self.namespace(of: $0.name) })
        for namespace in namespaces.sorted() where annotations.runtimes[namespace] == nil {
            notes.append("the functions of '\(namespace)' have no runtime: declare one under 'runtimes'")
        }
        return annotations.runtimes.keys.sorted().map { namespace in
            let a = annotations.runtimes[namespace]!
            var settings: [String: SettingAnnotation] = [:]
            func setting(_ name: String?, _ role: String) -> String? {
                guard let name else { return nil }
                guard let declared = annotations.settings[name], Self.settingKinds.contains(declared.kind) else {
                    notes.append("runtime '\(namespace)': \(role) names setting '\(name)', which 'settings' lacks")
                    return nil
                }
                settings[name] = declared
                return name
            }
            let hosting: RuntimePlan.Hosting
            switch a.processPer {
            case "client": hosting = .perClient(oneProcessWhen: setting(a.oneProcessWhen, "one_process_when"))
            case "runtime": hosting = .oneProcess
            case let handle where annotations.handles[handle] != nil: hosting = .perInstance(of: handle)
            default:
                notes.append(
                    "runtime '\(namespace)': process_per '\(a.processPer)' is no handle type, 'client' or 'runtime'")
                hosting = .oneProcess
            }
            var aborts: [String: String] = [:]
            var destroys: [String: String] = [:]
            for (type, handle) in annotations.handles.sorted(by: { $0.key < $1.key })
            where handle.create.contains(where: { Self.namespace(of: $0) == namespace }) {
                if let abort = handle.abort, functionNames.contains(abort) { aborts[type] = Self.methodName(abort) }
                for creator in handle.create where functionNames.contains(creator) {
                    guard
                        let destroyer = handle.destroyWith?[creator]
                            ?? (handle.destroy.count == 1 ? handle.destroy[0] : nil),
                        functionNames.contains(destroyer)
                    else {
                        notes.append(
                            "handle '\(type)': name the function that destroys what '\(creator)' creates in 'destroy_with'"
                        )
                        continue
                    }
                    destroys[Self.methodName(creator)] = Self.methodName(destroyer)
                }
            }
            return RuntimePlan(
                namespace: namespace, library: a.library, simulatedLibrary: a.simulatedLibrary,
                librarySetting: setting(a.librarySetting, "library_setting"), hosting: hosting,
                paths: (a.paths ?? [:]).compactMapValues { setting($0, "paths") }, extensions: a.extensions ?? [:],
                parallelCalls: setting(a.parallelCalls, "parallel_calls"), plugins: setting(a.plugins, "plugins"),
                abiVersion: annotations.abiVersion, versionMarker: a.versionMarker,
                abiSetting: setting(a.abiSetting, "abi_setting"),
                abortMethods: aborts, destroyMethods: destroys, settings: settings,
                generation: a.generation.flatMap { checkedGeneration($0, namespace: namespace, warnings: &notes) })
        }
    }

    /// The generation annotation with its calls as method names, when each call is a bound
    /// function of this runtime and each placeholder one a front fills.
    func checkedGeneration(_ generation: GenerationAnnotation, namespace: String, warnings notes: inout [String])
        -> GenerationAnnotation?
    {
        let functions = Set(model.functions.map(\.name))
        var checked = generation
        var valid = true
        func check(_ step: GenerationAnnotation.Step?, _ role: String) -> GenerationAnnotation.Step? {
            guard var step else { return nil }
            if !functions.contains(step.call) || Self.namespace(of: step.call) != namespace {
                notes.append("runtime '\(namespace)': generation \(role) calls '\(step.call)', no function of it")
                valid = false
            }
            for placeholder in Self.placeholders(in: step.params)
            where !GenerationAnnotation.placeholders.contains(placeholder) {
                notes.append("runtime '\(namespace)': generation \(role) has '\(placeholder)', which no front fills")
                valid = false
            }
            step.call = Self.methodName(step.call)
            return step
        }
        checked.load = check(generation.load, "load")!
        checked.run = check(generation.run, "run")!
        checked.tools = check(generation.tools, "tools")
        if generation.load.handle == nil {
            notes.append("runtime '\(namespace)': generation load names no 'handle' member of its answer")
            valid = false
        }
        return valid ? checked : nil
    }

    /// The `$name` strings of a template.
    static func placeholders(in template: AnnotationJSON) -> [String] {
        switch template {
        case .string(let text) where text.hasPrefix("$"): return [text]
        case .array(let items): return items.flatMap(placeholders)
        case .object(let members): return members.values.flatMap(placeholders)
        default: return []
        }
    }

    /// The first `_`-separated word of a function's name: its method's namespace.
    static func namespace(of function: String) -> String {
        String(function.prefix { $0 != "_" })
    }
}
