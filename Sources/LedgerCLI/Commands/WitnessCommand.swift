import ArgumentParser
import Foundation
import Ledger
import LedgerSupport
import Logging
import RecordFormats
import Witness

/// `ledger witness …`: the ledger's witness policy (`<ledger>/witnesses.policy`), and a witness server an insurer
/// can run (docs/OPERATIONS.md, "Witnesses").
struct WitnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Configure the witnesses that cosign checkpoints, or run a witness (c2sp.org/tlog-witness).",
        subcommands: [WitnessAdd.self, WitnessRemove.self, WitnessList.self, WitnessQuorum.self, WitnessKeygen.self,
                      WitnessServe.self, WitnessAcknowledge.self, WitnessLoad.self])
}

/// `ledger witness acknowledge`: after investigating a recorded refusal (e.g. with the witness's operator, whose
/// `<state>/refused/` holds the refused note), record who concluded what. The refusal stays recorded; `verify
/// --policy` then lists it as acknowledged instead of failing on it.
struct WitnessAcknowledge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acknowledge",
        abstract: "Acknowledge a recorded witness refusal after investigating it (kept; verify --policy then notes it).")

    @OptionGroup var location: LedgerLocation
    @OptionGroup var keys: KeyOptions
    @Option(help: "The witness's name, as `verify --policy` reports it.") var witness: String
    @Option(help: "The refused checkpoint size, as `verify --policy` reports it.") var size: UInt64
    @OptionGroup var actor: RetentionActor

    func run() throws {
        let ledger = try openUnlocked(location, keys)
        let now = Int64(Date().timeIntervalSince1970)
        let count = try ledger.acknowledgeWitnessRefusal(
            witness: witness, checkpointSize: size,
            WitnessAcknowledgement(at: now, by: actor.actor, reason: actor.reason))
        Terminal.note("acknowledged \(count) refusal\(count == 1 ? "" : "s") by \(witness) of checkpoint size \(size)")
    }
}

/// The policy file of the ledger at `location`, created (log line only, `quorum none`) when absent.
struct PolicyLocation {
    let ledger: Ledger
    var path: String { (ledger.directory as NSString).appendingPathComponent(PolicyFile.fileName) }

    init(_ location: LedgerLocation) throws {
        ledger = try Ledger.open(at: location.directory(), readOnly: true)
    }

    func load() throws -> PolicyFile {
        guard FileManager.default.fileExists(atPath: path) else { return PolicyFile(logKey: ledger.storedVerifierKey) }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
            throw FileError(path: path, detail: "cannot read (unreadable or over 1 MiB)")
        }
        let file = try PolicyFile(parsing: Array(data))
        guard file.logKey == ledger.storedVerifierKey else {
            throw LedgerError.invalidArgument("\(path): its log key is not this ledger's verifier key")
        }
        return file
    }

    func save(_ file: PolicyFile) throws {
        _ = try file.policy()
        try AtomicFile.write(file.text, to: path, mode: 0o644)
    }
}

struct WitnessAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Add a witness (its name, cosignature vkey and URL) to witnesses.policy.")

    @OptionGroup var location: LedgerLocation
    @Argument(help: "The witness's name (its vkey's key name).") var name: String
    @Argument(help: "The witness's vkey (cosignature/v1, from `ledger witness keygen`).") var vkey: String
    @Argument(help: "The witness's base URL (http or https); requests go to <URL>/add-checkpoint.") var url: String
    @Option(help: "How many witnesses must cosign: any, all or a number (default: unchanged; all for a new file).")
    var quorum: String?

    func run() throws {
        let place = try PolicyLocation(location)
        var file = try place.load()
        try file.add(name: name, vkey: vkey, url: url)
        if let parsed = URL(string: url), parsed.scheme == "http",
           !["127.0.0.1", "localhost", "::1", "[::1]"].contains(parsed.host ?? "") {
            // A cosignature cannot be forged on the way, but a 409 or 422 answer is unsigned: on plain http anyone on
            // the path could make the ledger record a refusal that `verify --policy` then reports.
            Terminal.warning("\(name) is reached over plain http: use https for a witness outside this machine")
        }
        if let quorum { try file.setQuorum(PolicyFile.Quorum(parsing: quorum)) }
        try place.save(file)
        print("added witness \(name); quorum: \(file.quorum) of \(file.witnesses.count) (\(place.path))")
    }
}

struct WitnessRemove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove a witness.")

    @OptionGroup var location: LedgerLocation
    @Argument var name: String

    func run() throws {
        let place = try PolicyLocation(location)
        var file = try place.load()
        try file.remove(name: name)
        try place.save(file)
        print("removed witness \(name); \(file.witnesses.count) left")
    }
}

struct WitnessQuorum: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quorum", abstract: "Set how many witnesses must cosign: any, all or a number.")

    @OptionGroup var location: LedgerLocation
    @Argument var quorum: String

    func run() throws {
        let place = try PolicyLocation(location)
        var file = try place.load()
        try file.setQuorum(PolicyFile.Quorum(parsing: quorum))
        try place.save(file)
        print("quorum: \(file.quorum) of \(file.witnesses.count)")
    }
}

