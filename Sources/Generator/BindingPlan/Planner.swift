import APIModel

/// Decides how every declaration binds. A function is bound only when the C types and the
/// annotations leave no doubt; otherwise it is unbound with the reason and the annotation that
/// would bind it.
public struct Planner {
    public let model: APIModel
    public let annotations: Annotations
    /// Where annotation warnings point.
    public let annotationsFile: String

    public init(model: APIModel, annotations: Annotations, annotationsFile: String = "annotations.json") {
        self.model = model
        self.annotations = annotations
        self.annotationsFile = annotationsFile
    }

    /// The member paths of a record's counted pointer fields, through its nested records.
    private func bufferPaths(in recordName: String) -> [[String]] {
        guard let record = model.record(named: recordName) else { return [] }
        return record.fields.flatMap { field -> [[String]] in
            let prefix = field.isAnonymousMember ? [] : [field.name]
            switch field.type.resolved {
            case .record(let inner): return bufferPaths(in: inner).map { prefix + $0 }
            case .pointer:
                return annotations.fields["\(record.name).\(field.name)"]?.count != nil ? [prefix] : []
            default: return []
            }
        }
    }

    private static func isIntegerOrEnum(_ type: CType) -> Bool {
        switch type.resolved {
        case .integer, .char, .enumeration: return true
        default: return false
        }
    }

    private struct Unbound: Error {
        var reason: String
    }

    public func plan() -> BindingPlan {
        var warnings = annotationWarnings()
        let records = model.records.map { planRecord($0, warnings: &warnings) }
        var functions = model.functions.map(planFunction)
        planComposites(&functions, records: records, warnings: &warnings)
        planStreamLimits(&functions, warnings: &warnings)
        let callbacks = annotations.callbacks.keys.sorted().compactMap { name -> CallbackPlan? in
            guard let typedef = model.typedefs.first(where: { $0.name == name }),
                case .pointer(let to, _) = typedef.underlying.resolved, case .function(let f) = to.resolved
            else { return nil }
            let names = typedef.parameterNames ?? f.parameters.indices.map { "arg\($0 + 1)" }
            let a = annotations.callbacks[name]!
            let constants = model.enums.flatMap(\.constants)
            let finals = (a.final ?? []).compactMap { final in constants.first { $0.name == final }?.value }
            var plan = CallbackPlan(
                typedef: name, function: f, parameterNames: names, userdata: a.userdata,
                message: a.message, state: a.state, finalValues: finals, meaning: a.meaning)
            plan.pause = a.pause
            if let value = a.afterCopy {
                let message = a.message.flatMap { names.firstIndex(of: $0) }.map { f.parameters[$0].resolved }
                if case .pointer(let to, _)? = message, case .record(let record) = to.resolved {
                    plan.buffers = bufferPaths(in: record)
                }
                if plan.buffers.isEmpty {
                    warnings.append(
                        Diagnostic(
                            .warning, "\(name): after_copy needs a message struct with counted pointer fields",
                            at: typedef.location))
                } else {
                    plan.afterCopy = value
                }
            }
            return plan
        }
        var runtimeNotes: [String] = []
        let runtimes = planRuntimes(warnings: &runtimeNotes)
        warnings += runtimeNotes.map { Diagnostic(.warning, $0, at: SourceLocation(file: annotationsFile, line: 1)) }
        var plan = BindingPlan(
            model: model, functions: functions, records: records, callbacks: callbacks, runtimes: runtimes,
            warnings: warnings)
        plan.statusGroups = annotations.statuses.keys.sorted().map { planStatusGroup($0, warnings: &plan.warnings) }
        return plan
    }

    /// A status group's codes: the constants of its prefix (macros and enum constants) and the
    /// codes its meanings give by number.
    private func planStatusGroup(_ name: String, warnings: inout [Diagnostic]) -> StatusGroupPlan {
        let group = annotations.statuses[name]!
        var constants: [(name: String, value: Int64)] = model.enums.flatMap(\.constants).map { ($0.name, $0.value) }
        for macro in model.macros {
            if case .integer(let value) = macro.value { constants.append((macro.name, value)) }
        }
        var codes: [Int64: (name: String?, meaning: String?)] = [:]
        if let prefix = group.constants {
            for constant in constants where constant.name.hasPrefix(prefix) {
                codes[constant.value] = (constant.name, group.meanings[constant.name])
            }
        }
        for (key, meaning) in group.meanings where !key.contains(where: \.isLetter) {
            guard let code = Int64(key) else { continue }
            codes[code] = (codes[code]?.name, meaning)
        }
        for key in group.meanings.keys
        where key.contains(where: \.isLetter) && !constants.contains(where: { $0.name == key }) {
            warnings.append(
                Diagnostic(
                    .warning, "statuses '\(name)': '\(key)' is no constant of the headers",
                    at: SourceLocation(file: annotationsFile, line: 1)))
        }
        return StatusGroupPlan(
            name: name, codes: codes.keys.sorted(by: >).map { ($0, codes[$0]!.name, codes[$0]!.meaning) },
            source: group.source)
    }

