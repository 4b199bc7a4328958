/// The Swift a dispatch entry runs for one C parameter, by phase, so that what one parameter
/// needs of another is always there: read from JSON (`decode`), then values that depend on other
/// parameters (`derive`: lengths, counts, sizes), storage the call fills (`allocate`), checks
/// before the call (`check`); the C argument itself; and after the call, what goes back into the
/// result (`encode`). The template shows an entry's shape; this is what fills it.
struct ArgumentPlan {
    var decode: [String] = []
    var derive: [String] = []
    var allocate: [String] = []
    var check: [String] = []
    /// The C argument passed to the function.
    var argument: String
    /// Statements after the call; `members` are result members (name, Swift expression).
    var encode: [String] = []
    var members: [(name: String, value: String)] = []

    init(argument: String) { self.argument = argument }
}

/// The local names one parameter's Swift uses, in one place: the C value passed, and what its
/// conversion keeps on the way.
struct ParamVariables {
    let name: String
    /// The C argument.
    var value: String { "p_\(name)" }
    /// The decoded JSON (an array, bytes, plugin names).
    var decoded: String { "j_\(name)" }
    /// A buffer's byte length.
    var byteCount: String { "l_\(name)" }
    /// A handle passed by pointer.
    var handle: String { "h_\(name)" }
    /// An out array's element count.
    var count: String { "n_\(name)" }
    /// A selected struct's size and its reader back into JSON.
    var selectedSize: String { "s_\(name)" }
    var selectedReader: String { "r_\(name)" }

    init(_ name: String) { self.name = name }
}
