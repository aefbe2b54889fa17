import CLMDB

/// Flags for `Environment.init`. `MDB_NOTLS` is always added (Swift moves work between threads).
public struct EnvironmentFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_RDONLY`: open read-only; `write` fails with `EACCES`.
    public static let readOnly = EnvironmentFlags(rawValue: UInt32(MDB_RDONLY))
    /// `MDB_NOSYNC`: do not fsync on commit. A crash may lose (or, with some
    /// file systems, corrupt) the last transactions. Never set by default.
    public static let noSync = EnvironmentFlags(rawValue: UInt32(MDB_NOSYNC))
    /// `MDB_NOMETASYNC`: fsync data but not the meta page on commit.
    public static let noMetaSync = EnvironmentFlags(rawValue: UInt32(MDB_NOMETASYNC))
    /// `MDB_NORDAHEAD`: turn off OS read-ahead (useful when the DB is larger than RAM).
    public static let noReadAhead = EnvironmentFlags(rawValue: UInt32(MDB_NORDAHEAD))
    /// `MDB_NOSUBDIR`: `path` names the data file itself (lock file is `path-lock`).
    public static let noSubdirectory = EnvironmentFlags(rawValue: UInt32(MDB_NOSUBDIR))
}

/// Flags for `Environment.openDatabase`.
public struct DatabaseFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_CREATE`: create the named database if it does not exist (needs a write transaction).
    public static let create = DatabaseFlags(rawValue: UInt32(MDB_CREATE))
    /// `MDB_DUPSORT`: several sorted values per key.
    public static let dupSort = DatabaseFlags(rawValue: UInt32(MDB_DUPSORT))
    /// `MDB_DUPFIXED`: with `dupSort`, all values of a key have the same size.
    public static let dupFixed = DatabaseFlags(rawValue: UInt32(MDB_DUPFIXED))
    /// `MDB_INTEGERKEY`: keys are native-endian `UInt32` or `UInt` (size_t), compared as integers.
    public static let integerKey = DatabaseFlags(rawValue: UInt32(MDB_INTEGERKEY))
    /// `MDB_INTEGERDUP`: with `dupSort`, values are native-endian integers.
    public static let integerDup = DatabaseFlags(rawValue: UInt32(MDB_INTEGERDUP))
}

/// Flags for `put`/`reserve`.
public struct PutFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// `MDB_NOOVERWRITE`: fail with `MDB_KEYEXIST` if the key exists.
    public static let noOverwrite = PutFlags(rawValue: UInt32(MDB_NOOVERWRITE))
    /// `MDB_APPEND`: the key sorts after every existing key (fast bulk load);
    /// otherwise fails with `MDB_KEYEXIST`.
    public static let append = PutFlags(rawValue: UInt32(MDB_APPEND))
    /// `MDB_APPENDDUP`: as `append`, for the values of a `dupSort` key.
    public static let appendDup = PutFlags(rawValue: UInt32(MDB_APPENDDUP))
    /// `MDB_NODUPDATA`: in a `dupSort` database, fail with `MDB_KEYEXIST` if the key/value pair exists.
    public static let noDupData = PutFlags(rawValue: UInt32(MDB_NODUPDATA))
}

/// An opaque handle to a (named) database inside an `Environment`.
/// Valid for the lifetime of the environment that opened it.
public struct Database: Sendable, Hashable {
    let dbi: UInt32
    init(dbi: UInt32) { self.dbi = dbi }
}

/// `mdb_stat` of one database.
public struct DatabaseStat: Sendable, Hashable {
    public let entries: Int
    public let depth: Int
    /// Branch + leaf + overflow pages.
    public let pages: Int
    public let pageSize: Int

    init(_ s: MDB_stat) {
        entries = s.ms_entries
        depth = Int(s.ms_depth)
        pages = s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages
        pageSize = Int(s.ms_psize)
    }
}