    /// Method name: the first `_`-separated word is the namespace (`rknn_matmul_run` -> `rknn.matmul_run`).
    public static func methodName(_ function: String) -> String {
        guard let underscore = function.firstIndex(of: "_") else { return function }
        return function[..<underscore] + "." + function[function.index(after: underscore)...]
    }

    // MARK: annotations that name what the headers lack (older SDKs): warnings, not failures

    private func annotationWarnings() -> [Diagnostic] {
        var notes: [String] = []
        let functionNames = Set(model.functions.map(\.name))
        let recordNames = Set(model.records.map(\.name))
        let typedefNames = Set(model.typedefs.map(\.name))
        for key in annotations.functions.keys.sorted() where !key.hasSuffix("*") && !functionNames.contains(key) {
            notes.append("annotation for function '\(key)', which the headers do not declare")
        }
        for (handle, a) in annotations.handles.sorted(by: { $0.key < $1.key }) {
            if !typedefNames.contains(handle), !recordNames.contains(handle) {
                notes.append("handle type '\(handle)' is not declared by the headers")
            }
            for f in (a.create + a.destroy + [a.abort].compactMap { $0 } + (a.readsOnly ?? []))
            where !functionNames.contains(f) {
                notes.append("handle '\(handle)' names function '\(f)', which the headers do not declare")
            }
            if a.perRun != nil, a.shared != true {
                notes.append("handle '\(handle)': per_run needs a shared handle")
            }
            if let field = a.instanceField, let first = field.split(separator: ".").first {
                for f in a.create
                where model.function(named: f).map({ !$0.parameters.contains { $0.name == first } }) ?? false {
                    notes.append("handle '\(handle)': instance_field '\(field)' names no parameter of '\(f)'")
                }
            }
        }
        let constantNames = Set(model.enums.flatMap(\.constants).map(\.name))
        for (name, callback) in annotations.callbacks.sorted(by: { $0.key < $1.key }) {
            if !typedefNames.contains(name) {
                notes.append("callback typedef '\(name)' is not declared by the headers")
            }
            for final in callback.final ?? [] where !constantNames.contains(final) {
                notes.append("callback '\(name)': final state '\(final)' is not an enum constant of the headers")
            }
        }
        for key in annotations.fields.keys.sorted() {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let record = model.record(named: parts[0]) else {
                notes.append("field annotation '\(key)' names a record the headers do not declare")
                continue
            }
            if !allFields(of: record).contains(where: { $0.name == parts[1] }) {
                notes.append("field annotation '\(key)': \(parts[0]) has no field '\(parts[1])'")
            }
        }
        for name in annotations.unions.keys.sorted() where !recordNames.contains(name) {
            notes.append("union annotation for '\(name)', which the headers do not declare")
        }
        for (record, maker) in annotations.defaultMakers.sorted(by: { $0.key < $1.key }) {
            if !recordNames.contains(record) || !functionNames.contains(maker) {
                notes.append("default maker '\(maker)' for '\(record)': not declared by the headers")
            }
        }
        return notes.map { Diagnostic(.warning, $0, at: SourceLocation(file: annotationsFile, line: 1)) }
    }

    /// A record's fields with anonymous members' fields inlined.
    func allFields(of record: Record) -> [Field] {
        record.fields.flatMap { field -> [Field] in
            if field.isAnonymousMember, case .record(let name) = field.type, let inner = model.record(named: name) {
                return allFields(of: inner)
            }
            return [field]
        }
    }

    // MARK: records

