import Foundation
import Sodium
import XCTest
@testable import Ledger

final class KeyAndCreateTests: XCTestCase {
    func fastParameters() -> PassphraseParameters {
        PassphraseParameters(salt: Array(repeating: 7, count: Argon2id.saltByteCount),
                             opsLimit: Argon2id.minimumOpsLimit, memLimit: UInt64(Argon2id.minimumMemLimit))
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
    }

    func testCreateWritesKeyFileVerifierKeyAndPrivateDirectory() throws {
        let t = try TestLedger()
        XCTAssertEqual(try mode(t.keyPath) & 0o777, 0o600)
        XCTAssertEqual(try mode(t.directory) & 0o077, 0, "ledger directory is private")
        let keyText = try String(contentsOfFile: t.keyPath, encoding: .utf8)
        XCTAssertTrue(keyText.hasPrefix("ledger-master-key:v1:"))
        XCTAssertTrue(keyText.hasSuffix("\n"))
        let raw = Base64.decode(String(keyText.dropFirst("ledger-master-key:v1:".count).dropLast()))
        XCTAssertEqual(raw?.count, 32)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: t.directory))
        XCTAssertEqual(files, ["data.mdb", "ledger.lock", "lock.mdb", "verifier.key"])
    }

    func testWrongKeyFileIsRefused() throws {
        let t = try TestLedger()
        let other = try TestLedger()
        t.ledger.close()
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        assertLedgerError(try ledger.unlock(with: .keyFile(path: other.keyPath))) {
            if case .wrongKey = $0 { return true } else { return false }
        }
        assertLedgerError(try ledger.append(validRecord())) {
            if case .masterKeyRequired = $0 { return true } else { return false }
        }
        XCTAssertNoThrow(try ledger.unlock(with: .keyFile(path: t.keyPath)))
    }

    func testKeyFileReadableByOthersIsRefused() throws {
        let t = try TestLedger()
        t.ledger.close()
        for permissions in [0o644, 0o640, 0o604, 0o660] {
            chmod(t.keyPath, mode_t(permissions))
            let ledger = try Ledger.open(at: t.directory)
            assertLedgerError(try ledger.unlock(with: .keyFile(path: t.keyPath))) {
                guard case .keyFilePermissions(let path, let mode) = $0 else { return false }
                return path == t.keyPath && Int(mode & 0o777) == permissions && $0.description.contains("chmod 600")
            }
            ledger.close()
        }
        chmod(t.keyPath, 0o400)
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        XCTAssertNoThrow(try ledger.unlock(with: .keyFile(path: t.keyPath)), "owner read-only is fine")
    }

    func testMalformedOrMissingKeyFiles() throws {
        let t = try TestLedger()
        t.ledger.close()
        let ledger = try Ledger.open(at: t.directory)
        defer { ledger.close() }
        assertLedgerError(try ledger.unlock(with: .keyFile(path: t.temp.file("absent.key")))) {
            if case .keyFileMissing = $0 { return true } else { return false }
        }
        let contents = ["", "ledger-master-key:v1:\n",
                        "ledger-master-key:v2:" + Base64.encode(Array(repeating: 1, count: 32)),
                        "ledger-master-key:v1:" + Base64.encode(Array(repeating: 1, count: 31)),
                        "ledger-master-key:v1:!!!!", String(repeating: "x", count: 400)]
        for (i, text) in contents.enumerated() {
            let path = try t.temp.write("bad\(i).key", text)
            chmod(path, 0o600)
            assertLedgerError(try ledger.unlock(with: .keyFile(path: path))) {
                if case .keyFileMalformed = $0 { return !$0.description.contains("AQEBAQ") } else { return false }
            }
        }
        // A directory is not a key file.
        let dir = t.temp.file("keydir")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        assertLedgerError(try ledger.unlock(with: .keyFile(path: dir))) { _ in true }
        // A well-formed key of the right shape that is not this ledger's.
        let foreign = try t.temp.write("foreign.key",
                                       "ledger-master-key:v1:" + Base64.encode(Array(repeating: 1, count: 32)) + "\n")
        chmod(foreign, 0o600)
        assertLedgerError(try ledger.unlock(with: .keyFile(path: foreign))) {
            if case .wrongKey = $0 { return true } else { return false }
        }
    }

    func testCreateRefusesNonEmptyDirectory() throws {
        let temp = try TempDir()
        let dir = temp.file("ledger")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        _ = try temp.write("ledger/notes.txt", "keep me")
        assertLedgerError(try Ledger.create(at: dir, origin: "o",
                                            masterKey: .keyFile(path: temp.file("k"), allowInsideLedger: false))) {
            if case .ledgerDirectoryNotEmpty = $0 { return true } else { return false }
        }
        XCTAssertEqual(try String(contentsOfFile: temp.file("ledger/notes.txt"), encoding: .utf8), "keep me")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.file("k")))
        // A regular file in place of the directory is refused too.
        let file = try temp.write("plain", "x")
        assertLedgerError(try Ledger.create(at: file, origin: "o",
                                            masterKey: .keyFile(path: temp.file("k2"), allowInsideLedger: false))) {
            if case .ledgerDirectoryNotEmpty = $0 { return true } else { return false }
        }
        // An existing, empty directory is fine.
        let empty = temp.file("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: false)
        XCTAssertNoThrow(try Ledger.create(at: empty, origin: "o",
            masterKey: .keyFile(path: temp.file("k3"), allowInsideLedger: false)).close())
    }

    func testCreateRefusesExistingKeyFile() throws {
        let temp = try TempDir()
        let key = try temp.write("master.key", "precious")
        assertLedgerError(try Ledger.create(at: temp.file("ledger"), origin: "o",
                                            masterKey: .keyFile(path: key, allowInsideLedger: false))) {
            if case .keyFileExists = $0 { return true } else { return false }
        }
        XCTAssertEqual(try String(contentsOfFile: key, encoding: .utf8), "precious", "the existing key is untouched")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.file("ledger")), "no directory left behind")
    }

    func testCreateRefusesKeyInsideLedgerUnlessAllowed() throws {
        let temp = try TempDir()
        let dir = temp.file("ledger")
        for inside in [dir + "/master.key", dir + "/sub/../master.key", dir + "/./keys/master.key"] {
            assertLedgerError(try Ledger.create(at: dir, origin: "o",
                                                masterKey: .keyFile(path: inside, allowInsideLedger: false))) {
                if case .keyFileInsideLedger = $0 { return true } else { return false }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: inside))
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "no directory left behind")
        }
        // A sibling whose name merely starts with the ledger's is not inside.
        let sibling = temp.file("ledger2.key")
        let ledger = try Ledger.create(at: dir, origin: "o",
                                       masterKey: .keyFile(path: sibling, allowInsideLedger: false))
        ledger.close()

        let dir2 = temp.file("ledger-b")
        let insideKey = dir2 + "/master.key"
        let allowed = try Ledger.create(at: dir2, origin: "o",
                                        masterKey: .keyFile(path: insideKey, allowInsideLedger: true))
        XCTAssertNoThrow(try allowed.unlock(with: .keyFile(path: insideKey)))
        XCTAssertEqual(try allowed.append(validRecord()), .appended(seq: 0))
        allowed.close()
    }

    func testKeyInsideLedgerThroughSymlinkIsDetected() throws {
        let temp = try TempDir()
        let dir = temp.file("ledger")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: temp.file("alias"), withDestinationPath: dir)
        assertLedgerError(try Ledger.create(at: dir, origin: "o",
                                            masterKey: .keyFile(path: temp.file("alias/master.key"),
                                                                allowInsideLedger: false))) {
            if case .keyFileInsideLedger = $0 { return true } else { return false }
        }
    }

    func testInvalidOriginIsRefused() throws {
        let temp = try TempDir()
        for origin in ["", "has space", "a+b", "tab\there", "ünï", String(repeating: "o", count: 256)] {
            assertLedgerError(try Ledger.create(at: temp.file("l"), origin: origin,
                                                masterKey: .keyFile(path: temp.file("k"), allowInsideLedger: false))) {
                if case .invalidArgument = $0 { return true } else { return false }
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.file("l")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: temp.file("k")))
    }

    func testPassphraseMode() throws {
        let temp = try TempDir()
        let dir = temp.file("ledger")
        let right = SecretBytes(copying: Array("correct horse battery staple".utf8))
        let ledger = try Ledger.create(at: dir, origin: "o", masterKey: .passphrase(right, fastParameters()))
        XCTAssertEqual(ledger.keyMode, "passphrase")
        try ledger.unlock(with: .passphrase(right))
        XCTAssertEqual(try ledger.append(validRecord(["summary": "hello"])), .appended(seq: 0))
        ledger.close()
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: dir)),
                       ["data.mdb", "ledger.lock", "lock.mdb", "verifier.key"])

        let reopened = try Ledger.open(at: dir)
        defer { reopened.close() }
        assertLedgerError(try reopened.unlock(
            with: .passphrase(SecretBytes(copying: Array("Correct horse battery staple".utf8))))) {
            if case .wrongKey = $0 { return true } else { return false }
        }
        let keyFile = try temp.write("k",
                                     "ledger-master-key:v1:" + Base64.encode(Array(repeating: 1, count: 32)) + "\n")
        chmod(keyFile, 0o600)
        assertLedgerError(try reopened.unlock(with: .keyFile(path: keyFile))) {
            if case .otherKeyKind(usesPassphrase: true) = $0 { return true } else { return false }
        }
        try reopened.unlock(with: .passphrase(right))
        XCTAssertEqual(try reopened.entry(0).string("summary"), "hello")
        // The stored parameters are the ones given.
        let stored = try reopened.store.environment.read { try $0.meta(reopened.store, .kdf) }
        XCTAssertEqual(try stored!.withUnsafeBytes { try PassphraseParameters.decode($0) }, fastParameters())
    }

    func testFileModeLedgerRefusesAPassphrase() throws {
        let t = try TestLedger()
        assertLedgerError(try t.ledger.unlock(with: .passphrase(SecretBytes(copying: Array("pw".utf8))))) {
            if case .otherKeyKind(usesPassphrase: false) = $0 { return true } else { return false }
        }
    }

    func testPassphraseParametersEncoding() throws {
        let p = fastParameters()
        let bytes = p.encoded()
        XCTAssertEqual(bytes.count, 2 + 8 + 8 + 16)
        XCTAssertEqual(Array(bytes[0..<2]), [1, 2])
        XCTAssertEqual(try bytes.withUnsafeBytes { try PassphraseParameters.decode($0) }, p)
        for bad in [Array(bytes.dropLast()), bytes + [0], [2] + bytes.dropFirst(), [1, 1] + bytes.dropFirst(2)] {
            XCTAssertThrowsError(try bad.withUnsafeBytes { try PassphraseParameters.decode($0) })
        }
    }

    func testFailedCreateLeavesNoPartialLedger() throws {
        let temp = try TempDir()
        let dir = temp.file("ledger")
        let key = temp.file("no/such/dir/master.key")
        assertLedgerError(try Ledger.create(at: dir, origin: "o",
                                            masterKey: .keyFile(path: key, allowInsideLedger: false))) {
            if case .io = $0 { return true } else { return false }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: key))
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        XCTAssertEqual(leftovers, [], "no ledger files left behind")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "the directory create() made is removed again")
        // And the same paths work once the key's directory exists.
        try FileManager.default.createDirectory(atPath: temp.file("no/such/dir"), withIntermediateDirectories: true)
        let ledger = try Ledger.create(at: dir, origin: "o", masterKey: .keyFile(path: key, allowInsideLedger: false))
        try ledger.unlock(with: .keyFile(path: key))
        ledger.close()
    }

    func testFailureAfterTheKeyIsWrittenRemovesKeyAndLedger() throws {
        // Make the ledger directory unwritable after it is prepared: opening LMDB fails, so create must clean up.
        guard getuid() != 0 else { throw XCTSkip("root ignores directory permissions") }
        let temp = try TempDir()
        let dir = temp.file("ledger")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o500])
        defer { chmod(dir, 0o700) }
        let key = temp.file("master.key")
        XCTAssertThrowsError(try Ledger.create(at: dir, origin: "o",
                                               masterKey: .keyFile(path: key, allowInsideLedger: false)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: key), "no key without a ledger")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [])
    }
}
