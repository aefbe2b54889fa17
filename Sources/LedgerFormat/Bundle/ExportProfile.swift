import Foundation
import RecordFormats

/// Why a field is withheld from a bundle. Only these four are accepted (docs/EXPORT.md).
public enum RedactionReason: String, Sendable, CaseIterable {
    case attorneyClientPrivilege = "attorney-client privilege"
    case workProduct = "work product"
    case personalData = "personal data"
    case notRequested = "not requested"

    public static let `default` = RedactionReason.attorneyClientPrivilege

    /// Parses a reason, naming the accepted ones when it is not one of them.
    public static func parse(_ text: String) throws -> RedactionReason {
        guard let reason = RedactionReason(rawValue: text) else {
            throw ExportError.invalidProfile("unknown redaction reason '\(text)'; use one of: "
                + allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "))
        }
        return reason
    }
}

/// What an export does with one field of one entry.
public enum FieldDecision: Sendable, Equatable {
    case reveal
    case redact(RedactionReason)
}

/// A redaction profile: which fields a bundle reveals, and why the others are withheld.
///
/// Precedence for one field of one entry, highest first:
/// 1. an explicit `--redact FIELD[:REASON]` (redacted, that reason);
/// 2. an explicit `--reveal FIELD` (revealed, even in a privileged entry);
/// 3. a privileged entry (`privileged: true`): content fields are redacted as attorney-client privilege;
/// 4. the profile: revealed if listed, otherwise redacted with the profile's reason for it.
public struct ExportProfile: Sendable, Equatable {
    public var name: String
    /// Fields the profile reveals.
    public var reveal: Set<String>
    /// Reasons for specific redacted fields; others get `defaultReason`.
    public var reasons: [String: RedactionReason]
    public var defaultReason: RedactionReason
    /// Command-line overrides.
    public var explicitReveal: Set<String> = []
    public var explicitRedact: [String: RedactionReason] = [:]

    public init(name: String, reveal: Set<String>, reasons: [String: RedactionReason] = [:],
                defaultReason: RedactionReason = .default) {
        self.name = name
        self.reveal = reveal
        self.reasons = reasons
        self.defaultReason = defaultReason
    }

    /// Content fields: what was said, to whom, about what. Redacted in privileged entries whatever the profile says.
    public static let contentFields: Set<String> = ["client", "subject", "summary", "decisions",
                                                    "recipients", "attachments", "tags"]

    public static func isContentField(_ name: String) -> Bool {
        contentFields.contains(name) || name.hasPrefix("x-")
    }

    /// Fields that are neither communication metadata nor content:
    /// withheld as "not requested" by the built-in profiles.
    package static let bookkeepingFields: [String: RedactionReason] = [
        "sourceSystem": .notRequested, "sourceId": .notRequested, "privileged": .notRequested,
    ]

    package static let insurerReveal: Set<String> = ["matter", "author", "channel", "direction", "kind",
                                             "urgency", "occurredAt",
                                             "outcome", "durationMinutes", "followUpDue", "inReplyTo", "corrects"]

    /// Communication metadata only; content and bookkeeping fields withheld.
    public static let insurer = ExportProfile(name: "insurer", reveal: insurerReveal, reasons: bookkeepingFields)

    /// Like `insurer`, and the author (a staff member's name) withheld as personal data too.
    public static let metadata: ExportProfile = {
        var reasons = bookkeepingFields
        reasons["author"] = .personalData
        return ExportProfile(name: "metadata", reveal: insurerReveal.subtracting(["author"]), reasons: reasons)
    }()

    /// Every field revealed (privileged entries still withhold content unless `--reveal` names the field).
    public static let full = ExportProfile(name: "full", reveal: Set(RecordSchema.knownFields), reasons: [:])

    public static let builtIn: [String: ExportProfile] = ["insurer": insurer, "metadata": metadata, "full": full]

    /// `full` reveals every field, including x-… fields.
    package var revealsEverything: Bool { name == "full" && reasons.isEmpty && reveal == Set(RecordSchema.knownFields) }

    /// True when the profile itself (not an explicit `--reveal`) reveals privileged content:
    /// needs the acknowledgement flag.
    public var revealsContent: Bool {
        revealsEverything || reveal.contains(where: Self.isContentField)
    }

    /// The decision for `field` of an entry (see the precedence above).
    public func decide(_ field: String, privileged: Bool) -> FieldDecision {
        if let reason = explicitRedact[field] { return .redact(reason) }
        if explicitReveal.contains(field) { return .reveal }
        if privileged && Self.isContentField(field) { return .redact(.attorneyClientPrivilege) }
        if revealsEverything || reveal.contains(field) { return .reveal }
        return .redact(reasons[field] ?? defaultReason)
    }

    /// Whether the profile (before per-entry privilege) withholds `field`.
    public func withholds(_ field: String) -> Bool {
        if case .redact = decide(field, privileged: false) { return true }
        return false
    }

    /// Validates a field name given on the command line or in a profile file: a schema field or an x-… field.
    public static func validateFieldName(_ name: String) throws {
        guard RecordSchema.types[name] != nil || RecordSchema.isExtensionName(name) else {
            throw ExportError.invalidProfile(
                "unknown field '\(name)'; fields are: \(RecordSchema.knownFields.joined(separator: ", ")) or x-…")
        }
    }