    private func planRecord(_ record: Record, warnings: inout [Diagnostic]) -> RecordPlan {
        var plans: [FieldPlan] = []
        var opaque: String?
        for field in record.fields {
            let role = fieldRole(field, in: record)
            if case .omitted(let reason) = role, reason.hasPrefix("unsupported") {
                opaque = "\(record.name).\(field.name): \(reason)"
            }
            plans.append(FieldPlan(field: field, role: role))
        }
        if let opaque {
            warnings.append(
                Diagnostic(
                    .warning, "\(record.name) is an opaque blob of \(record.size) bytes: \(opaque)",
                    at: record.location))
        }
        let maker = annotations.defaultMakers[record.name].flatMap { name in
            model.function(named: name).map { _ in name }
        }
        let descriptors = record.fields.filter { field in
            guard annotations.fields["\(record.name).\(field.name)"]?.fd == true else { return false }
            if case .integer = field.type.resolved { return true }
            warnings.append(
                Diagnostic(
                    .warning, "\(record.name).\(field.name) is annotated fd but is not an integer", at: record.location)
            )
            return false
        }.map(\.name)
        let position = record.fields.first { field in
            guard annotations.fields["\(record.name).\(field.name)"]?.position == true else { return false }
            if case .integer = field.type.resolved { return true }
            warnings.append(
                Diagnostic(
                    .warning, "\(record.name).\(field.name) is annotated position but is not an integer",
                    at: record.location))
            return false
        }?.name
        var plan = RecordPlan(
            record: record, fields: plans, opaqueReason: opaque, defaultMaker: maker,
            union: annotations.unions[record.name], descriptorFields: descriptors, positionField: position)
        for field in record.fields {
            let a = annotations.fields["\(record.name).\(field.name)"]
            if let value = a?.default { plan.fieldDefaults.append((field.name, value)) }
            guard let path = a?.defaultFileNameOf else { continue }
            if record.fields.contains(where: { $0.name == path }) {
                plan.fileNameDefaults.append((field.name, path))
            } else {
                warnings.append(
                    Diagnostic(
                        .warning, "\(record.name).\(field.name): default_file_name_of '\(path)' is no field of it",
                        at: record.location))
            }
        }
        return plan
    }

    private func fieldRole(_ field: Field, in record: Record) -> FieldRole {
        let a = annotations.fields["\(record.name).\(field.name)"]
        if a?.omit == true { return .omitted(reason: "omitted by annotation") }
        if field.isAnonymousMember, case .record(let name) = field.type { return .anonymousMember(name) }
        let type = field.type.resolved
        switch type {
        case .bool, .integer, .floating, .enumeration, .char:
            return .value(field.type)
        case .record(let name):
            return .record(name)
        case .array(let element, let count?):
            if case .char = element.resolved { return .charArray(count: count) }
            var leaf = element.resolved
            var total = count
            while case .array(let inner, let n?) = leaf {
                leaf = inner.resolved
                total *= n
            }
            switch leaf {
            case .bool, .integer, .floating, .enumeration, .record: return .fixedArray(element: leaf, count: total)
            default: return .omitted(reason: "unsupported: array of \(leaf.spelling)")
            }
        case .pointer(let to, _):
            let pointee = to.resolved
            if let length = a?.buffer { return .buffer(length: length) }
            if a?.count != nil || a?.array == true {
                return .pointerArray(
                    element: pointee, count: a?.count ?? [], base64: a?.base64 ?? false, atLeast: a?.atLeast ?? [])
            }
            if case .char = pointee { return .string(pathKind: a?.path) }
            if case .record(let name) = pointee { return .optionalRecord(name) }
            if case .function = pointee { return .omitted(reason: "function pointer: supplied on the host side") }
            return .omitted(
                reason: "\(field.type.spelling) without an annotation (fields.\(record.name).\(field.name))")
        case .unsupported(let reason):
            return .omitted(reason: "unsupported: \(reason)")
        default:
            return .omitted(reason: "unsupported: \(field.type.spelling)")
        }
    }

    // MARK: functions

