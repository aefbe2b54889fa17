// swift-tools-version:6.0
// The tamper-evident, encrypted ledger of a law firm's client communications.
// Layers (dependencies point down; docs/ARCHITECTURE.md draws the graph):
//   LedgerCLI -> LedgerBench -> Ledger (engine) -> {LedgerReport, LedgerBundle} -> LedgerFormat -> LedgerSupport
//   and below them: MerkleLog, SignedNote, RecordFormats, Sodium, LMDB (only the engine imports LMDB);
//   Age (age-encryption.org/v1 over Sodium) is used by the CLI only (sealed bundles).
import PackageDescription

let package = Package(
    name: "ClientLedger",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex; the product targets Linux
    products: [
        .executable(name: "ledger", targets: ["LedgerCLI"]),
        .library(name: "Ledger", targets: ["Ledger"]),
        // The offline verifier alone, for an auditor's own tools: it cannot reach LMDB or keys.
        .library(name: "LedgerBundle", targets: ["LedgerBundle"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // `ledger witness serve` (the Witness target only): HTTP/1.1 routing, keep-alive and graceful shutdown.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // C libraries, found with pkg-config. Only Sodium and LMDB import them.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),

        // Which vector kernel (AVX-512, AVX2, none) the C modules below run, chosen once; tests lower it.
        .target(name: "CKernel"),
        // BLAKE2b with a precomputed key block, for many short keyed hashes. Only Sodium imports it.
        .target(name: "CBLAKE2b", dependencies: ["CKernel"]),
        // Base64url encoding with AVX-512 VBMI or AVX2 (no memory tables). Only Sodium imports it.
        .target(name: "CBase64", dependencies: ["CKernel"]),
        // ChaCha20 on 16 or 8 blocks at once (AVX-512, AVX2), for the AEAD. Only Sodium imports it.
        .target(name: "CChaCha20", dependencies: ["CKernel"]),
        // Safe Swift over libsodium: AEAD, Ed25519, Argon2id, KDF, random, secret bytes.
        .target(name: "Sodium", dependencies: ["CSodium", "CBLAKE2b", "CBase64", "CChaCha20"]),
        // age-encryption.org/v1 (c2sp.org/age): X25519 recipients, sealing and opening in memory. Pure; via Sodium.
        .target(name: "Age", dependencies: ["Sodium"]),
        // Safe Swift over liblmdb: environment, transactions as closures, cursors, typed errors.
        .target(name: "LMDB", dependencies: ["CLMDB"]),
        // SHA-256 in C: the x86 SHA extensions when the CPU has them, portable C otherwise. MerkleLog imports it, and
        // LedgerFormat for hashing an entry's disclosures together (`csha256_many`).
        .target(name: "CSHA256"),
        // Pure RFC 6962 math: record/node hashes, stored-hash index, proofs. No I/O.
        .target(name: "MerkleLog", dependencies: ["CSHA256"]),
        // C2SP signed notes and tlog checkpoints (Ed25519 via Sodium).
        .target(name: "SignedNote", dependencies: ["Sodium"]),
        // C2SP transparency-log formats over signed notes: tlog-policy, tlog-witness requests and verdicts,
        // tlog-proof receipts, cosigned checkpoints checked against a policy. Pure; no I/O.
        .target(name: "Transparency", dependencies: ["MerkleLog", "SignedNote", "Sodium"]),
        // The end of a plain JSON string 64 or 32 bytes at a time (AVX-512BW, AVX2). Only LedgerFormat imports it.
        .target(name: "CTextScan", dependencies: ["CKernel"]),
        // Strict JSON (integers only, no duplicate keys, canonical output) and RFC 4180 CSV.
        .target(name: "RecordFormats"),
        // Small shared helpers with no format knowledge: parallel work, atomic files, the clock, process memory.
        .target(name: "LedgerSupport", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // The formats: leaf, disclosure, encrypted payload, record schema, bundle names and zip container, profiles.
        .target(name: "LedgerFormat", dependencies: [
            "LedgerSupport", "MerkleLog", "Sodium", "RecordFormats", "CSHA256", "CTextScan",
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // The offline bundle verifier: a bundle and a verifier key in, a report out. No LMDB, no keys, no engine.
        .target(name: "LedgerBundle", dependencies: [
            "LedgerFormat", "LedgerSupport", "MerkleLog", "SignedNote", "RecordFormats", "Sodium", "Transparency",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // The compliance computation (cadence, response times, promised follow-ups) and its renderings. No LMDB.
        .target(name: "LedgerReport", dependencies: ["LedgerFormat", "LedgerSupport", "RecordFormats"]),
        // Other systems' exports mapped onto the record schema (practice-management systems, mapping files). Pure.
        .target(name: "LedgerImport", dependencies: ["LedgerFormat", "LedgerSupport", "RecordFormats"]),
        // The engine: append, read, keys, checkpoints, verify, export, import.
        .target(name: "Ledger", dependencies: [
            "LedgerSupport", "LedgerFormat", "LedgerBundle", "LedgerReport", "LedgerImport",
            "Sodium", "LMDB", "MerkleLog", "SignedNote", "RecordFormats", "Transparency",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
        ]),
        // One HTTP POST through libcurl, loaded with dlopen when a witness is asked (no link-time libcurl: see ccurl.h).
        .target(name: "CCurl"),
        // tlog-witness: the `ledger witness serve` server and its durable state, the add-checkpoint HTTP client and
        // the load generator. Over Transparency; never the engine. Only the CLI imports it.
        .target(name: "Witness", dependencies: [
            "CCurl", "LedgerSupport", "MerkleLog", "SignedNote", "Sodium", "Transparency",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // `ledger bench`: synthetic records and the timed runs. Used only by the CLI.
        .target(name: "LedgerBench", dependencies: ["Ledger", "LedgerFormat", "LedgerSupport", "RecordFormats", "Sodium"]),
        // The `ledger` command: argument parsing, terminal output, exit codes. No logic.
        .executableTarget(name: "LedgerCLI", dependencies: [
            "Age", "Ledger", "LedgerBench", "LedgerBundle", "LedgerFormat", "LedgerImport", "LedgerReport", "LedgerSupport",
            "Witness", "Transparency", "SignedNote", "MerkleLog",
            "Sodium",  // only SecretBytes, to hold a sealed bundle's plaintext
            "LMDB",  // only LMDBError, to give a storage failure that escaped the engine its exit status
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Fuzz targets: every parser of hostile input (docs in Fuzz/README.md), and `ledger-fuzz`, their libFuzzer
        // driver (built by tools/fuzz.sh with -sanitize=fuzzer; a plain build replays files through one target).
        .target(name: "FuzzTargets", dependencies: [
            "Age", "Ledger", "LedgerBundle", "LedgerFormat", "LedgerImport", "LedgerReport", "LedgerSupport",
            "LMDB", "MerkleLog", "RecordFormats", "SignedNote", "Sodium", "Transparency",
        ]),
        .executableTarget(name: "LedgerFuzz", dependencies: ["FuzzTargets"]),

        .testTarget(name: "SodiumTests", dependencies: ["Sodium"]),
        .testTarget(name: "LMDBTests", dependencies: ["LMDB"]),
        .testTarget(name: "AgeTests", dependencies: ["Age", "Sodium"]),
        .testTarget(name: "MerkleLogTests", dependencies: ["MerkleLog"]),
        .testTarget(name: "SignedNoteTests", dependencies: ["SignedNote", "Sodium"]),
        .testTarget(name: "TransparencyTests", dependencies: ["Transparency", "SignedNote", "MerkleLog", "Sodium"]),
        .testTarget(name: "WitnessTests", dependencies: [
            "Witness", "Transparency", "SignedNote", "MerkleLog", "Sodium", "LedgerSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "RecordFormatsTests", dependencies: ["RecordFormats"]),
        .testTarget(name: "LedgerSupportTests", dependencies: ["LedgerSupport"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "MerkleLog", "SignedNote", "Transparency"]),
        .testTarget(name: "LedgerTests", dependencies: [
            "Ledger", "LedgerBench", "LedgerBundle", "LedgerFormat", "LedgerImport", "LedgerReport", "LedgerSupport",
            "Sodium", "LMDB", "MerkleLog", "SignedNote", "RecordFormats", "Transparency",
        ]),
        .testTarget(name: "LedgerCLITests", dependencies: [
            "Ledger", "LedgerCLI", "LedgerBundle", "LedgerFormat", "LedgerSupport", "LMDB", "RecordFormats",
            "SignedNote", "Sodium",  // receipt tests cosign the stored checkpoint as a witness would
        ]),
    ]
)