struct WitnessList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the witnesses, the quorum and the size each last cosigned.")

    @OptionGroup var location: LedgerLocation
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let place = try PolicyLocation(location)
        let file = try place.load()
        let sizes = try file.witnesses.map { try place.ledger.witnessedSize(vkey: $0.vkey) }
        if json {
            let witnesses: [JSONValue] = zip(file.witnesses, sizes).map { w, size in
                .object(JSONObject([("name", .string(w.name)), ("vkey", .string(w.vkey)), ("url", .string(w.url)),
                                    ("lastCosignedSize", .integer(Int64(size)))]))
            }
            print(JSONWriter.string(.object(JSONObject([
                ("policy", .string(place.path)), ("log", .string(file.logKey)),
                ("quorum", .string(file.witnesses.isEmpty ? "none" : file.quorum.description)),
                ("witnesses", .array(witnesses)),
            ]))))
            return
        }
        print("policy: \(place.path)")
        print("log:    \(file.logKey)")
        print("quorum: " + (file.witnesses.isEmpty ? "none (no witnesses)" : "\(file.quorum) of \(file.witnesses.count)"))
        guard !file.witnesses.isEmpty else { return }
        Terminal.table(header: ["NAME", "LAST COSIGNED", "URL", "VKEY"],
                       rows: zip(file.witnesses, sizes).map { [$0.name, String($1), $0.url, $0.vkey] })
    }
}

struct WitnessKeygen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Create a witness key file (mode 0600, never overwritten) and print its vkey.")

    @Option(help: "The witness's name, e.g. witness.insurer.example.") var name: String
    @Option(help: ArgumentHelp("Where to write the private key.", valueName: "path")) var keyFile: String

    func run() throws {
        print(try WitnessKey.generate(name: name, path: keyFile).text)
    }
}

struct WitnessServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a tlog-witness server: POST /add-checkpoint, cosigning checkpoints of the given logs.",
        discussion: "Prints `listening on HOST:PORT` once bound (port 0 picks a free port). Put it behind a "
            + "TLS-terminating reverse proxy for the firm. Stops on SIGTERM or SIGINT after the requests in flight.")

    @Option(help: ArgumentHelp("Address to listen on.", valueName: "host:port")) var listen = "127.0.0.1:8080"
    @Option(help: ArgumentHelp("State directory (latest cosigned size and root per log).", valueName: "dir"))
    var state: String
    @Option(help: ArgumentHelp("The witness key file (mode 0600).", valueName: "path")) var keyFile: String
    @Option(name: .customLong("log"), help: ArgumentHelp("A log's verifier key (repeatable).", valueName: "vkey"))
    var logs: [String] = []
    @Option(help: ArgumentHelp("A file of log verifier keys, one per line.", valueName: "path")) var logFile: String?

    func run() throws {
        let cosigner = try WitnessKey.load(path: keyFile)
        let trusted = try TrustedLogs(vkeys: logs + (logFile.map { try TrustedLogs.lines(ofFile: $0) } ?? []))
        let store = try StateStore(directory: state)
        let logger = {
            var logger = Logger(label: "ledger.witness")
            logger.logLevel = Logger.Level(rawValue: Environment.value("LEDGER_LOG_LEVEL") ?? "") ?? .notice
            return logger
        }()
        let service = WitnessService(cosigner: cosigner, logs: trusted, state: store, logger: logger)
        let listen = listen
        let count = trusted.keys.count
        let origins = store.origins
        try waitFor {
            try await WitnessServer.serve(service: service, listen: listen, logger: logger) { address in
                FileHandle.standardOutput.write(Data("listening on \(address)\n".utf8))
                logger.notice("witness \(cosigner.name) serving \(count) logs (\(origins) in state) on \(address)")
            }
        }
    }
}

struct WitnessLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Measure a witness: bounded add-checkpoint load over keep-alive connections (loopback).",
        shouldDisplay: false)

    @Option(help: ArgumentHelp("The witness to load.", valueName: "host:port")) var target = "127.0.0.1:8080"
    @Option(help: "Logs, one connection each.") var logs = 32
    @Option(help: "Requests in all (at most 1,000,000).") var requests = 20000
    @Option(help: "Stop after this many seconds (at most 600).") var timeLimit = 60.0
    @Flag(help: "Print the logs' verifier keys (for `witness serve --log-file`) and exit.") var printLogKeys = false

    func validate() throws {
        guard (1...1024).contains(logs), (1...1_000_000).contains(requests), timeLimit > 0, timeLimit <= 600 else {
            throw ValidationError("--logs 1…1024, --requests 1…1000000, --time-limit up to 600")
        }
    }

    func run() throws {
        if printLogKeys {
            try LoadGenerator.logKeys(count: logs).forEach { print($0) }
            return
        }
        let (host, port) = try WitnessServer.parseListen(target)
        let (logs, requests, timeLimit) = (logs, requests, timeLimit)
        let report = try waitFor {
            try await LoadGenerator.run(host: host, port: port, requests: requests, connections: logs,
                                        timeLimit: timeLimit)
        }
        print(String(format: "%d requests in %.2f s: %.0f requests/s over %d connections", report.requests,
                     report.seconds, report.perSecond, logs))
        print("statuses: " + report.statuses.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }
            .joined(separator: ", ") + (report.errors > 0 ? ", \(report.errors) without a response" : ""))
    }
}