    private func planFunction(_ function: Function) -> FunctionPlan {
        let a = annotations.function(function.name)
        var plan = FunctionPlan(
            function: function, method: Self.methodName(function.name), bound: true, reason: nil,
            params: [], returns: .void, blocking: a.blocking ?? false,
            creates: annotations.handles.first { $0.value.create.contains(function.name) }?.key,
            destroys: annotations.handles.first { $0.value.destroy.contains(function.name) }?.key,
            aborts: annotations.handles.first { $0.value.abort == function.name }?.key,
            releasedBy: nil,
            makesDefaultFor: annotations.defaultMakers.first { $0.value == function.name }?.key)
        do {
            let names = Set(function.parameters.map(\.name))
            for key in (a.params ?? [:]).keys.sorted() where !names.contains(key) {
                throw Unbound(reason: "the annotation names parameter '\(key)', which \(function.name) does not have")
            }
            plan.params = try function.parameters.map { p in
                let annotation = a.params?[p.name] ?? ParamAnnotation()
                let role = try paramRole(p, annotation: annotation, in: function)
                if annotation.default != nil {
                    guard case .value(let type) = role, Self.isIntegerOrEnum(type) else {
                        throw Unbound(reason: "'\(p.name)' has a default but is no integer or enum")
                    }
                }
                return ParamPlan(
                    name: p.name, type: p.type, role: role,
                    minBytes: try annotation.bytes.map { try byteSize($0, of: p, in: function) },
                    defaultValue: annotation.default, requiredByAnnotation: annotation.required,
                    aliases: (annotation.aliases ?? [:]).sorted { $0.key < $1.key }.map {
                        ParamAlias(name: $0.key, member: $0.value == "." ? nil : $0.value)
                    })
            }
            try checkOutputBuffers(plan)
            try markDerivedParams(&plan)
            plan.returns = try returnRole(function, status: a.status)
            if let name = a.releaseWith { plan.releasedBy = try releaser(name, of: function) }
            plan.privileged = a.privileged ?? false
            for name in a.holds ?? [] where !hasIntegerParameter(name, function) {
                throw Unbound(reason: "holds '\(name)', which is no integer parameter of \(function.name)")
            }
            plan.holdsBytes = a.holds ?? []
            plan.meaning = a.meaning
            plan.statuses = a.statuses.flatMap { annotations.statuses[$0] != nil ? $0 : nil }
            plan.sharedState = sharedStateEffect(plan)
            for param in plan.params {
                guard case .callbacks(_, let fields) = param.role else { continue }
                plan.notes += fields.compactMap { f in f.nullBecause.map { "\(param.name).\(f.field) is NULL: \($0)" } }
            }
            if let created = plan.creates, let handle = annotations.handles[created] {
                plan.sharesCreated = handle.shared ?? false
                plan.instanceField = handle.instanceField?.split(separator: ".").map(String.init)
                if handle.shared == true {
                    for param in plan.jsonParams {
                        guard case .record(let record, .in) = param.role, let maker = annotations.defaultMakers[record],
                            model.function(named: maker)?.parameters.isEmpty == true
                        else { continue }
                        plan.defaults[param.name] = Self.methodName(maker)
                    }
                    if let perRun = handle.perRun, plan.defaults[perRun.from] != nil { plan.perRun = perRun }
                }
            }
        } catch let unbound as Unbound {
            plan.bound = false
            plan.reason = unbound.reason
            plan.params = []
        } catch {
            plan.bound = false
            plan.reason = "\(error)"
        }
        return plan
    }

    /// What a call taking a shared handle does to the state that handle's other users see:
    /// nothing for its creating, destroying and aborting functions and those the annotations call
    /// `reads_only`; a change when a streaming call keeps its state (`state_kept_when`); else a change.
    private func sharedStateEffect(_ plan: FunctionPlan) -> SharedStateEffect {
        let name = plan.function.name
        for p in plan.params {
            guard case .handle(let type) = p.role, let handle = annotations.handles[type], handle.shared == true else {
                continue
            }
            if handle.create.contains(name) || handle.destroy.contains(name) || handle.abort == name
                || (handle.readsOnly ?? []).contains(name)
            {
                return .none
            }
            if plan.callbackContextTypedef != nil, let path = handle.stateKeptWhen {
                return .changesWhen(path.split(separator: ".").map(String.init))
            }
            return .changes
        }
        return .none
    }

    /// The function named to free a call's results: its parameters must be the call's first ones.
    private func releaser(_ name: String, of function: Function) throws -> Function {
        guard let release = model.function(named: name) else {
            throw Unbound(reason: "release_with names '\(name)', which the headers do not declare")
        }
        let leading = function.parameters.prefix(release.parameters.count).map(\.type.spelling)
        guard release.parameters.count <= function.parameters.count, leading == release.parameters.map(\.type.spelling)
        else {
            throw Unbound(reason: "release_with '\(name)' must take \(function.name)'s leading parameters")
        }
        return release
    }