    /// Applies `--reveal FIELD` and `--redact FIELD[:REASON]` (REASON defaults to the profile's default reason).
    public mutating func applyOverrides(reveal: [String], redact: [String]) throws {
        for field in reveal {
            try Self.validateFieldName(field)
            explicitReveal.insert(field)
        }
        for spec in redact {
            let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let field = parts[0]
            try Self.validateFieldName(field)
            let reason = parts.count == 2 ? try RedactionReason.parse(parts[1]) : defaultReason
            guard !explicitReveal.contains(field) else {
                throw ExportError.invalidProfile("field '\(field)' is both revealed and redacted")
            }
            explicitRedact[field] = reason
        }
    }

    /// Reads a profile file: `{"name": "...", "reveal": [...], "redact": {"field": "reason"}, "defaultReason": "..."}`.
    /// Every key but `name` is optional; unknown keys, unknown fields and unknown reasons are errors.
    public static func load(file path: String) throws -> ExportProfile {
        func invalid(_ what: String) -> ExportError { .invalidProfile("\(path): \(what)") }
        let object = try profileObject(path)
        for key in object.keys where !["name", "reveal", "redact", "defaultReason"].contains(key) {
            throw invalid("unknown key '\(key)' (allowed: name, reveal, redact, defaultReason)")
        }
        guard case .string(let name)? = object["name"], !name.isEmpty, name.utf8.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7f }) else {
            throw invalid("'name' must be a non-empty string of at most 64 bytes")
        }
        guard !["insurer", "metadata", "full"].contains(name) else {
            throw invalid("the name '\(name)' belongs to a built-in profile; choose another")
        }
        let reveal = try revealedFields(object["reveal"], invalid: invalid)
        var defaultReason = RedactionReason.default
        if let value = object["defaultReason"] {
            guard case .string(let text) = value else { throw invalid("'defaultReason' must be a string") }
            defaultReason = try RedactionReason.parse(text)
        }
        let reasons = try redactionReasons(object["redact"], revealed: reveal, invalid: invalid)
        return ExportProfile(name: name, reveal: reveal, reasons: reasons, defaultReason: defaultReason)
    }

    /// The profile file's JSON object (at most 1 MiB).
    private static func profileObject(_ path: String) throws -> JSONObject {
        guard let data = FileManager.default.contents(atPath: path) else { throw ExportError.inputNotFound(path) }
        guard data.count <= 1 << 20 else { throw ExportError.invalidProfile("\(path): over 1 MiB") }
        do {
            guard case .object(let object) = try JSONParser.parse([UInt8](data)) else {
                throw ExportError.invalidProfile("\(path): not a JSON object")
            }
            return object
        } catch let error as JSONParseError {
            throw ExportError.invalidProfile("\(path): \(error)")
        }
    }

    /// `reveal`: an array of schema field names.
    private static func revealedFields(_ value: JSONValue?, invalid: (String) -> ExportError) throws -> Set<String> {
        guard let value else { return [] }
        guard case .array(let items) = value else { throw invalid("'reveal' must be an array of field names") }
        var reveal = Set<String>()
        for item in items {
            guard case .string(let field) = item else { throw invalid("'reveal' must be an array of field names") }
            try validateFieldName(field)
            reveal.insert(field)
        }
        return reveal
    }

    /// `redact`: an object {field: reason}, no field also revealed.
    private static func redactionReasons(_ value: JSONValue?, revealed: Set<String>,
                                         invalid: (String) -> ExportError) throws -> [String: RedactionReason] {
        guard let value else { return [:] }
        guard case .object(let map) = value else { throw invalid("'redact' must be an object {field: reason}") }
        var reasons = [String: RedactionReason]()
        for (field, reasonValue) in map {
            try validateFieldName(field)
            guard case .string(let text) = reasonValue else { throw invalid("reason for '\(field)' must be a string") }
            guard !revealed.contains(field) else { throw invalid("'\(field)' is both revealed and redacted") }
            reasons[field] = try RedactionReason.parse(text)
        }
        return reasons
    }

    /// The profile as recorded in the manifest.
    package var manifestJSON: JSONValue {
        var redact = JSONObject()
        for (field, reason) in reasons.sorted(by: { $0.key < $1.key }) {
            _ = redact.updateValue(.string(reason.rawValue), forKey: field)
        }
        var explicitRedactJSON = JSONObject()
        for (field, reason) in explicitRedact.sorted(by: { $0.key < $1.key }) {
            _ = explicitRedactJSON.updateValue(.string(reason.rawValue), forKey: field)
        }
        return .object(JSONObject([
            ("name", .string(name)),
            ("reveal", .array((revealsEverything ? ["*"] : reveal.sorted()).map { .string($0) })),
            ("redact", .object(redact)),
            ("defaultReason", .string(defaultReason.rawValue)),
            ("explicitReveal", .array(explicitReveal.sorted().map { .string($0) })),
            ("explicitRedact", .object(explicitRedactJSON)),
            ("privilegedContentWithheld", .bool(true)),
        ]))
    }
}
