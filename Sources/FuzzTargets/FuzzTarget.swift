/// A fuzz target: one parser of hostile input, fed arbitrary bytes. It must return (whatever it answers, and
/// whatever error it throws) and never crash, leak or hang. A differential target runs two implementations of one
/// rule and traps (`agree`) when they disagree. Fuzz/README.md lists the targets and how to run them.
public struct FuzzTarget: Sendable {
    public let name: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(_ name: String, _ run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.run = run
    }
}

public enum FuzzTargets {
    /// Every target, by name (the name is also its corpus directory under Fuzz/corpus).
    public static let all: [FuzzTarget] = [
        jsonRecord, jsonCanonical, csvImport, jsonLinesImport, leaf, payload, signedNote, verifierKey,
        hashes, base64, aead, plainString, bundle, entryLine, proofs, reportPolicy, ledgerFile, event, mappingFile,
        practiceImport, age, tlogPolicy, tlogProof, addCheckpoint, cosignerKey, receipt, entryGroup,
    ]

    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// Traps when a differential target's two implementations disagree: libFuzzer records the input as a crash.
@inline(never)
func agree(_ condition: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
    if !condition() { preconditionFailure("implementations disagree: \(what())") }
}
