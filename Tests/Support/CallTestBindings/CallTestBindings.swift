/// The generated bindings of the dispatch-test fixture `Tests/Fixtures/calltest/calltest.h`, written
/// by the BindingGenPlugin exactly as `RKBindings` is for `Headers/`.
@_exported import BindingRuntime