    private func handleName(_ type: CType) -> String? {
        if let name = type.typedefChain.first(where: { annotations.handles[$0] != nil }) { return name }
        if case .pointer(let to, _) = type.resolved, case .record(let name) = to.resolved,
            annotations.handles[name] != nil
        {
            return name
        }
        return nil
    }

    /// An output buffer as long as an input one is safe only when the function is told that length
    /// (a `length` parameter) or the input declares how much the function reads (`bytes`): else the
    /// function may write past it.
    private func checkOutputBuffers(_ plan: FunctionPlan) throws {
        for p in plan.params {
            guard case .outBuffer(let other) = p.role, let source = plan.params.first(where: { $0.name == other })
            else { continue }
            if case .buffer(nil, _, _) = source.role, source.minBytes == nil {
                throw Unbound(
                    reason:
                        "output buffer '\(p.name)' is as long as '\(other)', whose length \(plan.function.name) is not told: "
                        + "declare how many bytes it reads with \"bytes\" on '\(other)'")
            }
        }
    }

    private func hasIntegerParameter(_ name: String, _ function: Function) -> Bool {
        guard let p = function.parameters.first(where: { $0.name == name }), case .integer = p.type.resolved else {
            return false
        }
        return true
    }

    /// A buffer's `bytes` annotation checked against the function: integer parameters, and an enum
    /// field of a struct parameter whose constants it names.
    private func byteSize(_ b: ByteSizeAnnotation, of p: Parameter, in function: Function) throws -> ByteSize {
        for name in b.product where !hasIntegerParameter(name, function) {
            throw Unbound(
                reason: "the bytes of '\(p.name)' multiply '\(name)', which is no integer parameter of \(function.name)"
            )
        }
        guard let selector = b.bits else { return ByteSize(product: b.product, bitsOf: nil, bits: [:], defaultBits: 8) }
        let path = selector.of.split(separator: ".").map(String.init)
        guard path.count == 2, let param = function.parameters.first(where: { $0.name == path[0] }) else {
            throw Unbound(
                reason:
                    "the bytes of '\(p.name)' take their bits of '\(selector.of)': name a struct parameter and its field"
            )
        }
        var type = param.type.resolved
        if case .pointer(let to, _) = type { type = to.resolved }
        guard case .record(let recordName) = type, let record = model.record(named: recordName),
            let field = record.fields.first(where: { $0.name == path[1] }),
            case .enumeration(let enumName) = field.type.resolved,
            let decl = model.enumeration(named: enumName)
        else {
            throw Unbound(
                reason:
                    "the bytes of '\(p.name)' take their bits of '\(selector.of)', which is no enum field of a struct parameter"
            )
        }
        var bits: [Int64: Int] = [:]
        for (constant, value) in selector.values {
            guard let c = decl.constants.first(where: { $0.name == constant }) else {
                throw Unbound(reason: "the bytes of '\(p.name)': '\(constant)' is no constant of \(enumName)")
            }
            bits[c.value] = value
        }
        return ByteSize(product: b.product, bitsOf: (path[0], path[1]), bits: bits, defaultBits: selector.default)
    }

    private func direction(_ a: ParamAnnotation, _ p: Parameter, in function: Function, what: String) throws
        -> Direction
    {
        guard let word = a.direction else {
            throw Unbound(
                reason: "\(what) '\(p.type.spelling) \(p.name)' may be read, written or both: "
                    + "annotate functions.\(function.name).params.\(p.name) as \"in\", \"out\" or \"inout\"")
        }
        guard let d = Direction(rawValue: word) else {
            throw Unbound(reason: "parameter '\(p.name)': direction '\(word)' is not in, out or inout")
        }
        return d
    }

