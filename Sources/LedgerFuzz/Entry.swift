import FuzzTargets
import Foundation

/// libFuzzer's entry point: the target is chosen by LEDGER_FUZZ_TARGET (tools/fuzz.sh sets it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    selected.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// The target LEDGER_FUZZ_TARGET names; `list` prints every target's name and exits.
let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["LEDGER_FUZZ_TARGET"] ?? ""
    if name == "list" {
        print(FuzzTargets.all.map(\.name).joined(separator: "\n"))
        exit(0)
    }
    guard let target = FuzzTargets.named(name) else {
        FileHandle.standardError.write(Data("LEDGER_FUZZ_TARGET must name one of: \(FuzzTargets.all.map(\.name))\n".utf8))
        exit(64)
    }
    return target
}()

#if FUZZING
/// libFuzzer's driver (LLVM's `LLVMFuzzerRunDriver`); SwiftPM links an executable's entry point as
/// `<module>_main`, so this is where libFuzzer is started.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("LedgerFuzz_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    _ = selected  // `list`, or an unknown name, answers before libFuzzer starts
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer: replays files (a corpus or a crash) through the target, one after another.
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            data.withUnsafeBytes { selected.run($0) }
        }
    }
}
#endif