    private func paramRole(_ p: Parameter, annotation a: ParamAnnotation, in function: Function) throws -> ParamRole {
        let type = p.type.resolved
        if a.null == true { return .null }
        if let fields = a.callbacks { return try callbackStruct(p, fields) }
        if a.callback == true || isFunctionPointer(type) {
            guard let typedef = p.type.typedefChain.first(where: { annotations.callbacks[$0] != nil }) else {
                throw Unbound(
                    reason: "callback parameter '\(p.name)' of type \(p.type.spelling): declare the typedef in "
                        + "callbacks with its userdata parameter so the host can supply it")
            }
            return .callback(typedef)
        }
        if let callback = a.callbackContext {
            guard annotations.callbacks[callback] != nil else {
                throw Unbound(
                    reason: "parameter '\(p.name)' is the userdata of '\(callback)', which callbacks does not declare")
            }
            return .callbackContext(callback)
        }
        if a.fd == true {
            guard case .integer = type else { throw Unbound(reason: "fd parameter '\(p.name)' is not an integer") }
            for name in a.maps ?? [] where !hasIntegerParameter(name, function) {
                throw Unbound(
                    reason: "fd parameter '\(p.name)' maps '\(name)', which is no integer parameter of \(function.name)"
                )
            }
            return .fd(p.type, maps: a.maps ?? [])
        }
        if let other = a.sizeOf { return .sizeOf(other) }
        if let selector = a.typeBy {
            return .selected(
                selector: selector.param, cases: try selectedCases(selector, function: function),
                direction: try direction(a, p, in: function, what: "selected-type pointer"))
        }
        if let handle = handleName(p.type) { return .handle(handle) }
        if case .pointer(let to, _) = type, let handle = handleName(to) {
            switch try direction(a, p, in: function, what: "pointer to handle") {
            case .out: return .handleOut(handle)
            case .in: return .handleIn(handle)
            case .inout: throw Unbound(reason: "pointer to handle '\(p.name)' cannot be inout")
            }
        }
        switch type {
        case .bool, .integer, .floating, .enumeration, .char:
            return .value(p.type)
        case .array(let element, _):
            return .array(
                element: element, direction: try direction(a, p, in: function, what: "array"),
                count: arrayCount(a))
        case .pointer(let to, let isConst):
            let pointee = to.resolved
            if a.buffer == true || a.length != nil {
                return .buffer(
                    length: a.length, stringMeansZeroLength: a.stringMeansZeroLength ?? false, pathKind: a.path)
            }
            if let other = a.sameSizeAs { return .outBuffer(sameSizeAs: other) }
            if let plugin = a.plugin {
                guard case .record(let name) = pointee, plugin.library.contains("{"), plugin.library.contains("}")
                else {
                    throw Unbound(
                        reason:
                            "plugin parameter '\(p.name)' must point to structs, and its library name must hold {member}"
                    )
                }
                return .plugins(record: name, count: a.count, library: plugin.library, symbol: plugin.symbol)
            }
            if a.count != nil || a.countParam != nil || a.array == true {
                return .array(
                    element: to, direction: try direction(a, p, in: function, what: "array"), count: arrayCount(a))
            }
            switch pointee {
            case .char where isConst: return .string(pathKind: a.path)
            case .record(let name):
                if isConst { return .record(name, .in) }
                return .record(name, try direction(a, p, in: function, what: "pointer"))
            case .bool, .integer, .floating, .enumeration:
                switch try direction(a, p, in: function, what: "pointer") {
                case .out: return .scalarOut(to)
                default:
                    throw Unbound(
                        reason: "pointer to a number '\(p.name)': only out is supported; "
                            + "for an array give functions.\(function.name).params.\(p.name).count")
                }
            case .void:
                throw Unbound(
                    reason: "void* parameter '\(p.name)': annotate it as a buffer, callback_context, type_by or null")
            default:
                throw Unbound(reason: "parameter '\(p.name)' of type \(p.type.spelling) has no JSON form; annotate it")
            }
        case .unsupported(let reason):
            throw Unbound(reason: "parameter '\(p.name)': \(reason)")
        default:
            throw Unbound(reason: "parameter '\(p.name)' of type \(p.type.spelling) has no JSON form")
        }
    }

    /// A pointer to a struct of callbacks: every function-pointer field of the struct is named in
    /// the annotation, supplied (a host-supplied typedef) or left NULL with the reason.
    private func callbackStruct(_ p: Parameter, _ annotated: [String: CallbackFieldAnnotation]) throws -> ParamRole {
        guard case .pointer(let to, _) = p.type.resolved, case .record(let name) = to.resolved,
            let record = model.record(named: name)
        else {
            throw Unbound(reason: "parameter '\(p.name)' has callbacks but is no pointer to a struct")
        }
        let pointers = allFields(of: record).filter { isFunctionPointer($0.type.resolved) }
        for key in annotated.keys.sorted() where !pointers.contains(where: { $0.name == key }) {
            throw Unbound(reason: "callbacks of '\(p.name)' name '\(key)', which is no function pointer of \(name)")
        }
        return .callbacks(
            record: name,
            try pointers.map { field in
                guard let annotation = annotated[field.name] else {
                    throw Unbound(
                        reason: "callback '\(field.name)' of \(name): say in params.\(p.name).callbacks whether the "
                            + "host supplies it ({}) or leaves it NULL ({\"null\": why})")
                }
                if let why = annotation.null { return CallbackField(field: field.name, typedef: nil, nullBecause: why) }
                guard let typedef = field.type.typedefChain.first(where: { annotations.callbacks[$0] != nil }) else {
                    throw Unbound(
                        reason: "callback '\(field.name)' of \(name) (\(field.type.spelling)): declare its typedef in "
                            + "callbacks so the host can supply it, or leave it NULL")
                }
                return CallbackField(field: field.name, typedef: typedef, nullBecause: nil)
            })
    }

    private func isFunctionPointer(_ type: CType) -> Bool {
        if case .pointer(let to, _) = type, case .function = to.resolved { return true }
        return false
    }

    private func arrayCount(_ a: ParamAnnotation) -> ArrayCount {
        if let c = a.countParam { return .jsonParam(name: c.name, defaultValue: c.default, max: c.max) }
        if let c = a.count { return .param(c) }
        return .jsonLength
    }

    private func selectedCases(_ selector: TypeSelector, function: Function) throws -> [SelectedCase] {
        guard let param = function.parameters.first(where: { $0.name == selector.param }),
            case .enumeration(let enumName) = param.type.resolved, let decl = model.enumeration(named: enumName)
        else {
            throw Unbound(
                reason: "type_by names '\(selector.param)', which is not an enum parameter of \(function.name)")
        }
        return try selector.cases.keys.sorted().map { constant in
            guard let value = decl.constants.first(where: { $0.name == constant })?.value else {
                throw Unbound(reason: "type_by case '\(constant)' is not a constant of \(enumName)")
            }
            let record = selector.cases[constant]!
            guard model.record(named: record) != nil else {
                throw Unbound(reason: "type_by case '\(constant)' names record '\(record)', which the headers lack")
            }
            return SelectedCase(constant: constant, value: value, record: record)
        }
    }

    /// Parameters that other parameters give their value to (counts, lengths) leave the JSON.
    private func markDerivedParams(_ plan: inout FunctionPlan) throws {
        var derived: [String: ParamRole] = [:]
        for p in plan.params {
            switch p.role {
            case .array(_, let d, .param(let count)):
                // An in array sets its count; an out array's count is given in JSON.
                if d != .out { derived[count] = .countOf(p.name) }
            case .buffer(let length?, _, _), .plugins(_, let length?, _, _):
                derived[length] = .countOf(p.name)
            default: break
            }
        }
        for (name, role) in derived {
            guard let i = plan.params.firstIndex(where: { $0.name == name }) else {
                throw Unbound(
                    reason: "annotation names count/length parameter '\(name)', which \(plan.function.name) lacks")
            }
            guard case .value(let t) = plan.params[i].role, case .integer = t.resolved else {
                throw Unbound(reason: "count/length parameter '\(name)' is not an integer")
            }
            plan.params[i].role = role
        }
    }

    private func returnRole(_ function: Function, status: String?) throws -> ReturnRole {
        let rule = try status.map { word -> StatusRule in
            guard let r = StatusRule(rawValue: word) else {
                throw Unbound(reason: "status '\(word)' is not a known rule")
            }
            return r
        }
        switch function.result.resolved {
        case .void: return .void
        case .integer, .bool, .floating, .enumeration:
            if let rule, rule == .nonzeroIsError || rule == .negativeIsError { return .status(rule) }
            return .value(function.result)
        case .record(let name): return .record(name)
        case .pointer(let to, let isConst):
            if let handle = handleName(function.result) { return .handle(handle) }
            // A `const char*` result is a string the library keeps: read it, never free it.
            if isConst, case .char = to.resolved { return .value(function.result) }
            throw Unbound(reason: "returns \(function.result.spelling): declare the pointee as a handle type")
        default:
            throw Unbound(reason: "return type \(function.result.spelling) has no JSON form")
        }
    }
}
